using System.Net.Sockets;
using Makaretu.Dns;

namespace WsCore.Mdns;

/// <summary>
/// When a querier sends its queries (RFC 6762 §5.2). Pure functions; no I/O.
/// </summary>
internal static class MdnsQuerySchedule
{
    /// <summary>RFC 6762 §5.2: the interval stops doubling at one hour.</summary>
    private static readonly TimeSpan MaxInterval = TimeSpan.FromHours(1);

    /// <summary>
    /// The time, from the start, at which query number <paramref name="index"/> (0-based) goes out: at once, then
    /// after 1 s, 2 s, 4 s… (0, 1, 3, 7, 15 s…): "the interval between the first two queries MUST be at least one
    /// second, the intervals between successive queries MUST increase by at least a factor of two".
    /// </summary>
    public static TimeSpan SendTime(int index)
    {
        var at = TimeSpan.Zero;
        var interval = TimeSpan.FromSeconds(1);
        for (var i = 0; i < index; i++)
        {
            at += interval;
            interval = interval * 2 > MaxInterval ? MaxInterval : interval * 2;
        }
        return at;
    }
}

/// <summary>
/// RFC 6762 §6: "a Multicast DNS responder MUST NOT (except in the one special case of answering probe queries)
/// multicast a record on a given interface until at least one second has elapsed since the last time that record
/// was multicast on that particular interface"; for probe defence the limit is 250 ms. Sans-IO: the caller gives the
/// time. Not thread-safe: the responder's answer loop owns it (announcements record through the same lock).
/// </summary>
internal sealed class MdnsMulticastRateLimit
{
    public static readonly TimeSpan Normal = TimeSpan.FromSeconds(1);
    public static readonly TimeSpan ProbeDefence = TimeSpan.FromMilliseconds(250);

    private readonly Dictionary<(int Interface, AddressFamily Family, string Record), TimeSpan> _lastSent = [];
    private readonly Lock _gate = new();

    /// <summary>
    /// The records of <paramref name="records"/> that may be multicast now on this interface and family.
    /// </summary>
    public List<ResourceRecord> Allowed(
        IEnumerable<ResourceRecord> records, int interfaceIndex, AddressFamily family, TimeSpan now, TimeSpan limit)
    {
        lock (_gate)
        {
            return [
                .. records.Where(r => !_lastSent.TryGetValue((interfaceIndex, family, Key(r)), out var last)
                    || now - last >= limit)];
        }
    }

    /// <summary>Notes that <paramref name="records"/> were multicast now on this interface and family.</summary>
    public void Sent(IEnumerable<ResourceRecord> records, int interfaceIndex, AddressFamily family, TimeSpan now)
    {
        lock (_gate)
        {
            foreach (var record in records)
                _lastSent[(interfaceIndex, family, Key(record))] = now;
        }
    }

    private static string Key(ResourceRecord record) =>
        $"{(int)record.Type}/{MdnsWire.NameKey(record.Name)}/{Convert.ToHexString(record.GetData())}";
}
