using WsCore.Chips;

namespace WsCore.Esp;

/// <summary>How to reach the ROM loader: reset, retries, the chip expected, the baud rate to change to.</summary>
public sealed record ConnectOptions
{
    /// <summary>How to reset into the bootloader.</summary>
    public BeforeReset Before { get; init; } = BeforeReset.DefaultReset;

    /// <summary>Whether the port is Espressif's USB-Serial/JTAG (its own reset sequence, its watchdogs).</summary>
    public bool UsbJtagSerial { get; init; }

    /// <summary>Connect attempts (each a reset plus 5 SYNC tries), esptool's default 7.</summary>
    public int ConnectAttempts { get; init; } = 7;

    /// <summary>The chip the user demands (null = accept what is detected).</summary>
    public ChipDescriptor? ExpectedChip { get; init; }

    /// <summary>
    /// A baud rate to switch to after SYNC, or null to stay at the ROM's 115200. Where the adapter refuses it or the
    /// link garbles it, the session goes on at 115200 (a warning says so).
    /// </summary>
    public int? Baud { get; init; }
}
