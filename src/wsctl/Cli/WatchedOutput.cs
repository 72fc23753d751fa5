namespace Wsctl.Cli;

/// <summary>
/// stdout for a verb that writes until something ends it (send --listen, monitor): once a write fails because the
/// reader has gone (EPIPE: <c>| head -1</c> or <c>| grep -m1</c> has what it wanted), <see cref="ReaderGone"/> is
/// cancelled and every later write is dropped, so that the verb ends its run there instead of working for nobody,
/// and no writer above it has to catch anything. Writes go to <see cref="StandardOutput.OpenUnshared"/>'s stream,
/// which reports EPIPE (the Console's drops such writes without a word).
/// </summary>
public sealed class WatchedOutput : Stream
{
    private readonly Stream _inner;
    private readonly CancellationTokenSource _readerGone = new();

    private WatchedOutput(Stream inner) => _inner = inner;

    /// <summary>stdout, watched.</summary>
    public static WatchedOutput Open() => new(StandardOutput.OpenUnshared());

    /// <summary>Cancelled at the first write that failed: nobody reads stdout any more.</summary>
    public CancellationToken ReaderGone => _readerGone.Token;

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        if (_readerGone.IsCancellationRequested)
            return;
        try
        {
            _inner.Write(buffer);
        }
        catch (IOException)
        {
            _readerGone.Cancel();
        }
    }

    public override void Flush()
    {
        if (_readerGone.IsCancellationRequested)
            return;
        try
        {
            _inner.Flush();
        }
        catch (IOException)
        {
            _readerGone.Cancel();
        }
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();
}
