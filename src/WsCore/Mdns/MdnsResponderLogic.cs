using System.Net;
using System.Net.Sockets;
using Makaretu.Dns;

namespace WsCore.Mdns;

/// <summary>A response the responder should send, and how.</summary>
/// <param name="Message">The response message.</param>
/// <param name="Unicast">True to send it to the querier's address and port rather than to the group.</param>
/// <param name="HasSharedRecords">
/// True if it answers with shared records (PTR): RFC 6762 §6 delays such responses 20-120 ms so that several
/// responders' answers do not collide.
/// </param>
internal sealed record MdnsAnswer(Message Message, bool Unicast, bool HasSharedRecords);

/// <summary>Where a query came from, as the transport saw it.</summary>
/// <param name="SourcePort">The sender's port: other than 5353 makes it a legacy unicast query (RFC 6762 §6.7).</param>
/// <param name="SourceOnLink">Whether the sender is on the receiving interface's link (<see cref="MdnsLink"/>).</param>
/// <param name="SentToGroup">True when sent to the mDNS group; false when sent to this host's address (a direct
/// unicast query, RFC 6762 §5.5).</param>
internal readonly record struct MdnsQueryOrigin(int SourcePort, bool SourceOnLink, bool SentToGroup)
{
    /// <summary>
    /// True when only an answer sent straight to the querier will do: a legacy query (§6.7: the querier listens on
    /// its own port only) or one sent to this host's address (§5.5).
    /// </summary>
    public bool OnlyUnicastWillDo => SourcePort != MdnsWire.Port || !SentToGroup;
}

/// <summary>
/// The records of one host name and, optionally, one DNS-SD service, and the answers to queries about them
/// (RFC 6762 §6, RFC 6763 §12). Pure functions of the query and the receiving interface's addresses; no I/O.
/// Immutable after construction: safe to use from several threads.
/// </summary>
internal sealed class MdnsResponderLogic
{
    private readonly ServiceAdvertisement? _service;

    public MdnsResponderLogic(DomainName hostName, ServiceAdvertisement? service)
    {
        HostName = hostName;
        _service = service;
        if (service is not null)
        {
            ServiceTypeName = MdnsWire.ServiceTypeName(service.ServiceType);
            // RFC 6763 §4.1.1: the instance name is one label of up to 63 bytes of any UTF-8 text.
            if (service.InstanceName.Length == 0 || System.Text.Encoding.UTF8.GetByteCount(service.InstanceName) > 63)
                throw new WsCoreException(
                    FailureKind.InvalidInput,
                    $"service instance name '{service.InstanceName}' must be 1-63 bytes (RFC 6763 §4.1.1)");
            if (service.Port is < 1 or > 65535)
                throw new WsCoreException(FailureKind.InvalidInput, $"service port {service.Port} is out of range");
            InstanceName = new DomainName([service.InstanceName, .. ServiceTypeName.Labels]);
            TxtStrings = MdnsTxt.Encode(service.Txt);
        }
    }

    /// <summary>The host name answered, e.g. <c>benchhost.local</c>.</summary>
    public DomainName HostName { get; }

    /// <summary>The advertised service type (<c>_ws._tcp.local</c>), or null without a service.</summary>
    public DomainName? ServiceTypeName { get; }

    /// <summary>The full service instance name (<c>benchhost._ws._tcp.local</c>), or null without a service.</summary>
    public DomainName? InstanceName { get; }

    private List<string> TxtStrings { get; } = [""];

    /// <summary>
    /// The names this responder owns (RFC 6762 §8.1 probes for these): the host name and the instance name.
    /// </summary>
    public IEnumerable<DomainName> UniqueNames => InstanceName is null ? [HostName] : [HostName, InstanceName];

    /// <summary>
    /// Every record, as announced (RFC 6762 §8.3) or, with <paramref name="goodbye"/>, withdrawn (TTL 0, §10.1).
    /// Addresses are those of the interface the message goes out on (§6.2: never another interface's).
    /// </summary>
    public Message BuildAnnouncement(IEnumerable<IPAddress> interfaceAddresses, bool goodbye = false)
    {
        var message = NewResponse();
        foreach (var record in AddressRecords(interfaceAddresses, DnsType.ANY))
            message.Answers.Add(record);
        if (InstanceName is not null)
        {
            message.Answers.Add(ServicePointer());
            message.Answers.Add(Srv());
            message.Answers.Add(Txt());
            message.Answers.Add(ServiceTypePointer());
        }
        if (goodbye)
        {
            foreach (var record in message.Answers)
                record.TTL = TimeSpan.Zero;
        }
        return message;
    }

    /// <summary>
    /// A probe (RFC 6762 §8.1): ANY questions for each unique name, with the records we intend to use in the
    /// authority section (for simultaneous-probe tie-breaking by the other side). The first probe asks for unicast
    /// responses (QU), as §8.1 recommends.
    /// </summary>
    public Message BuildProbe(IEnumerable<IPAddress> interfaceAddresses, bool unicastResponse)
    {
        var probe = new Message { Id = 0, QR = false };
        foreach (var name in UniqueNames)
            probe.Questions.Add(new Question
            {
                Name = name,
                Type = DnsType.ANY,
                Class = MdnsWire.QuestionClass(unicastResponse)
            });
        foreach (var record in AddressRecords(interfaceAddresses, DnsType.ANY))
            probe.AuthorityRecords.Add(record);
        if (InstanceName is not null)
        {
            probe.AuthorityRecords.Add(Srv());
            probe.AuthorityRecords.Add(Txt());
        }
        return probe;
    }

    /// <summary>
    /// True if <paramref name="message"/> is a response from someone else claiming one of our unique names
    /// (RFC 6762 §8.1/§9): a record of that name whose data differs from ours.
    /// </summary>
    public bool IsConflictingResponse(Message message, IEnumerable<IPAddress> ourAddresses)
    {
        if (!MdnsQueryMatcher.IsResponse(message))
            return false;
        var ours = BuildAnnouncement(ourAddresses).Answers;
        foreach (var record in MdnsQueryMatcher.AllRecords(message))
        {
            if (record.TTL <= TimeSpan.Zero || !UniqueNames.Any(n => MdnsWire.NamesEqual(n, record.Name)))
                continue;
            if (!ours.Any(o => SameRecord(o, record)))
                return true;
        }
        return false;
    }

    /// <summary>
    /// The response to <paramref name="query"/> received on an interface with <paramref name="interfaceAddresses"/>,
    /// or null if we own none of the records asked for (or the querier already knows them all, §7.1), or if only a
    /// unicast answer would do and the sender is not on the link. A source port other than 5353 makes it a legacy
    /// unicast response (§6.7): ID and question echoed, TTLs capped at 10 s, no cache-flush bits.
    /// </summary>
    /// <remarks>
    /// A unicast answer goes only to a sender on the receiving interface's link (RFC 6762 §5.5, §11): an answer to
    /// an address elsewhere would carry this host's records off the link, to whoever the source address names (a
    /// spoofed victim, for one). So a legacy query or one sent straight to this host from off the link gets nothing
    /// (§5.5: "silently ignore"), and a QU question from off the link that came through the group is answered on
    /// the link, by multicast, where every querier on it can hear the answer anyway.
    /// </remarks>
    public MdnsAnswer? Answer(Message query, IReadOnlyList<IPAddress> interfaceAddresses, MdnsQueryOrigin origin)
    {
        // RFC 6762 §18.3: only standard queries; responses and other opcodes are not questions to us.
        if (query.QR || query.Opcode != MessageOperation.Query || query.Questions.Count == 0)
            return null;
        if (origin.OnlyUnicastWillDo && !origin.SourceOnLink)
            return null;
        var legacy = origin.SourcePort != MdnsWire.Port;
        var answers = new List<ResourceRecord>();
        var additional = new List<ResourceRecord>();
        // §5.5: a query sent straight to this host is answered as a QU question is, to the querier.
        var unicast = origin.OnlyUnicastWillDo;
        foreach (var question in query.Questions)
        {
            if (!MdnsWire.IsInternetClass(question.Class))
                continue;
            var before = answers.Count;
            AnswerQuestion(question, interfaceAddresses, answers, additional);
            if (answers.Count > before && MdnsWire.WantsUnicastResponse(question) && origin.SourceOnLink)
                unicast = true; // §5.4: QU question answered directly to the querier
        }

        // RFC 6762 §7.1 known-answer suppression: skip what the querier lists with at least half our TTL left.
        answers.RemoveAll(a => query.Answers.Any(known => SameRecord(known, a)
            && known.TTL.TotalSeconds * 2 >= a.TTL.TotalSeconds));
        if (answers.Count == 0)
            return null;
        additional.RemoveAll(a => answers.Any(r => SameRecord(r, a)));

        var response = NewResponse();
        if (legacy)
        {
            response.Id = query.Id;
            foreach (var question in query.Questions)
                response.Questions.Add(question);
        }
        AddDistinct(response.Answers, answers);
        AddDistinct(response.AdditionalRecords, additional);
        if (legacy)
        {
            foreach (var record in response.Answers.Concat(response.AdditionalRecords))
            {
                record.Class = MdnsWire.BaseClass(record.Class);
                if (record.TTL > MdnsWire.LegacyUnicastMaxTtl)
                    record.TTL = MdnsWire.LegacyUnicastMaxTtl;
            }
        }
        return new MdnsAnswer(response, unicast, answers.Any(a => a is PTRRecord));
    }

    private void AnswerQuestion(
        Question question,
        IReadOnlyList<IPAddress> addresses,
        List<ResourceRecord> answers,
        List<ResourceRecord> additional)
    {
        var type = question.Type;
        if (MdnsWire.NamesEqual(question.Name, HostName))
        {
            if (type is DnsType.A or DnsType.AAAA or DnsType.ANY)
            {
                answers.AddRange(AddressRecords(addresses, type));
                // RFC 6762 §6.2: with an A answer, put the AAAA records in the additional section, and vice versa.
                if (type != DnsType.ANY)
                    additional.AddRange(AddressRecords(addresses, type == DnsType.A ? DnsType.AAAA : DnsType.A));
            }
            return;
        }
        if (InstanceName is null || ServiceTypeName is null)
            return;
        if (MdnsWire.NamesEqual(question.Name, ServiceTypeName) && type is DnsType.PTR or DnsType.ANY)
        {
            answers.Add(ServicePointer());
            // RFC 6763 §12.1: with a PTR answer, the SRV, TXT and address records go in the additional section.
            additional.Add(Srv());
            additional.Add(Txt());
            additional.AddRange(AddressRecords(addresses, DnsType.ANY));
        }
        else if (MdnsWire.NamesEqual(question.Name, InstanceName))
        {
            if (type is DnsType.SRV or DnsType.ANY)
            {
                answers.Add(Srv());
                additional.AddRange(AddressRecords(addresses, DnsType.ANY)); // RFC 6763 §12.2
            }
            if (type is DnsType.TXT or DnsType.ANY)
                answers.Add(Txt());
        }
        else if (MdnsWire.NamesEqual(question.Name, MdnsWire.ServicesMetaQueryName)
            && type is DnsType.PTR or DnsType.ANY)
        {
            answers.Add(ServiceTypePointer()); // RFC 6763 §9
        }
    }

    private IEnumerable<ResourceRecord> AddressRecords(IEnumerable<IPAddress> addresses, DnsType type)
    {
        foreach (var address in addresses)
        {
            var isV4 = address.AddressFamily == AddressFamily.InterNetwork;
            if ((type == DnsType.A && !isV4) || (type == DnsType.AAAA && isV4))
                continue;
            // The wire holds 16 bytes; the scope id is local to this host and means nothing to the receiver.
            var plain = isV4 || address.ScopeId == 0 ? address : new IPAddress(address.GetAddressBytes());
            ResourceRecord record = isV4 ? new ARecord { Address = plain } : new AAAARecord { Address = plain };
            record.Name = HostName;
            record.Class = MdnsWire.RecordClass(cacheFlush: true); // RFC 6762 §10.2: our address records are unique
            record.TTL = MdnsWire.HostRecordTtl;
            yield return record;
        }
    }

    private PTRRecord ServicePointer() => new()
    {
        Name = ServiceTypeName!,
        DomainName = InstanceName!,
        Class = MdnsWire.RecordClass(cacheFlush: false), // RFC 6762 §10.2: PTR sets are shared
        TTL = MdnsWire.OtherRecordTtl,
    };

    private PTRRecord ServiceTypePointer() => new()
    {
        Name = MdnsWire.ServicesMetaQueryName,
        DomainName = ServiceTypeName!,
        Class = MdnsWire.RecordClass(cacheFlush: false),
        TTL = MdnsWire.OtherRecordTtl,
    };

    private SRVRecord Srv() => new()
    {
        Name = InstanceName!,
        Class = MdnsWire.RecordClass(cacheFlush: true),
        TTL = MdnsWire.HostRecordTtl,
        Priority = 0,
        Weight = 0,
        Port = (ushort)_service!.Port,
        Target = HostName,
    };

    private TXTRecord Txt() => new()
    {
        Name = InstanceName!,
        Class = MdnsWire.RecordClass(cacheFlush: true),
        TTL = MdnsWire.OtherRecordTtl,
        Strings = [.. TxtStrings],
    };

    private static Message NewResponse() =>
        // RFC 6762 §18: ID 0, QR and AA set, no questions in multicast responses.
        new() { Id = 0, QR = true, AA = true };

    /// <summary>Same name, type, class (top bit masked) and data: the record identity of RFC 6762 §7.1.</summary>
    private static bool SameRecord(ResourceRecord a, ResourceRecord b) =>
        a.Type == b.Type
        && MdnsWire.BaseClass(a.Class) == MdnsWire.BaseClass(b.Class)
        && MdnsWire.NamesEqual(a.Name, b.Name)
        && a.GetData().AsSpan().SequenceEqual(b.GetData());

    private static void AddDistinct(List<ResourceRecord> target, IEnumerable<ResourceRecord> records)
    {
        foreach (var record in records)
        {
            if (!target.Any(t => SameRecord(t, record)))
                target.Add(record);
        }
    }
}
