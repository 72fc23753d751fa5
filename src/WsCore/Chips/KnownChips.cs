namespace WsCore.Chips;

/// <summary>
/// What wsctl knows about one chip family, as data (esptool <c>targets/*.py</c>; esp32-rom-protocol.md §6 and §8).
/// </summary>
/// <param name="Name">Marketing name, e.g. "ESP32-S3".</param>
/// <param name="Id">The short name (esptool's and ESP-IDF's spelling), e.g. "esp32s3".</param>
/// <param name="MagicValues">Values of READ_REG 0x40001000 that identify the chip (older detection path).</param>
/// <param name="SecurityInfoChipId">The chip id in GET_SECURITY_INFO (20-byte form), or null.</param>
/// <param name="BootloaderOffset">Where the second-stage bootloader lives in flash.</param>
/// <param name="Supported">Whether the flasher (<c>Esp.EspFlasher</c>) writes to this chip.</param>
/// <param name="FlashBeginWords">Words in FLASH_BEGIN/FLASH_DEFL_BEGIN on the ROM (4 on ESP32, 5 on later
/// chips).</param>
/// <param name="ImageChipId">The chip id an image built for this chip carries in its extended header.</param>
/// <param name="DeflateSpillWindow">How far the ROM's compressed write programs past its data (a whole inflate
/// window; 0 when it does not), see <c>Esp.WritePlanner</c>.</param>
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

    /// <summary>The SPI registers for raw flash commands (the JEDEC ID), or null.</summary>
    public SpiFlashRegisters? Spi { get; init; }

    /// <summary>Watchdogs to stop when connected through the chip's own USB-Serial/JTAG port, or null.</summary>
    public WatchdogRegisters? Watchdogs { get; init; }

    /// <summary>
    /// Whether the ROM's CHANGE_BAUDRATE needs the rate scaled for its clock estimate (the ESP32 only).
    /// </summary>
    public bool ScalesBaudRate { get; init; }

    /// <summary>Flash-frequency nibble (header byte 3, low) by name (esptool <c>FLASH_FREQUENCY</c>, ESP32).</summary>
    public IReadOnlyDictionary<string, byte> FlashFrequencies { get; init; } = new Dictionary<string, byte>
    {
        ["80m"] = 0x0F,
        ["40m"] = 0x00,
        ["26m"] = 0x01,
        ["20m"] = 0x02,
    };
}

/// <summary>
/// The SPI controller registers through which the ROM loader can send any command to the flash chip (esptool
/// <c>run_spiflash_command</c>): how the JEDEC ID is read when the flash size is to be detected.
/// </summary>
public sealed record SpiFlashRegisters(
    uint Base,
    uint UsrOffset,
    uint Usr1Offset,
    uint Usr2Offset,
    uint MosiDlenOffset,
    uint MisoDlenOffset,
    uint W0Offset);

/// <summary>
/// The RTC watchdog and super watchdog registers of chips with a USB-Serial/JTAG port, whose reset does not stop
/// them: left running they reset the chip in the middle of a write (esptool <c>disable_watchdogs</c>).
/// </summary>
public sealed record WatchdogRegisters(uint WdtConfig0, uint WdtProtect, uint SwdConf, uint SwdProtect)
{
    public const uint WdtKey = 0x50D83AA1;
    public const uint SwdKey = 0x8F1D312A;
    public const uint SwdAutoFeed = 1u << 31;
}

/// <summary>The chips wsctl recognises (esptool <c>targets/*.py</c>; esp32-rom-protocol.md §6).</summary>
public static class KnownChips
{
    /// <summary>The READ_REG address whose value identifies the chip on older ROMs.</summary>
    public const uint MagicRegister = 0x40001000;

    /// <summary>The ROM inflate window (tinfl's 32 KiB dictionary).</summary>
    private const int InflateWindow = 32 * 1024;

    // Spill: observed on the ESP32 mask ROM and absent on the ESP32-C3's (Espressif's QEMU with the real ROMs).
    // The S2 and S3 ROMs have not been observed, so they are assumed to spill: a plain tail costs a little time,
    // a wrong guess would cost the user's data.
    public static readonly ChipDescriptor Esp32 = new(
        "ESP32", "esp32", [0x00F01D83], null, 0x1000, true, 4, 0, InflateWindow)
    {
        Spi = new(0x3FF42000, 0x1C, 0x20, 0x24, 0x28, 0x2C, 0x80),
        ScalesBaudRate = true,
    };
    public static readonly ChipDescriptor Esp32S2 = new(
        "ESP32-S2", "esp32s2", [0x000007C6], 2, 0x1000, true, 5, 2, InflateWindow)
    {
        Spi = new(0x3F402000, 0x18, 0x1C, 0x20, 0x24, 0x28, 0x58),
    };
    public static readonly ChipDescriptor Esp32S3 = new("ESP32-S3", "esp32s3", [0x9], 9, 0x0, true, 5, 9, InflateWindow)
    {
        Spi = new(0x60002000, 0x18, 0x1C, 0x20, 0x24, 0x28, 0x58),
        Watchdogs = new(0x60008098, 0x600080B0, 0x600080B4, 0x600080B8),
    };
    public static readonly ChipDescriptor Esp32C3 = new("ESP32-C3", "esp32c3",
        [0x6921506F, 0x1B31506F, 0x4881606F, 0x4361606F], 5, 0x0, true, 5, 5, 0)
    {
        Spi = new(0x60002000, 0x18, 0x1C, 0x20, 0x24, 0x28, 0x58),
        Watchdogs = new(0x60008090, 0x600080A8, 0x600080AC, 0x600080B0),
    };

    public static readonly IReadOnlyList<ChipDescriptor> All = [Esp32, Esp32S2, Esp32S3, Esp32C3];

    /// <summary>The chip whose magic register value is <paramref name="magic"/>, or null.</summary>
    public static ChipDescriptor? ByMagic(uint magic) => All.FirstOrDefault(c => c.MagicValues.Contains(magic));

    /// <summary>The chip with GET_SECURITY_INFO chip id <paramref name="chipId"/>, or null.</summary>
    public static ChipDescriptor? BySecurityInfoChipId(uint chipId) => All.FirstOrDefault(c => c.SecurityInfoChipId
        == chipId);

    /// <summary>The chip whose images carry <paramref name="imageChipId"/>, or null.</summary>
    public static ChipDescriptor? ByImageChipId(ushort imageChipId) => All.FirstOrDefault(c => c.ImageChipId
        == imageChipId);

    /// <summary>The chip named <paramref name="id"/> (e.g. "esp32"), or null.</summary>
    public static ChipDescriptor? ById(string id) =>
        All.FirstOrDefault(c => string.Equals(c.Id, id.Replace("-", ""), StringComparison.OrdinalIgnoreCase));

    /// <summary>
    /// The flash size a JEDEC ID (manufacturer, type, capacity; esptool <c>flash_id</c>) names, e.g. "4MB", or null
    /// when its capacity byte is not one esptool knows (<c>DETECTED_FLASH_SIZES</c>).
    /// </summary>
    public static string? FlashSizeFromJedec(uint jedec) => ((jedec >> 16) & 0xFF) switch
    {
        0x14 or 0x34 => "1MB",
        0x15 or 0x35 => "2MB",
        0x16 or 0x36 => "4MB",
        0x17 or 0x37 => "8MB",
        0x18 or 0x38 => "16MB",
        0x19 or 0x39 => "32MB",
        0x1A or 0x20 or 0x3A => "64MB",
        0x1B or 0x21 => "128MB",
        _ => null,
    };
}
