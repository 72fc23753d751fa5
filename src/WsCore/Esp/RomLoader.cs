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

    /// <summary>Commands whose failure ends the operation (<see cref="WsCoreException"/>).</summary>
    public RomCommandRunner Commands { get; }

    /// <summary>The chip's registers: READ_REG, WRITE_REG, the SPI flash command runner, the watchdogs.</summary>
    public RomRegisters Registers { get; }

    /// <summary>The request/response exchange underneath, for operations that handle each failure themselves.</summary>
    public RomConnection Connection => Commands.Connection;
}
