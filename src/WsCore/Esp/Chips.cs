namespace WsCore.Esp;

/// <summary>
/// What wsctl knows about one chip family, as data (esptool <c>targets/*.py</c>; esp32-rom-protocol.md §6 and §8).
/// </summary>
/// <param name="Name">Marketing name, e.g. "ESP32-S3".</param>
/// <param name="Id">The <c>--chip</c> spelling, e.g. "esp32s3".</param>
/// <param name="MagicValues">Values of READ_REG 0x40001000 that identify the chip (older detection path).</param>
/// <param name="SecurityInfoChipId">The chip id in GET_SECURITY_INFO (20-byte form), or null.</param>
/// <param name="BootloaderOffset">Where the second-stage bootloader lives in flash.</param>
/// <param name="Supported">Whether <c>wsctl flash</c> writes to this chip.</param>
/// <param name="FlashBeginWords">Words in FLASH_BEGIN/FLASH_DEFL_BEGIN on the ROM (4 on ESP32, 5 on later chips).</param>
/// <param name="ImageChipId">The chip id an image built for this chip carries in its extended header.</param>
/// <param name="DeflateSpillWindow">How far the ROM's compressed write programs past its data (a whole inflate
/// window; 0 when it does not), see <see cref="WritePlanner"/>.</param>
public sealed record ChipDescriptor(
    string Name,
    string Id,
    uint[] MagicValues,
    uint? SecurityInfoChipId,
    uint BootloaderOffset,
    bool Supported,
    int FlashBeginWords,
    ushort ImageChipId,
    int DeflateSpillWindow)
{
    /// <summary>Flash-size nibble (header byte 3, high) by size name (esptool <c>FLASH_SIZES</c>, ESP32).</summary>
    public IReadOnlyDictionary<string, byte> FlashSizes { get; init; } = new Dictionary<string, byte>
    {
        ["1MB"] = 0x00,
        ["2MB"] = 0x10,
        ["4MB"] = 0x20,
        ["8MB"] = 0x30,
        ["16MB"] = 0x40,
        ["32MB"] = 0x50,
        ["64MB"] = 0x60,
        ["128MB"] = 0x70,
    };

    /// <summary>Flash-frequency nibble (header byte 3, low) by name (esptool <c>FLASH_FREQUENCY</c>, ESP32).</summary>
    public IReadOnlyDictionary<string, byte> FlashFrequencies { get; init; } = new Dictionary<string, byte>
    {
        ["80m"] = 0x0F,
        ["40m"] = 0x00,
        ["26m"] = 0x01,
        ["20m"] = 0x02,
    };
}

/// <summary>The chips wsctl recognises.</summary>
public static class Chips
{
    /// <summary>The READ_REG address whose value identifies the chip on older ROMs.</summary>
    public const uint MagicRegister = 0x40001000;

    /// <summary>The ROM inflate window (tinfl's 32 KiB dictionary).</summary>
    private const int InflateWindow = 32 * 1024;

    // Spill: observed on the ESP32 mask ROM and absent on the ESP32-C3's (Espressif's QEMU with the real ROMs).
    // The S2 and S3 ROMs have not been observed, so they are assumed to spill: a plain tail costs a little time,
    // a wrong guess would cost the user's data.
    public static readonly ChipDescriptor Esp32 = new("ESP32", "esp32", [0x00F01D83], null, 0x1000, true, 4, 0, InflateWindow);
    public static readonly ChipDescriptor Esp32S2 = new("ESP32-S2", "esp32s2", [0x000007C6], 2, 0x1000, false, 5, 2, InflateWindow);
    public static readonly ChipDescriptor Esp32S3 = new("ESP32-S3", "esp32s3", [0x9], 9, 0x0, false, 5, 9, InflateWindow);
    public static readonly ChipDescriptor Esp32C3 = new("ESP32-C3", "esp32c3",
        [0x6921506F, 0x1B31506F, 0x4881606F, 0x4361606F], 5, 0x0, false, 5, 5, 0);

    public static readonly IReadOnlyList<ChipDescriptor> All = [Esp32, Esp32S2, Esp32S3, Esp32C3];

    /// <summary>The chip whose magic register value is <paramref name="magic"/>, or null.</summary>
    public static ChipDescriptor? ByMagic(uint magic) => All.FirstOrDefault(c => c.MagicValues.Contains(magic));

    /// <summary>The chip with GET_SECURITY_INFO chip id <paramref name="chipId"/>, or null.</summary>
    public static ChipDescriptor? BySecurityInfoChipId(uint chipId) => All.FirstOrDefault(c => c.SecurityInfoChipId == chipId);

    /// <summary>The chip whose images carry <paramref name="imageChipId"/>, or null.</summary>
    public static ChipDescriptor? ByImageChipId(ushort imageChipId) => All.FirstOrDefault(c => c.ImageChipId == imageChipId);

    /// <summary>The chip named <paramref name="id"/> (e.g. "esp32"), or null.</summary>
    public static ChipDescriptor? ById(string id) =>
        All.FirstOrDefault(c => string.Equals(c.Id, id.Replace("-", ""), StringComparison.OrdinalIgnoreCase));
}
