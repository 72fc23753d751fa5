using WsCore.Chips;

namespace WsCore.Esp;

/// <summary>
/// A ROM loader that answered SYNC and said which chip it runs on: what <see cref="LoaderConnector.Connect"/> returns,
/// and what every operation on the device (write, read, erase, verify, chip information) starts from.
/// </summary>
/// <remarks>One owner: not thread-safe.</remarks>
public sealed class RomLoader
{
    internal RomLoader(RomCommandRunner commands, ChipDescriptor chip)
    {
        Commands = commands;
        Registers = new RomRegisters(commands);
        Chip = chip;
    }

    /// <summary>The chip the loader runs on.</summary>
    public ChipDescriptor Chip { get; }

    /// <summary>
    /// What GET_SECURITY_INFO answered while the chip was detected, or null where the ROM does not know it (the
    /// ESP32's).
    /// </summary>
    public SecurityInfo? SecurityInfo { get; init; }

    /// <summary>The line's baud rate: the ROM's 115200, or the one it was changed to.</summary>
    public int BaudRate { get; internal set; } = LoaderConnector.RomBaudRate;

    /// <summary>Commands whose failure ends the operation (<see cref="WsCoreException"/>).</summary>
    public RomCommandRunner Commands { get; }

    /// <summary>The chip's registers: READ_REG, WRITE_REG, the SPI flash command runner, the watchdogs.</summary>
    public RomRegisters Registers { get; }

    /// <summary>The request/response exchange underneath, for operations that handle each failure themselves.</summary>
    public RomConnection Connection => Commands.Connection;
}
