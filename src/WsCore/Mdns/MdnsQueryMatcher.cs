using System.Net;
using System.Net.Sockets;
using Makaretu.Dns;

namespace WsCore.Mdns;

/// <summary>
/// Builds mDNS queries and picks the records that answer them out of received messages. Pure functions; no I/O.
/// </summary>
internal static class MdnsQueryMatcher
{
    /// <summary>
    /// One query message asking for the A and/or AAAA records of <paramref name="hostName"/> (RFC 6762 §5.2: both
    /// questions in one message, so one round trip serves both families). ID 0 and no flags (§18).
    /// </summary>
    public static Message BuildAddressQuery(DomainName hostName, bool ipv4, bool ipv6, DomainName? serviceType = null)
    {
        var query = new Message { Id = 0, QR = false };
        // A PTR question for the service type: responders answer with their instance's SRV (the port) beside it
        // (RFC 6763 §12.1), so one query gives both.
        if (serviceType is not null)
            query.Questions.Add(new Question
            {
                Name = serviceType,
                Type = DnsType.PTR,
                Class = MdnsWire.QuestionClass(false)
            });
        if (ipv4)
            query.Questions.Add(new Question
            {
                Name = hostName,
                Type = DnsType.A,
                Class = MdnsWire.QuestionClass(false)
            });
        if (ipv6)
            query.Questions.Add(new Question
            {
                Name = hostName,
                Type = DnsType.AAAA,
                Class = MdnsWire.QuestionClass(false)
            });
        return query;
    }

    /// <summary>
    /// True if <paramref name="message"/> is an mDNS response worth reading: QR set, standard query opcode,
    /// no error (RFC 6762 §18.3-18.11: responses with other opcodes or rcodes are silently ignored).
    /// </summary>
    public static bool IsResponse(Message message) =>
        message.QR && message.Opcode == MessageOperation.Query && message.Status == MessageStatus.NoError;

    /// <summary>Every record of a response: the answer section and then the additional section (RFC 6762 §6).</summary>
    public static IEnumerable<ResourceRecord> AllRecords(Message response) =>
        response.Answers.Concat(response.AuthorityRecords).Concat(response.AdditionalRecords);

    /// <summary>
    /// The addresses a response gives for <paramref name="hostName"/>: A and AAAA records in any section whose
    /// name matches case-insensitively, whose class is IN once the cache-flush bit is masked, and whose TTL is not
    /// 0 (a TTL of 0 is a goodbye, RFC 6762 §10.1). IPv6 link-local addresses get <paramref name="scopeId"/>.
    /// </summary>
    public static IEnumerable<IPAddress> MatchAddresses(Message response, DomainName hostName, int scopeId)
    {
        foreach (var record in AllRecords(response))
        {
            if (record is not AddressRecord address || record.TTL <= TimeSpan.Zero)
                continue;
            if (MdnsWire.BaseClass(record.Class) != DnsClass.IN || !MdnsWire.NamesEqual(record.Name, hostName))
                continue;
            yield return WithScope(address.Address, scopeId);
        }
    }

    /// <summary>An IPv6 link-local address is only usable with its interface: give it the scope id.</summary>
    public static IPAddress WithScope(IPAddress address, int scopeId)
    {
        if (address.AddressFamily != AddressFamily.InterNetworkV6 || !address.IsIPv6LinkLocal
            || address.ScopeId == scopeId)
            return address;
        return new IPAddress(address.GetAddressBytes(), scopeId);
    }

    /// <summary>Addresses ordered IPv4 first, each once, keeping arrival order within a family.</summary>
    public static List<IPAddress> OrderIPv4First(IEnumerable<IPAddress> addresses)
    {
        var distinct = addresses.Distinct().ToList();
        return [.. distinct.Where(a => a.AddressFamily == AddressFamily.InterNetwork),
                .. distinct.Where(a => a.AddressFamily != AddressFamily.InterNetwork)];
    }
}

/// <summary>
/// Collects address answers for one host name across many responses. Sans-IO: feed it messages, ask when done.
/// Not thread-safe: one resolve loop owns it.
/// </summary>
internal sealed class MdnsAddressCollector(DomainName hostName)
{
    private readonly List<IPAddress> _addresses = [];

    /// <summary>The host name being resolved.</summary>
    public DomainName HostName { get; } = hostName;

    /// <summary>The interface index of the first response that gave an address, or null.</summary>
    public int? FirstInterfaceIndex { get; private set; }

    /// <summary>True once an IPv4 address arrived.</summary>
    public bool HasIPv4 => _addresses.Any(a => a.AddressFamily == AddressFamily.InterNetwork);

    /// <summary>True once an IPv6 address arrived.</summary>
    public bool HasIPv6 => _addresses.Any(a => a.AddressFamily == AddressFamily.InterNetworkV6);

    /// <summary>Every address so far, IPv4 first.</summary>
    public IReadOnlyList<IPAddress> Addresses => MdnsQueryMatcher.OrderIPv4First(_addresses);

    /// <summary>The port of an SRV record whose target is the host (a service instance on it), or null.</summary>
    public int? ServicePort { get; private set; }

    /// <summary>Reads a received message; returns true if it added an address not seen before.</summary>
    public bool Add(Message message, int interfaceIndex)
    {
        if (!MdnsQueryMatcher.IsResponse(message))
            return false;
        var added = false;
        foreach (var srv in MdnsQueryMatcher.AllRecords(message).OfType<SRVRecord>())
            if (srv.TTL > TimeSpan.Zero && MdnsWire.NamesEqual(srv.Target, HostName))
                ServicePort ??= srv.Port;
        foreach (var address in MdnsQueryMatcher.MatchAddresses(message, HostName, interfaceIndex))
        {
            if (_addresses.Contains(address))
                continue;
            _addresses.Add(address);
            FirstInterfaceIndex ??= interfaceIndex;
            added = true;
        }
        return added;
    }
}
