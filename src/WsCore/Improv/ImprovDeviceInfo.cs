namespace WsCore.Improv;

/// <summary>What a device says of itself in answer to RPC 3 ("Request device information").</summary>
/// <param name="FirmwareName">The firmware's name, e.g. esp32ws or ESPHome.</param>
/// <param name="FirmwareVersion">Its version.</param>
/// <param name="Chip">The hardware chip or variant, e.g. ESP32-C3.</param>
/// <param name="DeviceName">The device's own name.</param>
public sealed record ImprovDeviceInfo(string FirmwareName, string FirmwareVersion, string Chip, string DeviceName);
