using System.Net;
using System.Net.Sockets;

namespace WsCore.Mdns;

/// <summary>
/// Whether a packet's source is on the link it arrived on (RFC 6762 §5.5, §11): the test that keeps a unicast mDNS
/// answer from leaving the link, and an answer from another network from being taken for a neighbour's. Pure
/// functions of the source address and the receiving interface's prefixes; no I/O.
/// </summary>
internal static class MdnsLink
{
    /// <summary>
    /// True when <paramref name="source"/> is inside one of <paramref name="prefixes"/> (the receiving interface's),
    /// or is a link-local address: routers never forward those (RFC 4291 §2.5.6 for IPv6, RFC 3927 §2.7 for IPv4's
    /// 169.254/16), so one that arrived came from this link.
    /// </summary>
    /// <remarks>
    /// RFC 6762 §11 also accepts an IP TTL (hop limit) of 255 as proof, since a router would have lowered it. .NET's
    /// sockets report a datagram's destination address and interface (IP_PKTINFO) but not its TTL, so the address is
    /// the test here: a neighbour on the same wire but outside every prefix of the interface counts as off-link.
    /// </remarks>
    public static bool IsOnLink(IPAddress source, IEnumerable<IPNetwork> prefixes)
    {
        if (source.AddressFamily == AddressFamily.InterNetworkV6)
        {
            if (source.IsIPv6LinkLocal)
                return true;
            // A scope id is this host's name for an interface; prefixes carry none.
            source = source.ScopeId == 0 ? source : new IPAddress(source.GetAddressBytes());
        }
        else if (source.AddressFamily == AddressFamily.InterNetwork)
        {
            Span<byte> bytes = stackalloc byte[4];
            source.TryWriteBytes(bytes, out _);
            if (bytes[0] == 169 && bytes[1] == 254)
                return true;
        }
        foreach (var prefix in prefixes)
        {
            if (prefix.Contains(source))
                return true;
        }
        return false;
    }

    /// <summary>
    /// True when <paramref name="destination"/> is the mDNS group of its family (224.0.0.251, ff02::fb).
    /// </summary>
    public static bool IsGroup(IPAddress destination)
    {
        if (destination.AddressFamily == AddressFamily.InterNetwork)
            return destination.Equals(MdnsWire.GroupV4);
        Span<byte> bytes = stackalloc byte[16];
        Span<byte> group = stackalloc byte[16];
        destination.TryWriteBytes(bytes, out _);
        MdnsWire.GroupV6.TryWriteBytes(group, out _);
        return bytes.SequenceEqual(group);
    }

    /// <summary>
    /// The prefix of <paramref name="address"/> that is <paramref name="prefixLength"/> bits long (host bits cleared).
    /// </summary>
    public static IPNetwork Prefix(IPAddress address, int prefixLength)
    {
        var bytes = address.GetAddressBytes();
        prefixLength = Math.Clamp(prefixLength, 0, bytes.Length * 8);
        for (var i = 0; i < bytes.Length; i++)
        {
            var kept = Math.Clamp(prefixLength - (i * 8), 0, 8);
            bytes[i] &= (byte)(0xFF << (8 - kept));
        }
        return new IPNetwork(new IPAddress(bytes), prefixLength);
    }
}
