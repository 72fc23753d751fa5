namespace WsCore.WebSockets.Protocol;

/// <summary>What <see cref="MessageInflater.Inflate"/> did.</summary>
public enum InflateStatus
{
    /// <summary>Went as far as the input or the output space allowed.</summary>
    Progress,
    /// <summary>The peer ended its DEFLATE stream (a block with BFINAL set): the rest of the message is ignored and the
    /// next one starts with a fresh stream.</summary>
    StreamEnd,
    /// <summary>The data is not valid DEFLATE.</summary>
    Invalid,
}

/// <summary>
/// Decompresses permessage-deflate messages (RFC 7692 §7.2.2) a piece at a time into output space the caller gives,
/// so that the caller bounds what a message may inflate to (a small compressed message can claim gigabytes). No I/O.
/// </summary>
/// <remarks>
/// Always inflates with a 32 KiB window, which reads a stream made with any smaller window too. The zlib stream is
/// made on the first compressed message. Not thread-safe: one receive loop owns it.
/// </remarks>
public sealed unsafe class MessageInflater : IDisposable
{
    private static ReadOnlySpan<byte> Tail => [0x00, 0x00, 0xFF, 0xFF];

    private readonly bool _noContextTakeover;
    private NativeZlib.ZStream* _stream;
    private int _tailFed;
    private bool _ended;

    /// <summary>Creates a decompressor.</summary>
    /// <param name="noContextTakeover">The peer resets its compressor after each message, so the window need not be
    /// kept between messages (it is reset: the peer will not refer back).</param>
    public MessageInflater(bool noContextTakeover = false) => _noContextTakeover = noContextTakeover;

    /// <summary>
    /// Inflates from <paramref name="input"/> into <paramref name="output"/>. Call with each piece of the message's
    /// payload, then <see cref="Finish"/> until it produces nothing more.
    /// </summary>
    public InflateStatus Inflate(ReadOnlySpan<byte> input, Span<byte> output, out int consumed, out int produced)
    {
        if (_ended)
        {
            consumed = input.Length;
            produced = 0;
            return InflateStatus.StreamEnd;
        }
        var stream = Stream();
        int status;
        fixed (byte* source = input)
        fixed (byte* target = output)
        {
            stream->NextIn = source;
            stream->AvailIn = (uint)input.Length;
            stream->NextOut = target;
            stream->AvailOut = (uint)output.Length;
            status = NativeZlib.Inflate(stream, NativeZlib.SyncFlush);
            consumed = input.Length - (int)stream->AvailIn;
            produced = output.Length - (int)stream->AvailOut;
            stream->NextIn = null;
            stream->NextOut = null;
        }
        switch (status)
        {
            case NativeZlib.Ok or NativeZlib.BufferError:
                return InflateStatus.Progress;
            case NativeZlib.StreamEnd:
                _ended = true;
                consumed = input.Length;
                return InflateStatus.StreamEnd;
            default:
                return InflateStatus.Invalid;
        }
    }

    /// <summary>
    /// The end of the message: feeds the <c>00 00 ff ff</c> the sender removed (§7.2.2) and inflates what it
    /// releases into <paramref name="output"/>. Call until <paramref name="produced"/> is less than the output's
    /// length, then <see cref="EndMessage"/>.
    /// </summary>
    public InflateStatus Finish(Span<byte> output, out int produced)
    {
        var status = Inflate(Tail[_tailFed..], output, out var consumed, out produced);
        _tailFed += consumed;
        return status;
    }

    /// <summary>True once all of the tail went in (or the stream had ended).</summary>
    public bool TailConsumed => _ended || _tailFed == Tail.Length;

    /// <summary>Ready for the next message: resets the stream after a final block or with no context takeover.
    /// </summary>
    public void EndMessage()
    {
        if (_stream is not null && (_ended || _noContextTakeover))
            _ = NativeZlib.InflateReset(_stream);
        _ended = false;
        _tailFed = 0;
    }

    /// <summary>Frees the decompressor's native memory.</summary>
    public void Dispose()
    {
        Free();
        GC.SuppressFinalize(this);
    }

    /// <summary>Frees the native memory of a decompressor nobody disposed.</summary>
    ~MessageInflater() => Free();

    private NativeZlib.ZStream* Stream()
    {
        if (_stream is not null)
            return _stream;
        var stream = NativeZlib.NewStream();
        var status = NativeZlib.InflateInit(stream, -PerMessageDeflate.MaxWindowBits);
        if (status != NativeZlib.Ok)
        {
            NativeZlib.FreeStream(stream);
            throw new InvalidOperationException($"zlib inflateInit2 failed ({status})");
        }
        return _stream = stream;
    }

    private void Free()
    {
        if (_stream is null)
            return;
        _ = NativeZlib.InflateEnd(_stream);
        NativeZlib.FreeStream(_stream);
        _stream = null;
    }
}
