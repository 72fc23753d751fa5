namespace WsCore.Chips;

/// <summary>
/// What wsctl knows about one chip family, as data (esptool <c>targets/*.py</c>;
/// docs/esp32-rom-protocol.md §6 and §10). <see cref="KnownChips"/> holds the ones wsctl recognises.
/// </summary>
public sealed record ChipDescriptor
{
    /// <summary>Marketing name, e.g. "ESP32-S3".</summary>
    public required string Name { get; init; }

    /// <summary>The short name (esptool's and ESP-IDF's spelling), e.g. "esp32s3".</summary>
    public required string Id { get; init; }

    /// <summary>
    /// Values of READ_REG <see cref="KnownChips.MagicRegister"/> that identify the chip: the detection path of ROMs
    /// that do not answer GET_SECURITY_INFO with a chip id.
    /// </summary>
    public required IReadOnlyList<uint> MagicValues { get; init; }

    /// <summary>The chip id in GET_SECURITY_INFO's 20-byte answer, or null when its ROM sends none.</summary>
    public uint? SecurityInfoChipId { get; init; }

    /// <summary>Where the second-stage bootloader lives in flash.</summary>
    public required uint BootloaderOffset { get; init; }

    /// <summary>
    /// Words in FLASH_BEGIN/FLASH_DEFL_BEGIN on the ROM: 4 on the ESP32, 5 (the last an encryption flag) later.
    /// </summary>
    public required int FlashBeginWords { get; init; }

    /// <summary>The chip id an image built for this chip carries in its extended header.</summary>
    public required ushort ImageChipId { get; init; }

    /// <summary>
    /// How far the ROM's compressed write programs past its data (a whole inflate window; 0 when it does not), see
    /// <c>Esp.WritePlanner</c>.
    /// </summary>
    public required int DeflateSpillWindow { get; init; }

    /// <summary>The SPI controller registers for raw flash commands (how the JEDEC ID is read).</summary>
    public required SpiFlashRegisters Spi { get; init; }

    /// <summary>Where the chip's MAC, revision, package and features are, and how they decode.</summary>
    public required EfuseLayout Efuses { get; init; }

    /// <summary>Watchdogs to stop when connected through the chip's own USB-Serial/JTAG port, or null.</summary>
    public WatchdogRegisters? Watchdogs { get; init; }

    /// <summary>
    /// Whether the ROM's CHANGE_BAUDRATE needs the rate scaled for its clock estimate (the ESP32 only).
    /// </summary>
    public bool ScalesBaudRate { get; init; }

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
