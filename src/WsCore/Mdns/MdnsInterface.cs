using System.Net;

namespace WsCore.Mdns;

/// <summary>A network interface as mDNS uses it: its index, name and current addresses.</summary>
/// <param name="Name">The interface name, e.g. "eth0".</param>
/// <param name="Index">The kernel interface index (scope id of its IPv6 link-local addresses).</param>
/// <param name="IsLoopback">True for the loopback interface.</param>
/// <param name="IPv4Addresses">Its IPv4 unicast addresses.</param>
/// <param name="IPv6Addresses">Its IPv6 unicast addresses (link-local ones carry <see cref="Index"/> as scope
/// id).</param>
public sealed record MdnsInterface(
    string Name,
    int Index,
    bool IsLoopback,
    IReadOnlyList<IPAddress> IPv4Addresses,
    IReadOnlyList<IPAddress> IPv6Addresses)
{
    /// <summary>All addresses, IPv4 first.</summary>
    public IEnumerable<IPAddress> Addresses => IPv4Addresses.Concat(IPv6Addresses);

    /// <summary>
    /// The prefixes of its addresses (e.g. 192.168.1.0/24): a source inside one is on this interface's link.
    /// </summary>
    public IReadOnlyList<IPNetwork> Prefixes { get; init; } = [];
}
