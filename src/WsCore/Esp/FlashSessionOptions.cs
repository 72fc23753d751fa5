using WsCore.Chips;

namespace WsCore.Esp;

/// <summary>
/// Options of one flashing run: how to connect (<see cref="Connection"/>), then how to write and how to leave.
/// </summary>
public sealed record FlashSessionOptions
{
    /// <summary>How to reset into the bootloader.</summary>
    public BeforeReset Before { get; init; } = BeforeReset.DefaultReset;

    /// <summary>What to do when done.</summary>
    public AfterReset After { get; init; } = AfterReset.HardReset;

    /// <summary>A baud rate to switch to after SYNC, or null to stay at 115200.</summary>
    public int? Baud { get; init; }

    /// <summary>
    /// The flash size in bytes for SPI_SET_PARAMS, or null to detect it from the flash chip's JEDEC ID.
    /// </summary>
    public uint? FlashSize { get; init; } = 4 * 1024 * 1024;

    /// <summary>Whether the port is Espressif's USB-Serial/JTAG (its own reset sequence, its watchdogs).</summary>
    public bool UsbJtagSerial { get; init; }

    /// <summary>Connect attempts (each a reset plus 5 SYNC tries), esptool's default 7.</summary>
    public int ConnectAttempts { get; init; } = 7;

    /// <summary>Tries per data block before the region is given up (and retried once from the start).</summary>
    public int BlockAttempts { get; init; } = 3;

    /// <summary>The chip the user demands (null = accept what is detected).</summary>
    public ChipDescriptor? ExpectedChip { get; init; }

    /// <summary>Write images even when their header names another chip than the one detected.</summary>
    public bool Force { get; init; }

    /// <summary>
    /// Erase the whole flash before writing (esptool's <c>--erase-all</c>): nothing of what it held survives, the
    /// Wi-Fi credentials of an earlier NVS partition included; every region is then written.
    /// </summary>
    public bool EraseAll { get; init; }

    /// <summary>The options that say how to reach the loader, for <see cref="LoaderConnector.Connect"/>.</summary>
    public ConnectOptions Connection => new()
    {
        Before = Before,
        UsbJtagSerial = UsbJtagSerial,
        ConnectAttempts = ConnectAttempts,
        ExpectedChip = ExpectedChip,
        Baud = Baud,
    };
}
