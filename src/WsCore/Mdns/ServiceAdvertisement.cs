using System.Net;

namespace WsCore.Mdns;

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
