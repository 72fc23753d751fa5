using System.Net;
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
/// was multicast on that particular interface"; for probe defence the limit is 250 ms. Unicast answers are held to
/// the same limit per destination address, so a stream of queries (a source spoofed to a neighbour's address) cannot
/// become a stream of answers aimed at one host. Sans-IO: the caller gives the time. Thread-safe: the answer loop and
/// the announcements record through one lock.
/// </summary>
internal sealed class MdnsAnswerRateLimit
{
    public static readonly TimeSpan Normal = TimeSpan.FromSeconds(1);
    public static readonly TimeSpan ProbeDefence = TimeSpan.FromMilliseconds(250);

    // Past this many entries, those older than the longest limit (they hold nothing back any more) are dropped; the
    // bound then doubles with what is left, so a flood of sources costs at most a second of its entries.
    private const int PruneAbove = 1024;

    private readonly Dictionary<(int Interface, AddressFamily Family, IPAddress? To, string Record), TimeSpan>
        _lastSent = [];
    private readonly Lock _gate = new();
    private int _pruneAt = PruneAbove;

    /// <summary>
    /// The records of <paramref name="records"/> that may be sent now on this interface and family, to the group
    /// (<paramref name="destination"/> null) or to <paramref name="destination"/>.
    /// </summary>
    public List<ResourceRecord> Allowed(IEnumerable<ResourceRecord> records, int interfaceIndex, AddressFamily family,
        IPAddress? destination, TimeSpan now, TimeSpan limit)
    {
        lock (_gate)
        {
            return [
                .. records.Where(r =>
                    !_lastSent.TryGetValue((interfaceIndex, family, destination, Key(r)), out var last)
                    || now - last >= limit)];
        }
    }

    /// <summary>
    /// Notes that <paramref name="records"/> were sent now on this interface and family, to the group
    /// (<paramref name="destination"/> null) or to <paramref name="destination"/>.
    /// </summary>
    public void Sent(IEnumerable<ResourceRecord> records, int interfaceIndex, AddressFamily family,
        IPAddress? destination, TimeSpan now)
    {
        lock (_gate)
        {
            foreach (var record in records)
                _lastSent[(interfaceIndex, family, destination, Key(record))] = now;
            if (_lastSent.Count <= _pruneAt)
                return;
            foreach (var (key, last) in _lastSent)
            {
                if (now - last >= Normal)
                    _lastSent.Remove(key);
            }
            _pruneAt = Math.Max(PruneAbove, 2 * _lastSent.Count);
        }
    }

    /// <summary>How many (interface, family, destination, record) entries are kept.</summary>
    public int Entries
    {
        get
        {
            lock (_gate)
                return _lastSent.Count;
        }
    }

    private static string Key(ResourceRecord record) =>
        $"{(int)record.Type}/{MdnsWire.NameKey(record.Name)}/{Convert.ToHexString(record.GetData())}";
}
