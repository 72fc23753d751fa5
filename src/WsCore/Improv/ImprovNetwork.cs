namespace WsCore.Improv;

/// <summary>A Wi-Fi network a device sees (one result of RPC 4, "Request scanned Wi-Fi networks").</summary>
/// <param name="Ssid">The network's name.</param>
/// <param name="Rssi">Signal strength in dBm, as the device reports it.</param>
/// <param name="Secured">Whether it needs a password ("YES"; "NO" for an open network).</param>
public sealed record ImprovNetwork(string Ssid, int Rssi, bool Secured);
