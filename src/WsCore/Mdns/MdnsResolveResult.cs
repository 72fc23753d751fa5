using System.Net;

namespace WsCore.Mdns;

/// <summary>The answer to an mDNS address query.</summary>
/// <param name="HostName">The name asked for, fully qualified (e.g. "esp32ws.local").</param>
/// <param name="Addresses">Every address found, IPv4 first; IPv6 link-local addresses carry the interface's scope
/// id.</param>
/// <param name="InterfaceName">The interface the first answer arrived on.</param>
/// <param name="Elapsed">Time from the first query to the answer.</param>
/// <param name="QueriesSent">How many times the query went out (RFC 6762 §5.2 retransmission) before the
/// answer.</param>
/// <param name="ServicePort">The port of the host's <see cref="MdnsOptions.ServicePortOf"/> instance, when it
/// answered.</param>
public sealed record MdnsResolveResult(
    string HostName,
    IReadOnlyList<IPAddress> Addresses,
    string InterfaceName,
    TimeSpan Elapsed,
    int QueriesSent,
    int? ServicePort = null);
