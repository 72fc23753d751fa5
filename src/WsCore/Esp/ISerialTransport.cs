namespace WsCore.Esp;

/// <summary>
/// The byte pipe to a ROM loader: a serial port or a TCP serial server. The only I/O the loader does goes through
/// this interface, so tests can put a simulator behind it.
/// </summary>
/// <remarks>One owner: not thread-safe.</remarks>
public interface ISerialTransport : IDisposable
{
    /// <summary>A name for messages, e.g. "/dev/ttyUSB0" or "socket://127.0.0.1:5555".</summary>
    string Name { get; }

    /// <summary>Whether DTR/RTS can be driven (false over TCP, or once a pty refused them).</summary>
    bool CanControlLines { get; }

    /// <summary>Sends all of <paramref name="data"/>.</summary>
    void Write(ReadOnlySpan<byte> data);

    /// <summary>Reads what is available, waiting at most <paramref name="timeout"/>; 0 means nothing arrived.</summary>
    int Read(Span<byte> buffer, TimeSpan timeout);

    /// <summary>Drives DTR (asserted = true). Ignored where lines cannot be controlled.</summary>
    void SetDtr(bool asserted);

    /// <summary>Drives RTS (asserted = true). Ignored where lines cannot be controlled.</summary>
    void SetRts(bool asserted);

    /// <summary>Changes the host baud rate (no-op over TCP).</summary>
    void SetBaudRate(int baud);

    /// <summary>Discards bytes received but not yet read.</summary>
    void DiscardInput();
}
