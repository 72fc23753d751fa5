using Serilog;

namespace WsCore.Esp;

/// <summary>
/// Opens what a serial port name names: <c>socket://HOST:PORT</c> (a TCP serial server), <c>auto</c> (the one known
/// ESP32 USB adapter, found through sysfs), or a serial device path. Shared by <c>flash</c> and <c>monitor</c>.
/// </summary>
public static class SerialTransports
{
    /// <summary>Opens <paramref name="port"/> at <paramref name="baud"/>.</summary>
    /// <param name="port">A device path, socket://HOST:PORT, or auto.</param>
    /// <param name="baud">The baud rate of a serial port (ignored over TCP).</param>
    /// <param name="logger">Where the adapter found and line warnings are logged.</param>
    /// <param name="sysfsRoot">Where <c>auto</c> looks for adapters (tests point it at a fake tree).</param>
    /// <param name="linesRefusedHint">What to tell the user when a port (a pty) refuses DTR/RTS.</param>
    /// <returns>The transport, and whether it is Espressif's USB-Serial/JTAG (which resets differently).</returns>
    /// <exception cref="WsCoreException">
    /// InvalidInput for a malformed socket:// URL or several adapters; Device when no adapter is found or the port
    /// cannot be opened.
    /// </exception>
    public static (ISerialTransport Transport, bool UsbJtagSerial) Open(
        string port,
        int baud,
        string sysfsRoot,
        ILogger logger,
        string linesRefusedHint = SerialPortTransport.DownloadModeByHand)
    {
        if (TcpSerialTransport.TryParseUrl(port, out var host, out var tcpPort))
            return (TcpSerialTransport.Connect(host, tcpPort, logger), false);
        if (port.StartsWith("socket://", StringComparison.OrdinalIgnoreCase))
            throw WsCoreException.Invalid(InputField.SerialPort, $"'{port}' is not socket://HOST:PORT");
        var usbJtag = false;
        if (port == "auto")
        {
            var found = new SerialPortFinder(sysfsRoot).Find();
            if (found.Count == 0)
                throw new WsCoreException(FailureKind.Device,
                    "no ESP32 USB serial adapter found (CP210x, CH340, CH9102, FTDI, Espressif USB-JTAG)",
                    "plug the board in with a data cable (not a charge-only one), or name the port, e.g. /dev/ttyUSB0")
                { Field = InputField.SerialPort };
            if (found.Count > 1)
                throw WsCoreException.Invalid(InputField.SerialPort,
                    "several ESP32 adapters found; name the one to use:\n" +
                    string.Join("\n", found.Select(c => $"  {c.DevicePath}  ({c.Kind}, {c.VendorId}:{c.ProductId})")));
            port = found[0].DevicePath;
            usbJtag = found[0].IsUsbJtagSerial;
            logger.Information("Using {Port} ({Kind})", port, found[0].Kind);
        }
        return (SerialPortTransport.Open(port, baud, logger, linesRefusedHint), usbJtag);
    }
}
