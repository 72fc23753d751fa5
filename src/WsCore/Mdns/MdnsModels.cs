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

/// <summary>One DNS-SD service instance found by browsing (RFC 6763 §4).</summary>
/// <param name="InstanceName">The instance label, e.g. "esp32ws" (may contain spaces and dots).</param>
/// <param name="ServiceType">The service type, e.g. "_ws._tcp.local".</param>
/// <param name="HostName">The SRV target, e.g. "esp32ws.local", or null if no SRV record arrived.</param>
/// <param name="Port">The SRV port, or 0 if no SRV record arrived.</param>
/// <param name="Addresses">The host's addresses, IPv4 first (empty if none arrived).</param>
/// <param name="Txt">The TXT key/value pairs (keys case-insensitive; empty if no TXT record arrived).</param>
/// <param name="InterfaceName">The interface the instance was seen on.</param>
public sealed record MdnsServiceInstance(
    string InstanceName,
    string ServiceType,
    string? HostName,
    int Port,
    IReadOnlyList<IPAddress> Addresses,
    IReadOnlyDictionary<string, string> Txt,
    string InterfaceName)
{
    /// <summary>True once SRV and at least one address are known: enough to connect.</summary>
    public bool IsResolved => HostName is not null && Port != 0 && Addresses.Count > 0;
}

/// <summary>A DNS-SD service a responder advertises (RFC 6763): PTR, SRV and TXT records.</summary>
/// <param name="InstanceName">The instance label, e.g. "esp32ws" (RFC 6763 §4.1.1: up to 63 bytes, any
/// characters).</param>
/// <param name="ServiceType">The service type, e.g. "_ws._tcp".</param>
/// <param name="Port">The TCP/UDP port in the SRV record.</param>
/// <param name="Txt">The TXT key/value pairs, in order.</param>
public sealed record ServiceAdvertisement(
    string InstanceName, string ServiceType, int Port, IReadOnlyList<KeyValuePair<string, string>> Txt)
{
    /// <summary>TXT key of the WebSocket path (<c>WSCTL_TXT_PATH</c>).</summary>
    public const string PathKey = "path";
    /// <summary>TXT key of the client limit (<c>WSCTL_TXT_MAX_CLIENTS</c>).</summary>
    public const string MaxClientsKey = "max_clients";
    /// <summary>TXT key of the server's version (<c>WSCTL_TXT_VERSION</c>).</summary>
    public const string VersionKey = "version";

    /// <summary>
    /// The <c>_ws._tcp</c> advertisement of a WebSocket server, with the TXT keys the firmware uses, in its order:
    /// <c>path</c>, <c>max_clients</c> and <c>version</c> (defined for both in the firmware's <c>wsctl_limits.h</c>).
    /// </summary>
    public static ServiceAdvertisement WebSocket(
        string instanceName, int port, string path, int maxClients, string version) =>
        new(instanceName, DeviceDiscovery.WebSocketServiceType, port,
        [
            new(PathKey, path),
            new(MaxClientsKey, maxClients.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            new(VersionKey, version),
        ]);
}
