namespace WsCore.Chips;

/// <summary>The chips wsctl recognises (esptool <c>targets/*.py</c>; docs/esp32-rom-protocol.md §6).</summary>
public static class KnownChips
{
    /// <summary>The READ_REG address whose value identifies the chip on older ROMs.</summary>
    public const uint MagicRegister = 0x40001000;

    /// <summary>The ROM inflate window (tinfl's 32 KiB dictionary).</summary>
    private const int InflateWindow = 32 * 1024;

    // The SPI flash controller of every chip after the ESP32 (SPI_MEM_* in ESP-IDF's spi_mem_reg.h), at its base.
    private static SpiFlashRegisters LaterSpi(uint controllerBase) => new()
    {
        Base = controllerBase,
        UsrOffset = 0x18,
        Usr2Offset = 0x20,
        MisoDlenOffset = 0x28,
        W0Offset = 0x58,
    };

    // The eFuse block 1 of the later chips (esptool targets/esp32s2.py, esp32s3.py, esp32c3.py: EFUSE_BLOCK1_ADDR,
    // the MAC in its first two words), and the bits of its word n.
    private static EfuseBits Bits(uint block1, int word, int shift, int width) =>
        new(block1 + (uint)(4 * word), shift, width);

    private static Block1Efuses S2Efuses(uint block1) => new()
    {
        MacLow = block1,
        Major = new(Bits(block1, 3, 18, 2)),
        Minor = new(Bits(block1, 3, 20, 1), Bits(block1, 4, 4, 3)),
        // The S2's package name comes from its embedded PSRAM (high nibble here) and flash (low nibble).
        Package = new(Bits(block1, 3, 28, 4), Bits(block1, 3, 21, 4)),
        PackageNames = new Dictionary<uint, string>
        {
            [0x00] = "ESP32-S2",
            [0x01] = "ESP32-S2FH2",
            [0x02] = "ESP32-S2FH4",
            [0x10] = "ESP32-S2R2",
            [0x12] = "ESP32-S2FNR2",
        },
        UnknownPackage = "Unknown ESP32-S2",
        FixedFeatures = ["Wi-Fi", "Single Core", "240MHz"],
        Embedded =
        [
            (new(Bits(block1, 3, 21, 4)), new Dictionary<uint, string>
            {
                [0] = "No Embedded Flash", [1] = "Embedded Flash 2MB", [2] = "Embedded Flash 4MB",
            }),
            (new(Bits(block1, 3, 28, 4)), new Dictionary<uint, string>
            {
                [0] = "No Embedded PSRAM", [1] = "Embedded PSRAM 2MB", [2] = "Embedded PSRAM 4MB",
            }),
        ],
    };

    // esptool also reads the S3's major revision as 0 on its first wafers (eco0, block version 1.1): not done here,
    // the S3 has not been observed.
    private static Block1Efuses S3Efuses(uint block1) => new()
    {
        MacLow = block1,
        Major = new(Bits(block1, 5, 24, 2)),
        Minor = new(Bits(block1, 5, 23, 1), Bits(block1, 3, 18, 3)),
        Package = new(Bits(block1, 3, 21, 3)),
        PackageNames = new Dictionary<uint, string> { [0] = "ESP32-S3 (QFN56)", [1] = "ESP32-S3-PICO-1 (LGA56)" },
        UnknownPackage = "Unknown ESP32-S3",
        FixedFeatures = ["Wi-Fi", "BT 5 (LE)", "Dual Core + LP Core", "240MHz"],
        Embedded =
        [
            (new(Bits(block1, 3, 27, 3)), new Dictionary<uint, string>
            {
                [1] = "Embedded Flash 8MB", [2] = "Embedded Flash 4MB",
            }),
            (new(Bits(block1, 5, 19, 1), Bits(block1, 4, 3, 2)), new Dictionary<uint, string>
            {
                [1] = "Embedded PSRAM 8MB", [2] = "Embedded PSRAM 2MB", [3] = "Embedded PSRAM 16MB",
                [4] = "Embedded PSRAM 4MB",
            }),
        ],
    };

    private static Block1Efuses C3Efuses(uint block1) => new()
    {
        MacLow = block1,
        Major = new(Bits(block1, 5, 24, 2)),
        Minor = new(Bits(block1, 5, 23, 1), Bits(block1, 3, 18, 3)),
        Package = new(Bits(block1, 3, 21, 3)),
        PackageNames = new Dictionary<uint, string>
        {
            [0] = "ESP32-C3 (QFN32)",
            [1] = "ESP8685 (QFN28)",
            [2] = "ESP32-C3 AZ (QFN32)",
            [3] = "ESP8686 (QFN24)",
        },
        UnknownPackage = "Unknown ESP32-C3",
        FixedFeatures = ["Wi-Fi", "BT 5 (LE)", "Single Core", "160MHz"],
        Embedded =
        [
            (new(Bits(block1, 3, 27, 3)), new Dictionary<uint, string>
            {
                [1] = "Embedded Flash 4MB", [2] = "Embedded Flash 2MB", [3] = "Embedded Flash 1MB",
                [4] = "Embedded Flash 8MB",
            }),
        ],
    };

    // Spill: observed on the ESP32 mask ROM and absent on the ESP32-C3's (Espressif's QEMU with the real ROMs).
    // The S2 and S3 ROMs have not been observed, so they are assumed to spill: a plain tail costs a little time,
    // a wrong guess would cost the user's data.
    public static readonly ChipDescriptor Esp32 = new()
    {
        Name = "ESP32",
        Id = "esp32",
        MagicValues = [0x00F01D83],
        SecurityInfoChipId = null, // its ROM does not know GET_SECURITY_INFO
        BootloaderOffset = 0x1000,
        FlashBeginWords = 4,
        ImageChipId = 0,
        DeflateSpillWindow = InflateWindow,
        Spi = new()
        {
            Base = 0x3FF42000,
            UsrOffset = 0x1C,
            Usr2Offset = 0x24,
            MisoDlenOffset = 0x2C,
            W0Offset = 0x80,
        },
        ScalesBaudRate = true,
        Efuses = new Esp32Efuses(),
    };

    public static readonly ChipDescriptor Esp32S2 = new()
    {
        Name = "ESP32-S2",
        Id = "esp32s2",
        MagicValues = [0x000007C6],
        SecurityInfoChipId = 2, // named in esptool, but the S2 ROM's answer is the 12-byte form without it
        BootloaderOffset = 0x1000,
        FlashBeginWords = 5,
        ImageChipId = 2,
        DeflateSpillWindow = InflateWindow,
        Spi = LaterSpi(0x3F402000),
        Efuses = S2Efuses(0x3F41A044),
    };

    public static readonly ChipDescriptor Esp32S3 = new()
    {
        Name = "ESP32-S3",
        Id = "esp32s3",
        MagicValues = [0x9],
        SecurityInfoChipId = 9,
        BootloaderOffset = 0x0,
        FlashBeginWords = 5,
        ImageChipId = 9,
        DeflateSpillWindow = InflateWindow,
        Spi = LaterSpi(0x60002000),
        Efuses = S3Efuses(0x60007044),
        Watchdogs = new()
        {
            WdtConfig0 = 0x60008098,
            WdtProtect = 0x600080B0,
            SwdConf = 0x600080B4,
            SwdProtect = 0x600080B8,
        },
    };

    public static readonly ChipDescriptor Esp32C3 = new()
    {
        Name = "ESP32-C3",
        Id = "esp32c3",
        MagicValues = [0x6921506F, 0x1B31506F, 0x4881606F, 0x4361606F],
        SecurityInfoChipId = 5,
        BootloaderOffset = 0x0,
        FlashBeginWords = 5,
        ImageChipId = 5,
        DeflateSpillWindow = 0,
        Spi = LaterSpi(0x60002000),
        Efuses = C3Efuses(0x60008844),
        Watchdogs = new()
        {
            WdtConfig0 = 0x60008090,
            WdtProtect = 0x600080A8,
            SwdConf = 0x600080AC,
            SwdProtect = 0x600080B0,
        },
    };

    public static readonly IReadOnlyList<ChipDescriptor> All = [Esp32, Esp32S2, Esp32S3, Esp32C3];

    /// <summary>The chip whose magic register value is <paramref name="magic"/>, or null.</summary>
    public static ChipDescriptor? ByMagic(uint magic) => All.FirstOrDefault(c => c.MagicValues.Contains(magic));

    /// <summary>The chip with GET_SECURITY_INFO chip id <paramref name="chipId"/>, or null.</summary>
    public static ChipDescriptor? BySecurityInfoChipId(uint chipId) =>
        All.FirstOrDefault(c => c.SecurityInfoChipId == chipId);

    /// <summary>The chip whose images carry <paramref name="imageChipId"/>, or null.</summary>
    public static ChipDescriptor? ByImageChipId(ushort imageChipId) =>
        All.FirstOrDefault(c => c.ImageChipId == imageChipId);

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
