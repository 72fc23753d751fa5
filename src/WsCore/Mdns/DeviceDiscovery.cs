using Serilog;
using WsCore.Targets;
using WsCore.WebSockets.Client;

namespace WsCore.Mdns;

/// <summary>
/// A WebSocket device found on the link by DNS-SD (a <c>_ws._tcp</c> instance) and where to reach it.
/// </summary>
/// <param name="Instance">What the browse found.</param>
/// <param name="Target">The probe target: the first address, the SRV port, the TXT <c>path</c> (default "/").</param>
public sealed record DiscoveredDevice(MdnsServiceInstance Instance, WebSocketTarget? Target)
{
    /// <summary>The WebSocket URI of the first address, or null if the instance has no address or port yet.</summary>
    public Uri? Uri => Target is null || Instance.Addresses.Count == 0 ? null : Target.UriFor(Instance.Addresses[0]);
}

/// <summary>
/// Lists the WebSocket devices on the link (what probe and broadcast discover):
/// a DNS-SD browse for <c>_ws._tcp</c>. Thread-safety: stateless; concurrent calls are safe.
/// </summary>
public sealed class DeviceDiscovery(ILogger? logger = null)
{
    /// <summary>
    /// The DNS-SD service type of WebSocket servers: what the firmware and <c>wsctl serve</c> (with an mDNS name)
    /// advertise.
    /// </summary>
    public const string WebSocketServiceType = "_ws._tcp";

    private readonly MdnsClient _mdns = new(logger);

    /// <summary>Browses for <paramref name="duration"/> and returns every device seen, in order of discovery.</summary>
    public async Task<IReadOnlyList<DiscoveredDevice>> DiscoverAsync(
        TimeSpan duration, MdnsOptions? options = null, CancellationToken cancellationToken = default)
    {
        var instances = await _mdns.BrowseAsync(WebSocketServiceType, duration, options, cancellationToken);
        return [.. instances.Select(ToDevice)];
    }

    internal static DiscoveredDevice ToDevice(MdnsServiceInstance instance)
    {
        if (instance.HostName is null || instance.Port == 0)
            return new DiscoveredDevice(instance, null);
        var path = instance.Txt.TryGetValue(ServiceAdvertisement.PathKey, out var p) && p.Length > 0 ? p : "/";
        if (!path.StartsWith('/'))
            path = "/" + path;
        var host = instance.Addresses.Count > 0 ? instance.Addresses[0].ToString() : instance.HostName;
        var kind = instance.Addresses.Count > 0 ? HostKind.Address : HostKind.Mdns;
        return new DiscoveredDevice(instance, new WebSocketTarget(host, kind, instance.Port, path, Secure: false));
    }
}
