using System.Net;
using Makaretu.Dns;

namespace WsCore.Mdns;

/// <summary>
/// What a DNS-SD browse (RFC 6763 §4) has learnt so far: PTR → instances, SRV/TXT per instance, addresses per host;
/// and the follow-up query for what is still missing. Sans-IO: feed it responses, ask it for the next query.
/// Not thread-safe: one browse loop owns it.
/// </summary>
internal sealed class MdnsBrowseState(DomainName serviceType)
{
    private sealed class Instance(DomainName name, int interfaceIndex)
    {
        public DomainName Name { get; } = name;
        public int InterfaceIndex { get; } = interfaceIndex;
        public PTRRecord? Pointer { get; set; }
    }

    // Keyed by MdnsWire.NameKey. Records are kept even before their PTR arrives: responses put them in any order.
    private readonly Dictionary<string, Instance> _instances = [];
    private readonly Dictionary<string, SRVRecord> _srv = [];
    private readonly Dictionary<string, TXTRecord> _txt = [];
    private readonly Dictionary<string, List<IPAddress>> _addresses = [];

    /// <summary>The service type browsed, e.g. <c>_ws._tcp.local</c>.</summary>
    public DomainName ServiceType { get; } = serviceType;

    /// <summary>Reads a received message; returns true if it taught anything new.</summary>
    public bool Add(Message message, int interfaceIndex)
    {
        if (!MdnsQueryMatcher.IsResponse(message))
            return false;
        var changed = false;
        foreach (var record in MdnsQueryMatcher.AllRecords(message))
        {
            if (MdnsWire.BaseClass(record.Class) != DnsClass.IN)
                continue;
            var key = MdnsWire.NameKey(record.Name);
            var goodbye = record.TTL <= TimeSpan.Zero; // RFC 6762 §10.1
            switch (record)
            {
                case PTRRecord ptr when MdnsWire.NamesEqual(ptr.Name, ServiceType):
                    var instanceKey = MdnsWire.NameKey(ptr.DomainName);
                    if (goodbye)
                        changed |= _instances.Remove(instanceKey);
                    else if (!_instances.ContainsKey(instanceKey))
                    {
                        _instances[instanceKey] = new Instance(ptr.DomainName, interfaceIndex) { Pointer = ptr };
                        changed = true;
                    }
                    break;
                case SRVRecord srv when !goodbye:
                    changed |= !_srv.ContainsKey(key);
                    _srv[key] = srv;
                    break;
                case TXTRecord txt when !goodbye:
                    changed |= !_txt.ContainsKey(key);
                    _txt[key] = txt;
                    break;
                case AddressRecord address when !goodbye:
                    var list = _addresses.TryGetValue(key, out var known) ? known : _addresses[key] = [];
                    var scoped = MdnsQueryMatcher.WithScope(address.Address, interfaceIndex);
                    if (!list.Contains(scoped))
                    {
                        list.Add(scoped);
                        changed = true;
                    }
                    break;
            }
        }
        return changed;
    }

    /// <summary>
    /// The next query: the PTR question with the instances already known as known answers (RFC 6762 §7.1, so
    /// responders do not repeat them), plus SRV/TXT questions for instances that lack them and A/AAAA questions
    /// for SRV targets without addresses (RFC 6763 §12 lets responders omit these from the additional section).
    /// </summary>
    public Message BuildQuery(bool ipv4, bool ipv6)
    {
        var query = new Message { Id = 0, QR = false };
        query.Questions.Add(new Question
        {
            Name = ServiceType,
            Type = DnsType.PTR,
            Class = MdnsWire.QuestionClass(false)
        });
        foreach (var instance in _instances.Values)
        {
            if (instance.Pointer is { } pointer)
                query.Answers.Add(pointer);
            var key = MdnsWire.NameKey(instance.Name);
            if (!_srv.TryGetValue(key, out var srv))
                query.Questions.Add(new Question
                {
                    Name = instance.Name,
                    Type = DnsType.SRV,
                    Class = MdnsWire.QuestionClass(false)
                });
            if (!_txt.ContainsKey(key))
                query.Questions.Add(new Question
                {
                    Name = instance.Name,
                    Type = DnsType.TXT,
                    Class = MdnsWire.QuestionClass(false)
                });
            if (srv is not null && !_addresses.ContainsKey(MdnsWire.NameKey(srv.Target)))
            {
                if (ipv4)
                    query.Questions.Add(new Question
                    {
                        Name = srv.Target,
                        Type = DnsType.A,
                        Class = MdnsWire.QuestionClass(false)
                    });
                if (ipv6)
                    query.Questions.Add(new Question
                    {
                        Name = srv.Target,
                        Type = DnsType.AAAA,
                        Class = MdnsWire.QuestionClass(false)
                    });
            }
        }
        return query;
    }

    /// <summary>Every instance seen, with what is known of it, in order of discovery.</summary>
    public IReadOnlyList<(
        DomainName Name,
        int InterfaceIndex,
        SRVRecord? Srv,
        TXTRecord? Txt,
        IReadOnlyList<IPAddress> Addresses)> Snapshot()
    {
        var result = new List<(DomainName, int, SRVRecord?, TXTRecord?, IReadOnlyList<IPAddress>)>();
        foreach (var instance in _instances.Values)
        {
            var key = MdnsWire.NameKey(instance.Name);
            _srv.TryGetValue(key, out var srv);
            _txt.TryGetValue(key, out var txt);
            IReadOnlyList<IPAddress> addresses = srv is not null
                && _addresses.TryGetValue(MdnsWire.NameKey(srv.Target), out var list)
                ? MdnsQueryMatcher.OrderIPv4First(list)
                : [];
            result.Add((instance.Name, instance.InterfaceIndex, srv, txt, addresses));
        }
        return result;
    }
}
