using System.CommandLine;
using Serilog;
using WsCore.Esp;

namespace Wsctl.Cli;

/// <summary>
/// <c>--port</c> of the verbs that talk to a board over its serial line (flash, monitor), and opening it.
/// </summary>
public static class SerialPortOption
{
    /// <summary>
    /// A new <c>--port/-p</c> option (a serial device, socket://HOST:PORT or auto; DEVICE completes ports).
    /// </summary>
    public static Option<string> Create() => new("--port", "-p")
    {
        Description = "Serial port (/dev/ttyUSB0), socket://HOST:PORT, or auto: the one known ESP32 USB adapter.",
        DefaultValueFactory = _ => "auto",
        HelpName = "DEVICE",
    };

    /// <summary>Where <c>auto</c> looks for adapters: /sys, or WSCTL_SYSFS_ROOT (the tests' fake tree).</summary>
    public static string SysfsRoot => Environment.GetEnvironmentVariable("WSCTL_SYSFS_ROOT") ?? "/sys";

    /// <summary>Opens the port the option names (see <see cref="SerialTransports.Open"/>).</summary>
    public static (ISerialTransport Transport, bool UsbJtagSerial) Open(string? port, int baud, ILogger logger,
        string linesRefusedHint = SerialPortTransport.DownloadModeByHand) =>
        SerialTransports.Open(port ?? "auto", baud, SysfsRoot, logger, linesRefusedHint);
}
