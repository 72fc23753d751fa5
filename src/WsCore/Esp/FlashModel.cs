using WsCore.Chips;
using WsCore.Flashing;

namespace WsCore.Esp;

/// <summary>What a flashing run reports to its front end.</summary>
public enum FlashEventKind
{
    Connecting,
    Connected,
    RegionStarted,
    RegionProgress,
    RegionSkipped,
    RegionVerified,
    Retrying,
    Resetting,
    Done,
}

/// <summary>A progress event. Carries no secret: region names and sizes only.</summary>
/// <param name="Kind">What happened.</param>
/// <param name="Region">The region concerned, or null.</param>
/// <param name="Done">Uncompressed bytes of the region written so far.</param>
/// <param name="Total">The region's size.</param>
/// <param name="Message">Detail: the chip name, the reason for a retry, the MD5.</param>
public readonly record struct FlashEvent(
    FlashEventKind Kind, FlashRegion? Region = null, long Done = 0, long Total = 0, string? Message = null);

/// <summary>Receives progress events. Implementations render them (a bar, plain lines, JSON).</summary>
public interface IFlashObserver
{
    void OnEvent(in FlashEvent e);
}

/// <summary>Options of one flashing run.</summary>
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

    /// <summary>Whether the port is Espressif's USB-Serial/JTAG (its own reset sequence).</summary>
    public bool UsbJtagSerial { get; init; }

    /// <summary>Connect attempts (each a reset plus 5 SYNC tries), esptool's default 7.</summary>
    public int ConnectAttempts { get; init; } = 7;

    /// <summary>Tries per data block before the region is given up (and retried once from the start).</summary>
    public int BlockAttempts { get; init; } = 3;

    /// <summary>The chip the user demands (null = accept what is detected, if supported).</summary>
    public ChipDescriptor? ExpectedChip { get; init; }

    /// <summary>Write images even when their header names another chip than the one detected.</summary>
    public bool Force { get; init; }
}
