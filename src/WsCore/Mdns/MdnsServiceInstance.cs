using System.Net;

namespace WsCore.Mdns;

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
    string InterfaceName);
