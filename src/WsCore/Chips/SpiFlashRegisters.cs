namespace WsCore.Chips;

/// <summary>
/// The SPI controller registers through which the ROM loader can send any command to the flash chip (esptool
/// <c>run_spiflash_command</c>; docs/esp32-rom-protocol.md §7): how the JEDEC ID is read when the flash size is to be
/// detected. Offsets are from <see cref="Base"/>, which is also the command register.
/// </summary>
public sealed record SpiFlashRegisters
{
    /// <summary>The controller's base address: its CMD register, whose USR bit starts a user command.</summary>
    public required uint Base { get; init; }

    /// <summary>SPI_USR: which phases the user command has (command, MISO).</summary>
    public required uint UsrOffset { get; init; }

    /// <summary>SPI_USR2: the command's bit length and value.</summary>
    public required uint Usr2Offset { get; init; }

    /// <summary>SPI_MISO_DLEN: how many bits to read back, minus one.</summary>
    public required uint MisoDlenOffset { get; init; }

    /// <summary>SPI_W0: the first data word, where what the flash answered arrives.</summary>
    public required uint W0Offset { get; init; }
}
