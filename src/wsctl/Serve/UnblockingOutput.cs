using System.Buffers;
using ILogger = Serilog.ILogger;

namespace Wsctl.Serve;

/// <summary>
/// serve's stdout: writes are copied and return at once; one writer thread of its own writes them out. A stdout nobody
/// reads (a paused pager, a full pipe, a terminal stopped with Ctrl-S) therefore never holds up the server's threads,
/// its event queue or its stop: what was written gathers up to <see cref="MaxPendingBytes"/>, further writes are
/// dropped whole (each write is whole lines) and counted in the log until stdout is read again, and stopping waits at
/// most <see cref="StopWait"/> for the rest. When stdout is a file or a pipe, writes gather for at most
/// <see cref="BatchWindow"/> and leave in one write system call; on a terminal they leave as soon as the writer is
/// free.
/// </summary>
public sealed class UnblockingOutput : Stream
{
    // How long a line may wait for others when stdout is redirected.
    private static readonly TimeSpan BatchWindow = TimeSpan.FromMilliseconds(2);
    // What may wait while stdout is not read; beyond this, writes are dropped.
    private const int MaxPendingBytes = 1024 * 1024;
    // How long stopping waits for the last lines to be written.
    private static readonly TimeSpan StopWait = TimeSpan.FromSeconds(2);

    private readonly Stream _output;
    private readonly bool _batched;
    private readonly ILogger _log;
    private readonly Lock _lock = new();
    // Writers fill _pending under _lock; the writer thread swaps it with _writing and writes that outside the lock.
    private ArrayBufferWriter<byte> _pending = new(4096);
    private ArrayBufferWriter<byte> _writing = new(4096);
    // Released by the first write after a swap: the writer thread waits for it.
    private readonly SemaphoreSlim _waiting = new(0, 1);
    private readonly Thread _writer;
    private volatile bool _stopping;
    private bool _signalled;
    private bool _open = true;
    private long _dropped;

    /// <param name="output">stdout.</param>
    /// <param name="batched">Gather writes (stdout is not a terminal).</param>
    /// <param name="log">Where a closed or unread stdout is reported.</param>
    public UnblockingOutput(Stream output, bool batched, ILogger log)
    {
        _output = output;
        _batched = batched;
        _log = log;
        _writer = new Thread(WriteOut) { IsBackground = true, Name = "stdout" };
        _writer.Start();
    }

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => throw new NotSupportedException();
    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    /// <summary>Takes <paramref name="buffer"/> (whole lines) for the writer thread; never blocks on stdout.</summary>
    public override void Write(ReadOnlySpan<byte> buffer)
    {
        if (buffer.IsEmpty)
            return;
        bool wake = false, firstDropped = false;
        lock (_lock)
        {
            if (!_open)
                return;
            if (_pending.WrittenCount + buffer.Length > MaxPendingBytes)
                firstDropped = _dropped++ == 0;
            else
            {
                _pending.Write(buffer);
                wake = !_signalled;
                _signalled = true;
            }
        }
        if (wake)
            _waiting.Release();
        else if (firstDropped)
            _log.Warning("stdout is not being read: output is dropped until it is");
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    /// <summary>Nothing to do: the writer thread writes and flushes what it takes.</summary>
    public override void Flush()
    {
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();

    /// <summary>
    /// Writes what is gathered, waiting at most <see cref="StopWait"/> for stdout, and stops the writer.
    /// </summary>
    protected override void Dispose(bool disposing)
    {
        if (disposing && !_stopping)
        {
            _stopping = true;
            lock (_lock)
            {
                if (!_signalled)
                {
                    _signalled = true;
                    _waiting.Release();
                }
            }
            if (!_writer.Join(StopWait))
                _log.Warning("stdout is not being read: the last output was not printed");
        }
        base.Dispose(disposing);
    }

    private void WriteOut()
    {
        while (true)
        {
            _waiting.Wait();
            if (_batched && !_stopping)
                Thread.Sleep(BatchWindow);
            long dropped;
            lock (_lock)
            {
                (_pending, _writing) = (_writing, _pending);
                _signalled = false;
                dropped = _dropped;
                _dropped = 0;
            }
            if (_writing.WrittenCount > 0 && !TryWrite(_writing.WrittenSpan))
                return;
            _writing.ResetWrittenCount();
            if (dropped > 0)
                _log.Warning("stdout is read again; {Dropped} write(s) of output were dropped", dropped);
            if (_stopping)
                return;
        }
    }

    private bool TryWrite(ReadOnlySpan<byte> bytes)
    {
        try
        {
            _output.Write(bytes);
            _output.Flush();
            return true;
        }
        catch (IOException e)
        {
            // E.g. `wsctl serve | head -1`: the reader went away. Keep serving without output.
            lock (_lock)
                _open = false;
            _log.Warning("stdout closed ({Error}); no more message output", e.Message);
            return false;
        }
    }
}
