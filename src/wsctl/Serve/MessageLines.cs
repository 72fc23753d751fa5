using WsCore.WebSockets.Protocol;
using Wsctl.Cli;
using ILogger = Serilog.ILogger;

namespace Wsctl.Serve;

/// <summary>
/// The plain output of serve: one line per received message, formatted on the thread that received it (a
/// <see cref="WsCore.WebSockets.Server.MessageHandler"/>) instead of travelling as an event through the server's queue.
/// The event path (an object and a pooled copy per message, a channel's lock, a thread woken to print) cost serve
/// about 30% more CPU than <c>--no-print</c> in the echo benchmark, most of it in that hand-over, not in the writing.
/// On a terminal each line is written at once. When stdout is a file or a pipe, lines gather for at most
/// <see cref="BatchWindow"/> (or <see cref="BatchBytes"/>) and leave in one write: the same bytes, a reader sees each
/// line within milliseconds, and there is no write system call per message.
/// </summary>
public sealed class MessageLines : IDisposable
{
    // How long a line may wait for others when stdout is redirected, and how much may gather before it goes at once.
    private static readonly TimeSpan BatchWindow = TimeSpan.FromMilliseconds(2);
    private const int BatchBytes = 64 * 1024;

    private readonly PendingOutput _pending;
    private readonly bool _raw;
    private readonly bool _batched;
    private readonly ILogger _log;
    private readonly Lock _lock = new();
    // Released by the first line after a flush: the flusher thread waits for it, lets the window pass, and writes.
    private readonly SemaphoreSlim _linesWaiting = new(0, 1);
    private readonly Thread? _flusher;
    private volatile bool _disposed;
    private bool _stdoutOpen = true;
    private bool _flushScheduled;

    /// <param name="output">stdout.</param>
    /// <param name="raw">Text as it came, control characters included (see <see cref="TerminalText"/>).</param>
    /// <param name="batched">Gather lines (stdout is not a terminal).</param>
    /// <param name="log">Where a closed stdout is reported, once.</param>
    public MessageLines(Stream output, bool raw, bool batched, ILogger log)
    {
        _pending = new PendingOutput(output, 4096);
        _raw = raw;
        _batched = batched;
        _log = log;
        if (batched)
        {
            _flusher = new Thread(FlushBatches) { IsBackground = true, Name = "stdout batches" };
            _flusher.Start();
        }
    }

    /// <summary>Adds the message's line; safe from any number of receiving threads at once.</summary>
    public void Write(MessageType type, ReadOnlySpan<byte> payload)
    {
        var signal = false;
        lock (_lock)
        {
            if (!_stdoutOpen)
                return;
            EventPrinter.WritePlainLine(_pending.Buffer, type, payload, _raw);
            if (!_batched || _pending.Buffer.WrittenCount >= BatchBytes)
                FlushLocked();
            else if (!_flushScheduled)
                signal = _flushScheduled = true;
        }
        if (signal)
            _linesWaiting.Release();
    }

    /// <summary>Writes what is gathered and stops the flusher.</summary>
    public void Dispose()
    {
        if (_disposed)
            return;
        _disposed = true;
        if (_flusher is not null)
        {
            lock (_lock)
            {
                if (!_flushScheduled)
                {
                    _flushScheduled = true;
                    _linesWaiting.Release();
                }
            }
            _flusher.Join();
        }
        lock (_lock)
            FlushLocked();
        _linesWaiting.Dispose();
    }

    private void FlushBatches()
    {
        while (!_disposed)
        {
            _linesWaiting.Wait();
            if (!_disposed)
                Thread.Sleep(BatchWindow);
            lock (_lock)
            {
                _flushScheduled = false;
                FlushLocked();
            }
        }
    }

    private void FlushLocked()
    {
        if (!_stdoutOpen)
            return;
        try
        {
            _pending.Flush();
        }
        catch (IOException e)
        {
            // E.g. `wsctl serve | head -1`: the reader went away. Keep serving without output.
            _stdoutOpen = false;
            _log.Warning("stdout closed ({Error}); no more message output", e.Message);
        }
    }
}
