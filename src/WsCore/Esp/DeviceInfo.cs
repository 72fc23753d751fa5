using WsCore.Chips;

namespace WsCore.Esp;

/// <summary>What <see cref="EspDevice.ReadInfo"/> learnt of a chip (docs/esp32-rom-protocol.md §12).</summary>
/// <param name="Chip">The chip family.</param>
/// <param name="Facts">What its eFuses say: package, revision, features, MAC, crystal.</param>
/// <param name="Security">GET_SECURITY_INFO's answer, or null where the ROM has none (the ESP32).</param>
/// <param name="JedecId">The flash chip's JEDEC ID: manufacturer, memory type, capacity.</param>
/// <param name="FlashSize">The flash size the ID names ("4MB"), or null when it names none wsctl knows.</param>
public sealed record DeviceInfo(
    ChipDescriptor Chip, ChipFacts Facts, SecurityInfo? Security, uint JedecId, string? FlashSize)
{
    /// <summary>Whether secure boot is on, as the ROM or the eFuses say.</summary>
    public bool SecureBoot => Security?.SecureBoot ?? Facts.EfuseSecurity?.SecureBoot ?? false;

    /// <summary>Whether flash encryption is on, as the ROM or the eFuses say.</summary>
    public bool FlashEncryption => Security?.FlashEncryption ?? Facts.EfuseSecurity?.FlashEncryption ?? false;
}
