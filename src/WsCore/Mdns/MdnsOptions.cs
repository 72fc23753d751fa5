using System.Net;

namespace WsCore.Mdns;

/// <summary>Which interfaces and address families an mDNS querier or responder uses.</summary>
public sealed record MdnsOptions
{
    /// <summary>
    /// The one interface to use (e.g. "eth0"), or null for every interface that is up and multicast-capable
    /// (loopback only when it carries the MULTICAST flag).
    /// </summary>
    public string? InterfaceName { get; init; }

    /// <summary>Use IPv4 (224.0.0.251). Default true.</summary>
    public bool UseIPv4 { get; init; } = true;

    /// <summary>Use IPv6 (ff02::fb). Default true.</summary>
    public bool UseIPv6 { get; init; } = true;

    /// <summary>
    /// After the first address answer, how long a resolve keeps listening for the other address family, so that
    /// a host with both gets both back. Default 200 ms.
    /// </summary>
    public TimeSpan OtherFamilyGrace { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>
    /// A DNS-SD service type (e.g. "_ws._tcp") to ask about in the same query as the addresses: the port of the
    /// host's instance comes back in <see cref="MdnsResolveResult.ServicePort"/> (a device on another port than the
    /// default says so in its SRV record, RFC 6763 §5). Null: addresses only.
    /// </summary>
    public string? ServicePortOf { get; init; }
}
