using System.Globalization;
using System.Text;
using Makaretu.Dns;

namespace WsCore.Mdns;

/// <summary>
/// DNS records as one line of text each, for logs: <c>NAME TTL CLASS TYPE RDATA</c> in the master-file form of
/// RFC 1035 §5.1. Pure functions; no I/O.
/// </summary>
/// <remarks>
/// Written here instead of calling Makaretu.Dns's <c>ResourceRecord.ToString()</c> / <c>Message.ToString()</c>: that
/// text writer encodes DS digests, NSEC3 and NSEC3PARAM salts and hashes, and the RDATA of NULL records and of every
/// type it does not model with SimpleBase's string-based <c>Base16</c>/<c>Base32</c> calls, which SimpleBase 3 (the
/// only version the registry serves) no longer has: it throws <see cref="MissingMethodException"/> (see README,
/// Dependencies). Anything can arrive on the mDNS port, unknown types included. Only the types this layer reads are
/// spelled out here, NSEC too (RFC 6762 §6.1 negative answers); every other type, OPT (EDNS0, RFC 6891) included,
/// takes the generic form of RFC 3597 §5 (<c>\# LENGTH HEX</c>), which is valid for any type.
/// </remarks>
internal static class MdnsRecordText
{
    /// <summary>The records of a message's answer, authority and additional sections, separated by "; ".</summary>
    public static string Describe(Message message) =>
        string.Join("; ", message.Answers.Concat(message.AuthorityRecords).Concat(message.AdditionalRecords)
            .Select(Format));

    /// <summary>One record: <c>esp32ws.local 120 IN A 10.0.0.5</c>, "cache-flush" after the class if set.</summary>
    public static string Format(ResourceRecord record)
    {
        var text = new StringBuilder();
        // RFC 1035 §5.1: the root (an OPT record's owner) is written ".".
        var name = record.Name?.ToString();
        text.Append(string.IsNullOrEmpty(name) ? "." : name).Append(' ')
            .Append(((long)record.TTL.TotalSeconds).ToString(CultureInfo.InvariantCulture)).Append(' ')
            .Append(ClassName(record.Class));
        if (MdnsWire.HasCacheFlush(record))
            text.Append(" cache-flush");
        text.Append(' ').Append(TypeName(record.Type)).Append(' ');
        AppendData(text, record);
        return text.ToString();
    }

    private static void AppendData(StringBuilder text, ResourceRecord record)
    {
        switch (record)
        {
            case AddressRecord address:
                text.Append(address.Address);
                break;
            case PTRRecord pointer:
                text.Append(pointer.DomainName);
                break;
            case SRVRecord service:
                // RFC 2782: priority weight port target.
                text.Append(CultureInfo.InvariantCulture,
                    $"{service.Priority} {service.Weight} {service.Port} {service.Target}");
                break;
            case TXTRecord txt:
                text.AppendJoin(' ', txt.Strings.Select(Quote));
                break;
            case NSECRecord nsec:
                // RFC 4034 §4.2: the next owner name, then the types present (RFC 6762 §6.1 negative answers).
                text.Append(nsec.NextOwnerName);
                foreach (var type in nsec.Types)
                    text.Append(' ').Append(TypeName(type));
                break;
            default:
                var data = record.GetData();
                text.Append(CultureInfo.InvariantCulture, $"\\# {data.Length}");
                if (data.Length > 0)
                    text.Append(' ').Append(Convert.ToHexStringLower(data));
                break;
        }
    }

    // RFC 1035 §5.1: a character string in quotes, with '"' and '\' escaped and other bytes outside printable ASCII
    // as \DDD (decimal).
    private static string Quote(string value)
    {
        var text = new StringBuilder("\"");
        foreach (var b in Encoding.UTF8.GetBytes(value))
        {
            if (b is (byte)'"' or (byte)'\\')
                text.Append('\\').Append((char)b);
            else if (b is < 0x20 or > 0x7E)
                text.Append(CultureInfo.InvariantCulture, $"\\{b:D3}");
            else
                text.Append((char)b);
        }
        return text.Append('"').ToString();
    }

    // RFC 3597 §5: a type or class without a mnemonic is written TYPEnnn / CLASSnnn.
    private static string TypeName(DnsType type) =>
        Enum.IsDefined(type) ? type.ToString() : $"TYPE{((ushort)type).ToString(CultureInfo.InvariantCulture)}";

    private static string ClassName(DnsClass wireClass)
    {
        var baseClass = MdnsWire.BaseClass(wireClass);
        return Enum.IsDefined(baseClass)
            ? baseClass.ToString()
            : $"CLASS{((ushort)baseClass).ToString(CultureInfo.InvariantCulture)}";
    }
}
