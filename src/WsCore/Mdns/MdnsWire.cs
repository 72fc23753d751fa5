using System.Net;
using Makaretu.Dns;

namespace WsCore.Mdns;

/// <summary>
/// Wire-level facts of Multicast DNS (RFC 6762) that Makaretu.Dns does not model: the group addresses, the port,
/// the top bit of the class field (cache-flush in records, unicast-response in questions) and safe parsing.
/// Pure functions; no I/O.
/// </summary>
internal static class MdnsWire
{
    /// <summary>RFC 6762 §3: every mDNS message goes to and comes from UDP port 5353.</summary>
    public const int Port = 5353;

    /// <summary>RFC 6762 §3: the IPv4 link-local multicast group.</summary>
    public static readonly IPAddress GroupV4 = IPAddress.Parse("224.0.0.251");

    /// <summary>RFC 6762 §3: the IPv6 link-local multicast group.</summary>
    public static readonly IPAddress GroupV6 = IPAddress.Parse("ff02::fb");

    /// <summary>RFC 6762 §17: a receiver must accept messages up to 9000 bytes (jumbo frames).</summary>
    public const int MaxMessageSize = 9000;

    /// <summary>
    /// RFC 6762 §10.2 / §5.4: the top bit of rrclass (cache-flush) and of qclass (unicast response wanted).
    /// </summary>
    public const ushort TopClassBit = 0x8000;

    /// <summary>RFC 6762 §10: records naming a host (A, AAAA, SRV) live 120 s.</summary>
    public static readonly TimeSpan HostRecordTtl = TimeSpan.FromSeconds(120);

    /// <summary>RFC 6762 §10: other records (PTR, TXT) live 75 minutes.</summary>
    public static readonly TimeSpan OtherRecordTtl = TimeSpan.FromSeconds(4500);

    /// <summary>RFC 6762 §6.7: legacy unicast responses carry TTLs of at most 10 s.</summary>
    public static readonly TimeSpan LegacyUnicastMaxTtl = TimeSpan.FromSeconds(10);

    /// <summary>
    /// The class without the mDNS top bit. Makaretu.Dns reads the 16-bit field as is, so a cache-flush A record
    /// arrives with class 0x8001, which is not <see cref="DnsClass.IN"/> until masked.
    /// </summary>
    public static DnsClass BaseClass(DnsClass wireClass) => (DnsClass)((ushort)wireClass & ~TopClassBit & 0xFFFF);

    /// <summary>
    /// RFC 6762 §10.2: the record replaces (rather than adds to) cached records of its name and type.
    /// </summary>
    public static bool HasCacheFlush(ResourceRecord record) => ((ushort)record.Class & TopClassBit) != 0;

    /// <summary>
    /// RFC 6762 §5.4: the querier asked for a unicast ("QU") rather than a multicast ("QM") response.
    /// </summary>
    public static bool WantsUnicastResponse(Question question) => ((ushort)question.Class & TopClassBit) != 0;

    /// <summary>The class field of a record of a unique (cache-flush) or shared RRset (RFC 6762 §10.2).</summary>
    public static DnsClass RecordClass(bool cacheFlush) =>
        cacheFlush ? (DnsClass)((ushort)DnsClass.IN | TopClassBit) : DnsClass.IN;

    /// <summary>The class field of a question asking for a QU (unicast) or QM response (RFC 6762 §5.4).</summary>
    public static DnsClass QuestionClass(bool unicastResponse) =>
        unicastResponse ? (DnsClass)((ushort)DnsClass.IN | TopClassBit) : DnsClass.IN;

    /// <summary>True for class IN or ANY once the top bit is masked: the classes mDNS answers.</summary>
    public static bool IsInternetClass(DnsClass wireClass)
    {
        var c = BaseClass(wireClass);
        return c == DnsClass.IN || c == DnsClass.ANY;
    }

    /// <summary>
    /// Parses a received datagram, or returns null if it is not a well-formed DNS message: anything can arrive on
    /// a multicast port, and a malformed packet must not stop the receive loop.
    /// </summary>
    public static Message? TryParse(byte[] buffer, int length)
    {
        if (length < 12)
            return null; // RFC 1035 §4.1.1: the fixed header alone is 12 bytes
        try
        {
            var message = new Message();
            message.Read(buffer, 0, length);
            return message;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // Makaretu.Dns throws a variety of types (EndOfStream, InvalidData, Argument, Format) on bad input.
            return null;
        }
    }

    /// <summary>
    /// DNS name equality: case-insensitive for ASCII (RFC 1035 §2.3.3, RFC 6762 §16), label by label, so an
    /// instance label containing a dot is not confused with two labels.
    /// </summary>
    public static bool NamesEqual(DomainName a, DomainName b)
    {
        var left = a.Labels;
        var right = b.Labels;
        if (left.Count != right.Count)
            return false;
        for (var i = 0; i < left.Count; i++)
        {
            if (!string.Equals(left[i], right[i], StringComparison.OrdinalIgnoreCase))
                return false;
        }
        return true;
    }

    /// <summary>A dictionary key for a name that compares as <see cref="NamesEqual"/> does.</summary>
    public static string NameKey(DomainName name) => string.Join('\0', name.Labels).ToLowerInvariant();

    /// <summary>
    /// Turns user input ("esp32ws", "esp32ws.local", "ESP32WS.local.") into the fully qualified mDNS host name
    /// <c>label.local</c>, or throws <see cref="WsCoreException"/> (<see cref="FailureKind.InvalidInput"/>).
    /// </summary>
    public static DomainName HostName(string name)
    {
        var trimmed = name.Trim().TrimEnd('.');
        if (trimmed.EndsWith(".local", StringComparison.OrdinalIgnoreCase))
            trimmed = trimmed[..^".local".Length];
        // RFC 1035 §2.3.4: a label is 1..63 bytes. A host name is a single label here (RFC 6762 §3 allows more, but
        // a device's name is one label and a dot in input is far more often a typo or a unicast DNS name).
        if (trimmed.Length is 0 or > 63 || trimmed.Contains('.') || trimmed.Any(char.IsWhiteSpace))
        {
            throw new WsCoreException(FailureKind.InvalidInput,
                $"'{name}' is not an mDNS host name (expected NAME or NAME.local, NAME one label of 1-63 characters)");
        }
        return new DomainName(trimmed, "local");
    }

    /// <summary>A service type such as "_ws._tcp" or "_ws._tcp.local" as the name <c>_ws._tcp.local</c>.</summary>
    public static DomainName ServiceTypeName(string serviceType)
    {
        var trimmed = serviceType.Trim().TrimEnd('.');
        if (trimmed.EndsWith(".local", StringComparison.OrdinalIgnoreCase))
            trimmed = trimmed[..^".local".Length];
        var labels = trimmed.Split('.');
        // RFC 6763 §7: _service._proto, the protocol being _tcp or _udp.
        if (labels.Length != 2 || !labels[0].StartsWith('_') || labels[0].Length < 2
            || !(labels[1].Equals("_tcp", StringComparison.OrdinalIgnoreCase)
                || labels[1].Equals("_udp", StringComparison.OrdinalIgnoreCase)))
        {
            throw new WsCoreException(FailureKind.InvalidInput,
                $"'{serviceType}' is not a DNS-SD service type (expected _service._tcp or _service._udp)");
        }
        return new DomainName(labels[0], labels[1], "local");
    }

    /// <summary>RFC 6763 §9: the meta-query name that lists every service type on the link.</summary>
    public static readonly DomainName ServicesMetaQueryName = new("_services", "_dns-sd", "_udp", "local");
}
