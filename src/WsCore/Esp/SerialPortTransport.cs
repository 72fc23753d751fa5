using System.IO.Ports;
using Serilog;

namespace WsCore.Esp;

/// <summary>
/// A local serial port through System.IO.Ports, 8N1, no flow control (docs/esp32-rom-protocol.md §1). On a
/// pseudo-terminal every DTR/RTS change throws IOException (ENOTTY); like esptool, that is logged once and the
/// reset is skipped (docs/esp32-rom-protocol.md §5).
/// </summary>
public sealed class SerialPortTransport : ISerialTransport
{
    private readonly SerialPort _port;
    private readonly ILogger _logger;
    private readonly string _linesRefusedHint;
    private bool _linesRefused;

    private SerialPortTransport(SerialPort port, ILogger logger, string linesRefusedHint)
    {
        _port = port;
        _logger = logger;
        _linesRefusedHint = linesRefusedHint;
    }

    /// <summary>What the warning about refused DTR/RTS lines tells a user of the ROM loader to do.</summary>
    public const string DownloadModeByHand = "Put it into download mode by hand (hold BOOT, tap EN) if the " +
        "connection fails";

    /// <summary>Opens <paramref name="path"/> at <paramref name="baud"/>.</summary>
    /// <param name="path">The device, e.g. /dev/ttyUSB0.</param>
    /// <param name="baud">The baud rate.</param>
    /// <param name="logger">Where the warning about refused DTR/RTS lines goes.</param>
    /// <param name="linesRefusedHint">The sentence after "the chip was NOT reset" when the port refuses DTR/RTS (a
    /// pty).</param>
    /// <exception cref="WsCoreException">
    /// Device, saying what happened: no such port (with the ports that exist), not a serial device, permission
    /// denied (with the dialout hint), busy (only when the system says so), or the system's own words.
    /// </exception>
    public static SerialPortTransport Open(
        string path, int baud, ILogger? logger = null, string linesRefusedHint = DownloadModeByHand)
    {
        if (!Path.Exists(path))
            throw WithPorts($"{path}: no such serial port", null, null);
        if (Directory.Exists(path))
            throw WithPorts($"{path}: is a directory, not a serial port", null, null);
        // Both lines low before Open(): on some drivers opening with them asserted resets the chip (loader.py
        // __init__).
        var port = new SerialPort(path, baud, Parity.None, 8, StopBits.One)
        {
            Handshake = Handshake.None,
            DtrEnable = false,
            RtsEnable = false,
            ReadTimeout = 100,
            WriteTimeout = 10_000,
            ReadBufferSize = 64 * 1024,
        };
        try
        {
            port.Open();
        }
        catch (Exception e) when (e is UnauthorizedAccessException or IOException or ArgumentException
            or InvalidOperationException)
        {
            port.Dispose();
            throw OpenFailure(path, e);
        }
        return new SerialPortTransport(port, logger ?? Serilog.Core.Logger.None, linesRefusedHint);
    }

    /// <summary>
    /// What an Open failure means. System.IO.Ports wraps every open(2)/tcgetattr failure in "access denied"; the
    /// inner exception carries the system's message (strerror), which tells the cases apart.
    /// </summary>
    private static WsCoreException OpenFailure(string path, Exception e)
    {
        var reason = (e.InnerException as IOException)?.Message ?? e.Message;
        if (reason.Contains("Inappropriate ioctl", StringComparison.OrdinalIgnoreCase))
            return WithPorts($"{path}: not a serial device", null, e);
        if (reason.Contains("Permission denied", StringComparison.OrdinalIgnoreCase)
            || e is UnauthorizedAccessException && e.InnerException is null)
            return new WsCoreException(FailureKind.Device, $"{path}: permission denied",
                "add yourself to the dialout group: sudo usermod -aG dialout $USER, then log in again", e);
        if (reason.Contains("busy", StringComparison.OrdinalIgnoreCase))
            return new WsCoreException(
                FailureKind.Device,
                $"{path}: the port is busy",
                "close the program that holds it (a serial monitor, idf.py monitor, screen, minicom), then try again",
                e);
        if (reason.Contains("No such", StringComparison.OrdinalIgnoreCase))
            return WithPorts($"{path}: the device is gone ({reason})", "check the cable", e);
        return WithPorts($"{path}: cannot open the serial port ({reason})", "check the cable and the port name", e);
    }

    /// <summary>A Device failure whose hint lists the serial ports there are, after any advice.</summary>
    private static WsCoreException WithPorts(string message, string? advice, Exception? e)
    {
        var adapters = new SerialPortFinder().Find().Select(c => $"{c.DevicePath} ({c.Kind})").ToList();
        var others = SerialPort.GetPortNames()
            .Where(p => p.Contains("USB", StringComparison.Ordinal) || p.Contains("ACM", StringComparison.Ordinal))
            .Where(p => adapters.All(a => !a.StartsWith(p + " ", StringComparison.Ordinal)));
        var all = adapters.Concat(others).ToList();
        var ports = all.Count == 0
            ? "no USB serial port is connected: plug the board in (a data cable), then let the port be found"
            : $"serial ports here: {string.Join(", ", all)}";
        // With none connected the advice is about the port setting itself (auto-detection): say so to the front end.
        return new WsCoreException(FailureKind.Device, message, advice is null ? ports : $"{advice}; {ports}", e)
        {
            HintField = all.Count == 0 ? InputField.SerialPort : null,
        };
    }

    public string Name => _port.PortName;

    public bool CanControlLines => !_linesRefused;

    public void Write(ReadOnlySpan<byte> data)
    {
        var buffer = data.ToArray();
        try
        {
            _port.BaseStream.Write(buffer, 0, buffer.Length);
            _port.BaseStream.Flush();
        }
        catch (Exception e) when (e is IOException or TimeoutException or InvalidOperationException)
        {
            throw new WsCoreException(FailureKind.Device, $"{Name}: write failed ({e.Message})",
                "check the cable; the board may have been unplugged", e);
        }
    }

    public int Read(Span<byte> buffer, TimeSpan timeout)
    {
        var deadline = Deadline.After(timeout);
        try
        {
            while (true)
            {
                if (_port.BytesToRead > 0)
                {
                    var n = Math.Min(buffer.Length, _port.BytesToRead);
                    var temp = new byte[n];
                    var got = _port.Read(temp, 0, n);
                    temp.AsSpan(0, got).CopyTo(buffer);
                    return got;
                }
                var left = deadline.Left;
                if (left <= TimeSpan.Zero)
                    return 0;
                Thread.Sleep(Math.Min(5, Math.Max(1, (int)left.TotalMilliseconds)));
            }
        }
        catch (Exception e) when (e is IOException or InvalidOperationException)
        {
            throw new WsCoreException(FailureKind.Device, $"{Name}: read failed ({e.Message})",
                "check the cable; the board may have been unplugged", e);
        }
    }

    public void SetDtr(bool asserted) => SetLine(() => _port.DtrEnable = asserted);

    public void SetRts(bool asserted) => SetLine(() =>
    {
        _port.RtsEnable = asserted;
        // Windows usbser.sys passes a new RTS state on only with the next DTR write (esptool _setRTS).
        if (OperatingSystem.IsWindows())
            _port.DtrEnable = _port.DtrEnable;
    });

    public void SetBaudRate(int baud)
    {
        try
        {
            _port.BaudRate = baud;
        }
        catch (Exception e) when (e is IOException or ArgumentException)
        {
            throw new WsCoreException(FailureKind.Device, $"{Name}: cannot set {baud} baud ({e.Message})",
                "try a standard rate such as 460800 or 921600, or leave the rate as it is", e)
            {
                Field = InputField.Baud,
            };
        }
    }

    public void DiscardInput()
    {
        try
        {
            _port.DiscardInBuffer();
        }
        catch (IOException)
        {
            // A pty may refuse TCFLUSH as it refuses the modem lines; reading drains it instead.
            var sink = new byte[256];
            while (Read(sink, TimeSpan.Zero) > 0) { }
        }
    }

    public void Dispose() => _port.Dispose();

    private void SetLine(Action set)
    {
        if (_linesRefused)
            return;
        try
        {
            set();
        }
        catch (IOException e)
        {
            // esptool: "Chip was NOT reset" and carry on (docs/esp32-rom-protocol.md §5, testing through a pty).
            _linesRefused = true;
            _logger.Warning(
                "{Port} does not accept DTR/RTS changes ({Reason}); the chip was NOT reset. {Hint}",
                Name,
                e.Message,
                _linesRefusedHint);
        }
    }
}
