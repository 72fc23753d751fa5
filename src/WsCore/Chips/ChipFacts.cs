namespace WsCore.Chips;

/// <summary>
/// What a chip's eFuses say about it (esptool <c>chip_id</c>, <c>read_mac</c>; docs/esp32-rom-protocol.md §12).
/// </summary>
/// <param name="Description">The package, e.g. "ESP32-D0WDQ6", "ESP32-C3 (QFN32)".</param>
/// <param name="MajorRevision">The chip revision's major number (v<c>MAJOR.MINOR</c>).</param>
/// <param name="MinorRevision">The chip revision's minor number.</param>
/// <param name="Features">e.g. "Wi-Fi", "BT", "Dual Core", in esptool's words.</param>
/// <param name="Mac">The base MAC address (6 bytes), as the factory burnt it.</param>
/// <param name="CrystalMhz">The crystal's frequency in MHz (26, 40 or 48).</param>
/// <param name="EfuseSecurity">
/// Secure boot and flash encryption as the eFuses say, on a chip whose ROM has no GET_SECURITY_INFO (the ESP32);
/// null where the ROM says it.
/// </param>
public sealed record ChipFacts(
    string Description,
    uint MajorRevision,
    uint MinorRevision,
    IReadOnlyList<string> Features,
    byte[] Mac,
    int CrystalMhz,
    EfuseSecurity? EfuseSecurity)
{
    /// <summary>The revision as esptool writes it, e.g. "v3.1".</summary>
    public string Revision => $"v{MajorRevision}.{MinorRevision}";

    /// <summary>The MAC address as xx:xx:xx:xx:xx:xx.</summary>
    public string MacText => string.Join(':', Mac.Select(b => b.ToString("x2", null)));
}
