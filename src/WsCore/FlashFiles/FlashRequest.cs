using WsCore.Chips;
using WsCore.Nvs;

namespace WsCore.FlashFiles;

/// <summary>What the user asked to write, before any file is read: paths, settings and flash parameters.</summary>
public sealed record FlashRequest
{
    /// <summary>
    /// An ESP-IDF build directory (with flasher_args.json) or an app .bin (written at 0x10000), or null.
    /// </summary>
    public string? Firmware { get; init; }

    /// <summary>Explicit (offset, file) images, written as given.</summary>
    public IReadOnlyList<(uint Offset, string Path)> Images { get; init; } = [];

    /// <summary>Settings to write as the NVS partition, or null for none.</summary>
    public DeviceSettings? Settings { get; init; }

    /// <summary>Flash mode/size/frequency; null takes flasher_args.json's value, else "keep".</summary>
    public string? FlashMode { get; init; }
    public string? FlashSize { get; init; }
    public string? FlashFreq { get; init; }

    /// <summary>
    /// The chip to plan for when the build does not name one (flasher_args.json's "chip" wins): where the bootloader
    /// goes, and which flash sizes and frequencies its header takes.
    /// </summary>
    public ChipDescriptor Chip { get; init; } = KnownChips.Esp32;

    /// <summary>Write the bootloader and app even when their image headers are not well formed.</summary>
    public bool Force { get; init; }
}
