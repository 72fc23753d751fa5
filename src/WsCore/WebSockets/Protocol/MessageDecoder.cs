using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace WsCore.WebSockets.Protocol;

/// <summary>What <see cref="MessageDecoder.Decode"/> found.</summary>
public enum DecodeStatus
{
    /// <summary>All input was consumed without completing anything: feed the next bytes.</summary>
    NeedMoreData,
    /// <summary>
    /// A whole data message: <see cref="MessageDecoder.MessageType"/>, <see cref="MessageDecoder.Payload"/>.
    /// </summary>
    Message,
    /// <summary>A Ping; answer with a Pong carrying <see cref="MessageDecoder.Payload"/> (§5.5.2).</summary>
    Ping,
    /// <summary>A Pong with <see cref="MessageDecoder.Payload"/>.</summary>
    Pong,
    /// <summary>
    /// A valid Close frame: <see cref="MessageDecoder.CloseCode"/>, <see cref="MessageDecoder.CloseReason"/>. Nothing
    /// more is decoded.
    /// </summary>
    Close,
    /// <summary>
    /// The peer broke the protocol: fail the connection with <see cref="MessageDecoder.Violation"/>'s code (§7.1.7).
    /// Nothing more is decoded.
    /// </summary>
    ProtocolError,
}

/// <summary>Why a connection must be failed, with the close code to send (§7.4.1).</summary>
/// <param name="CloseCode">1002 protocol error, 1007 invalid UTF-8, or 1009 too big.</param>
/// <param name="Reason">A short English explanation, safe to send as the close reason (ASCII, under 123 bytes).</param>
public readonly record struct ProtocolViolation(ushort CloseCode, string Reason);

/// <summary>
/// The receive side of RFC 6455 as a state machine with no I/O: feed it bytes as they arrive (in any pieces, one
/// byte at a time works) and it returns one event at a time: a complete data message (fragments reassembled,
/// §5.4), a control frame (which may arrive between fragments), or a protocol violation as a value carrying the
/// close code. It never throws on peer input.
/// </summary>
/// <remarks>
/// <para>Limits are enforced from the announced lengths, before any payload is buffered: a data frame whose length
/// would take the message over <see cref="MaxMessageBytes"/> is refused with 1009 the moment its header is
/// complete.</para>
/// <para>Buffers: the message being assembled lives in an array rented from <see cref="ArrayPool{T}.Shared"/> that
/// grows as its bytes arrive (doubling), never from an announced length. A completed message's array is lent to the
/// caller until the next call to <see cref="Decode"/>, or handed over for good with <see cref="DetachMessage"/>.
/// Between messages the decoder holds no pooled buffer. Not thread-safe: one receive loop owns it.</para>
/// </remarks>
public sealed class MessageDecoder : IDisposable
{
    private enum Phase : byte { Header, Payload, Closed }

    private readonly bool _expectMasked;
    // A server holds one decoder per connection for the connection's life, idle or not: the header bytes live inline,
    // and the control-frame buffer only exists once the peer sent a control frame.
    private HeaderBytes _header;
    private byte[]? _control;
    private Phase _phase;
    private int _headerCount;
    private FrameHeader _frame;
    private long _frameReceived;

    private bool _inMessage;
    private MessageType _messageType;
    private byte[]? _messageBuffer;
    private int _messageLength;
    private Utf8Validator _utf8;

    private byte[]? _completedBuffer;
    private int _completedLength;
    // A message decoded where it lay in the caller's buffer (DecodeInPlace): lent from there, not from the pool.
    private byte[]? _inPlaceBuffer;
    private int _inPlaceOffset;
    private int _controlLength;

    // permessage-deflate (RFC 7692), when negotiated: the message being assembled is compressed (RSV1 on its first
    // frame), and how many compressed bytes it took so far.
    private readonly MessageInflater? _inflater;
    private bool _compressed;
    private long _compressedLength;
    // Compressed bytes are unmasked into a stack buffer of this size on their way to the inflater.
    private const int InflateChunkBytes = 4096;

    /// <summary>Creates a decoder.</summary>
    /// <param name="expectMaskedFrames">True on the server side: every client frame must be masked (§5.1); false on
    /// the client side, where a masked server frame is an error.</param>
    /// <param name="maxMessageBytes">The largest message accepted, summed over its fragments (1009 beyond).</param>
    /// <param name="inflater">The decompressor when permessage-deflate was negotiated (RSV1 then marks a compressed
    /// message, RFC 7692 §6); null when not. The decoder owns and disposes it.</param>
    public MessageDecoder(bool expectMaskedFrames, int maxMessageBytes, MessageInflater? inflater = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxMessageBytes);
        _expectMasked = expectMaskedFrames;
        MaxMessageBytes = maxMessageBytes;
        _inflater = inflater;
    }

    /// <summary>
    /// The most compressed bytes one message may take: a little over <see cref="MaxMessageBytes"/>, since DEFLATE adds
    /// 5 bytes per 16 KiB stored block to data that does not compress. What bounds memory is the inflated size
    /// (never more than <see cref="MaxMessageBytes"/>); this only stops a stream of blocks that inflate to nothing.
    /// </summary>
    public long MaxCompressedBytes => MaxMessageBytes + (MaxMessageBytes >> 8) + 1024;

    /// <summary>The largest message accepted.</summary>
    public int MaxMessageBytes { get; }

    /// <summary>The type of the message after <see cref="DecodeStatus.Message"/>.</summary>
    public MessageType MessageType { get; private set; }

    /// <summary>
    /// After Message: the message's bytes (unmasked; text is valid UTF-8). After Ping/Pong: the control payload.
    /// After Close: the reason's bytes. Valid until the next <see cref="Decode"/> call.
    /// </summary>
    public ReadOnlySpan<byte> Payload => _lastStatus switch
    {
        DecodeStatus.Message => _inPlaceBuffer is not null ? _inPlaceBuffer.AsSpan(_inPlaceOffset, _completedLength)
            : _completedBuffer is null ? default : _completedBuffer.AsSpan(0, _completedLength),
        DecodeStatus.Ping or DecodeStatus.Pong => _control.AsSpan(0, _controlLength),
        DecodeStatus.Close => _controlLength > 2 ? _control.AsSpan(2, _controlLength - 2) : default,
        _ => default,
    };

    /// <summary>After Close: the peer's code, or 1005 when its Close frame had none (§7.1.5).</summary>
    public ushort CloseCode { get; private set; }

    /// <summary>After Close: the peer's reason (empty when none).</summary>
    public string CloseReason { get; private set; } = "";

    /// <summary>After ProtocolError: the code and reason to fail the connection with.</summary>
    public ProtocolViolation Violation { get; private set; }

    /// <summary>
    /// Bytes of pooled memory held for the message being assembled (it follows what arrived, not what was announced).
    /// </summary>
    public int AssemblyCapacity => _messageBuffer?.Length ?? 0;

    /// <summary>True between frames with no fragmented message pending: nothing is buffered.</summary>
    public bool IsIdle => _phase == Phase.Header && _headerCount == 0 && !_inMessage;

    /// <summary>True once a Close frame or a violation ended decoding.</summary>
    public bool IsClosed => _phase == Phase.Closed;

    private DecodeStatus _lastStatus;

    /// <summary>
    /// Consumes bytes from <paramref name="input"/> up to the end of the first completed event, and returns it.
    /// Call again with the rest (<paramref name="input"/> sliced by <paramref name="consumed"/>) until it returns
    /// <see cref="DecodeStatus.NeedMoreData"/>, which means all of the input was consumed.
    /// </summary>
    public DecodeStatus Decode(ReadOnlySpan<byte> input, out int consumed)
    {
        ReturnCompleted();
        _lastStatus = Run(input, out consumed);
        return _lastStatus;
    }

    /// <summary>
    /// <see cref="Decode"/> for input the caller lets the decoder change: a whole single-frame data message already in
    /// <paramref name="buffer"/> (the common case: a client's message in one read) is unmasked where it lies and lent
    /// from there, with no copy into a buffer of the decoder's; <see cref="Payload"/> is then a slice of
    /// <paramref name="buffer"/>, valid until the next call or until the caller reuses the buffer. Everything else
    /// goes as with <see cref="Decode"/>, which leaves the input unchanged.
    /// </summary>
    public DecodeStatus DecodeInPlace(byte[] buffer, int offset, int count, out int consumed)
    {
        ReturnCompleted();
        _lastStatus = TryDecodeWholeFrame(buffer, offset, count, out consumed) ?? Run(buffer.AsSpan(offset, count),
            out consumed);
        return _lastStatus;
    }

    // DecodeInPlace's common case; null for anything else (a fragment, a control frame, a compressed or oversized
    // message, a partial frame, a header the general path must refuse), which Run then decodes from the start.
    private DecodeStatus? TryDecodeWholeFrame(byte[] buffer, int offset, int count, out int consumed)
    {
        consumed = 0;
        if (_phase != Phase.Header || _headerCount != 0 || _inMessage)
            return null;
        var input = buffer.AsSpan(offset, count);
        if (FrameHeader.TryRead(input, out var frame, out var headerLength) != FrameHeaderStatus.Complete
            || !frame.Fin || frame.Rsv != 0 || frame.Opcode is not (Opcode.Text or Opcode.Binary)
            || frame.Masked != _expectMasked
            || frame.PayloadLength > Math.Min(MaxMessageBytes, input.Length - headerLength))
            return null;
        var length = (int)frame.PayloadLength;
        var payload = input.Slice(headerLength, length);
        if (frame.Masked)
            Masking.Apply(payload, frame.MaskKey);
        consumed = headerLength + length;
        if (frame.Opcode == Opcode.Text && !Utf8Validator.IsValid(payload))
            return Fail(CloseStatus.InvalidPayloadData, "invalid UTF-8 in a text message");
        MessageType = frame.Opcode == Opcode.Text ? MessageType.Text : MessageType.Binary;
        _inPlaceBuffer = buffer;
        _inPlaceOffset = offset + headerLength;
        _completedLength = length;
        return DecodeStatus.Message;
    }

    /// <summary>
    /// Takes ownership of the message just decoded: the caller must hand <see cref="RentedMessage.Array"/> back to
    /// <see cref="ArrayPool{T}.Shared"/> (<see cref="RentedMessage.Return"/>). Saves copying a received message.
    /// </summary>
    public RentedMessage DetachMessage()
    {
        if (_lastStatus != DecodeStatus.Message)
            throw new InvalidOperationException("No message was just decoded.");
        if (_inPlaceBuffer is not null)
        {
            // Lent from the caller's buffer: the owner gets a pooled copy.
            var length = _completedLength;
            var copy = length == 0 ? null : ArrayPool<byte>.Shared.Rent(length);
            _inPlaceBuffer.AsSpan(_inPlaceOffset, length).CopyTo(copy);
            _inPlaceBuffer = null;
            _completedLength = 0;
            return new RentedMessage(copy, length);
        }
        var message = new RentedMessage(_completedBuffer, _completedLength);
        _completedBuffer = null;
        _completedLength = 0;
        return message;
    }

    /// <summary>Returns pooled buffers. The decoder must not be used afterwards.</summary>
    public void Dispose()
    {
        ReturnCompleted();
        ReturnMessageBuffer();
        _inflater?.Dispose();
        _phase = Phase.Closed;
    }

    private DecodeStatus Run(ReadOnlySpan<byte> input, out int consumed)
    {
        consumed = 0;
        if (_phase == Phase.Closed)
        {
            // After Close or a violation, nothing the peer sends matters (§5.5.1, §7.1.7).
            consumed = input.Length;
            return DecodeStatus.NeedMoreData;
        }
        while (true)
        {
            if (_phase == Phase.Header)
            {
                if (!CollectHeader(input, ref consumed))
                    return DecodeStatus.NeedMoreData;
                var status = FrameHeader.TryRead(((ReadOnlySpan<byte>)_header)[.._headerCount], out _frame, out _);
                if (status == FrameHeaderStatus.Invalid)
                    return Fail(CloseStatus.ProtocolError, "64-bit payload length with its high bit set");
                var problem = CheckHeader();
                if (problem is { } violation)
                    return Fail(violation.CloseCode, violation.Reason);
                _headerCount = 0;
                _frameReceived = 0;
                _phase = Phase.Payload;
                if (_frame.Opcode.IsControl())
                {
                    _control ??= new byte[FrameHeader.MaxControlPayload];
                    _controlLength = (int)_frame.PayloadLength;
                }
                else if (_frame.Opcode != Opcode.Continuation)
                {
                    _inMessage = true;
                    _messageType = _frame.Opcode == Opcode.Text ? MessageType.Text : MessageType.Binary;
                    _messageLength = 0;
                    _utf8.Reset();
                    _compressed = (_frame.Rsv & Rsv1) != 0;
                    _compressedLength = 0;
                }
                if (_compressed && !_frame.Opcode.IsControl())
                    _compressedLength += _frame.PayloadLength;
            }

            var remaining = _frame.PayloadLength - _frameReceived;
            var chunk = (int)Math.Min(remaining, input.Length - consumed);
            if (chunk > 0)
            {
                var source = input.Slice(consumed, chunk);
                if (_frame.Opcode.IsControl())
                {
                    var target = _control.AsSpan((int)_frameReceived, chunk);
                    source.CopyTo(target);
                    if (_frame.Masked)
                        Masking.Apply(target, _frame.MaskKey, _frameReceived);
                }
                else if (_compressed)
                {
                    if (InflateChunk(source, out var violation) == DecodeStatus.ProtocolError)
                    {
                        consumed += chunk;
                        return Fail(violation.CloseCode, violation.Reason);
                    }
                }
                else
                {
                    EnsureMessageCapacity(_messageLength + chunk);
                    var target = _messageBuffer.AsSpan(_messageLength, chunk);
                    source.CopyTo(target);
                    if (_frame.Masked)
                        Masking.Apply(target, _frame.MaskKey, _frameReceived);
                    _messageLength += chunk;
                    // Fail fast (§8.1): reject invalid text as soon as the offending byte is here.
                    if (_messageType == MessageType.Text && !_utf8.Append(target))
                    {
                        consumed += chunk;
                        return Fail(CloseStatus.InvalidPayloadData, "invalid UTF-8 in a text message");
                    }
                }
                _frameReceived += chunk;
                consumed += chunk;
            }
            if (_frameReceived < _frame.PayloadLength)
                return DecodeStatus.NeedMoreData;

            // The frame is complete.
            _phase = Phase.Header;
            if (_frame.Opcode.IsControl())
                return CompleteControlFrame();
            if (!_frame.Fin)
                continue;
            if (_compressed && FinishInflating() is { } inflateProblem)
                return Fail(inflateProblem.CloseCode, inflateProblem.Reason);
            if (_messageType == MessageType.Text && !_utf8.IsComplete)
                return Fail(CloseStatus.InvalidPayloadData, "text message ends inside a UTF-8 sequence");
            _inMessage = false;
            MessageType = _messageType;
            _completedBuffer = _messageBuffer;
            _completedLength = _messageLength;
            _messageBuffer = null;
            _messageLength = 0;
            return DecodeStatus.Message;
        }
    }

    // Copies header bytes into _header until the whole header is there. False when the input ran out first.
    private bool CollectHeader(ReadOnlySpan<byte> input, ref int consumed)
    {
        while (_headerCount < 2)
        {
            if (consumed == input.Length)
                return false;
            _header[_headerCount++] = input[consumed++];
        }
        var required = FrameHeader.RequiredLength(_header[1]);
        var take = Math.Min(required - _headerCount, input.Length - consumed);
        input.Slice(consumed, take).CopyTo(((Span<byte>)_header)[_headerCount..]);
        _headerCount += take;
        consumed += take;
        return _headerCount == required;
    }

    private ProtocolViolation? CheckHeader()
    {
        var frame = _frame;
        // §5.2: RSV bits must be 0 unless an extension defining them was negotiated; permessage-deflate defines RSV1
        // (RFC 7692 §6), and only on the first frame of a data message (§6.1): never on a control frame (§6.1, "an
        // endpoint MUST NOT set the Per-Message Compressed bit of control frames") or a continuation.
        if (frame.Rsv != 0)
        {
            if (_inflater is null)
                return new(CloseStatus.ProtocolError, "reserved bits set with no extension negotiated");
            if (frame.Rsv != Rsv1)
                return new(CloseStatus.ProtocolError, "reserved bits other than RSV1 set");
            if (frame.Opcode.IsControl())
                return new(CloseStatus.ProtocolError, "RSV1 set on a control frame");
            if (frame.Opcode == Opcode.Continuation)
                return new(CloseStatus.ProtocolError, "RSV1 set on a continuation frame");
        }
        if (!frame.Opcode.IsDefined())
            return new(CloseStatus.ProtocolError, "reserved opcode");
        // §5.1: a client masks every frame; a server masks none.
        if (frame.Masked != _expectMasked)
            return new(
                CloseStatus.ProtocolError,
                _expectMasked ? "unmasked frame from a client" : "masked frame from a server");
        if (frame.Opcode.IsControl())
        {
            // §5.5: control frames are never fragmented and carry at most 125 bytes.
            if (!frame.Fin)
                return new(CloseStatus.ProtocolError, "fragmented control frame");
            if (frame.PayloadLength > FrameHeader.MaxControlPayload)
                return new(CloseStatus.ProtocolError, "control frame payload over 125 bytes");
            return null;
        }
        // §5.4: a continuation needs a message to continue, and a new message cannot start inside another.
        if (frame.Opcode == Opcode.Continuation && !_inMessage)
            return new(CloseStatus.ProtocolError, "continuation frame with no message to continue");
        if (frame.Opcode != Opcode.Continuation && _inMessage)
            return new(CloseStatus.ProtocolError, "new data frame inside a fragmented message");
        var compressed = frame.Opcode == Opcode.Continuation ? _compressed : (frame.Rsv & Rsv1) != 0;
        if (compressed)
        {
            // The inflated size is checked as it is produced (InflateChunk); here only the compressed size.
            var compressedSoFar = frame.Opcode == Opcode.Continuation ? _compressedLength : 0;
            if (frame.PayloadLength > MaxCompressedBytes - compressedSoFar)
                return new(CloseStatus.MessageTooBig, "compressed message over the size limit");
            return null;
        }
        var sofar = frame.Opcode == Opcode.Continuation ? _messageLength : 0;
        if (frame.PayloadLength > MaxMessageBytes - sofar)
            return new(CloseStatus.MessageTooBig, "message over the size limit");
        return null;
    }

    private const byte Rsv1 = 4;

    // Unmasks a piece of compressed payload on the stack and inflates it into the message buffer, which grows as the
    // output arrives and never past MaxMessageBytes: a message inflating beyond is refused with 1009 once the limit is
    // reached (a compression bomb costs at most MaxMessageBytes of memory; RFC 6455 §10.4 asks for such limits).
    private DecodeStatus InflateChunk(ReadOnlySpan<byte> source, out ProtocolViolation violation)
    {
        violation = default;
        Span<byte> plain = stackalloc byte[InflateChunkBytes];
        var maskOffset = _frameReceived;
        while (!source.IsEmpty)
        {
            var piece = Math.Min(source.Length, plain.Length);
            var input = plain[..piece];
            source[..piece].CopyTo(input);
            if (_frame.Masked)
                Masking.Apply(input, _frame.MaskKey, maskOffset);
            maskOffset += piece;
            source = source[piece..];
            if (InflateInto(input, finishing: false) is { } problem)
            {
                violation = problem;
                return DecodeStatus.ProtocolError;
            }
        }
        return DecodeStatus.NeedMoreData;
    }

    // The end of a compressed message: the tail the sender removed goes back in (RFC 7692 §7.2.2).
    private ProtocolViolation? FinishInflating()
    {
        var problem = InflateInto(default, finishing: true);
        _inflater!.EndMessage();
        _compressed = false;
        return problem;
    }

    private ProtocolViolation? InflateInto(ReadOnlySpan<byte> input, bool finishing)
    {
        Span<byte> probe = stackalloc byte[1];
        while (true)
        {
            if (_messageBuffer is null || _messageLength == _messageBuffer.Length)
            {
                if (_messageLength < MaxMessageBytes)
                    EnsureMessageCapacity(_messageLength + 1);
            }
            // At the limit, one more byte of output (into a probe on the stack) proves the message is too big.
            var atLimit = _messageLength >= MaxMessageBytes;
            var output = atLimit
                ? probe
                : _messageBuffer.AsSpan(
                    _messageLength, Math.Min(_messageBuffer!.Length, MaxMessageBytes) - _messageLength);
            int consumed;
            int produced;
            InflateStatus status;
            if (finishing)
            {
                status = _inflater!.Finish(output, out produced);
                consumed = 0;
            }
            else
            {
                status = _inflater!.Inflate(input, output, out consumed, out produced);
            }
            input = input[consumed..];
            if (status == InflateStatus.Invalid)
                return new(CloseStatus.InvalidPayloadData, "invalid compressed data");
            if (produced > 0)
            {
                if (atLimit)
                    return new(CloseStatus.MessageTooBig, "message inflates over the size limit");
                var target = output[..produced];
                _messageLength += produced;
                if (_messageType == MessageType.Text && !_utf8.Append(target))
                    return new(CloseStatus.InvalidPayloadData, "invalid UTF-8 in a text message");
            }
            if (status == InflateStatus.StreamEnd)
                return null;
            // Done when zlib left output space unused (nothing is pending inside it) and has nothing more to read.
            if (produced < output.Length && (finishing ? _inflater.TailConsumed : input.IsEmpty))
                return null;
        }
    }

    private DecodeStatus CompleteControlFrame()
    {
        switch (_frame.Opcode)
        {
            case Opcode.Ping:
                return DecodeStatus.Ping;
            case Opcode.Pong:
                return DecodeStatus.Pong;
        }
        // Close (§5.5.1): empty, or a 2-byte code followed by a UTF-8 reason.
        if (_controlLength == 0)
        {
            CloseCode = CloseStatus.NoStatusReceived;
            CloseReason = "";
        }
        else
        {
            if (_controlLength == 1)
                return Fail(CloseStatus.ProtocolError, "close frame with a 1-byte payload");
            var code = BinaryPrimitives.ReadUInt16BigEndian(_control);
            if (!CloseStatus.IsValidOnWire(code))
                return Fail(CloseStatus.ProtocolError, "invalid close code");
            var reason = _control.AsSpan(2, _controlLength - 2);
            if (!Utf8Validator.IsValid(reason))
                return Fail(CloseStatus.InvalidPayloadData, "close reason is not valid UTF-8");
            CloseCode = code;
            CloseReason = reason.IsEmpty ? "" : Encoding.UTF8.GetString(reason);
        }
        _phase = Phase.Closed;
        ReturnMessageBuffer();
        return DecodeStatus.Close;
    }

    private DecodeStatus Fail(ushort code, string reason)
    {
        Violation = new ProtocolViolation(code, reason);
        _phase = Phase.Closed;
        ReturnMessageBuffer();
        return DecodeStatus.ProtocolError;
    }

    // Grows with the bytes that arrived, doubling (never from an announced length: a peer announcing 16 MiB and
    // trickling bytes must not get 16 MiB of memory for it), capped at the message limit.
    private void EnsureMessageCapacity(int needed)
    {
        if (needed == 0 || (_messageBuffer is not null && _messageBuffer.Length >= needed))
            return;
        const int smallest = 256;
        var doubled = Math.Min((long)MaxMessageBytes, Math.Max(smallest, 2L * (_messageBuffer?.Length ?? 0)));
        var bigger = ArrayPool<byte>.Shared.Rent((int)Math.Max(needed, doubled));
        if (_messageBuffer is not null)
        {
            _messageBuffer.AsSpan(0, _messageLength).CopyTo(bigger);
            ArrayPool<byte>.Shared.Return(_messageBuffer);
        }
        _messageBuffer = bigger;
    }

    private void ReturnMessageBuffer()
    {
        if (_messageBuffer is not null)
            ArrayPool<byte>.Shared.Return(_messageBuffer);
        _messageBuffer = null;
        _messageLength = 0;
        _inMessage = false;
    }

    private void ReturnCompleted()
    {
        _inPlaceBuffer = null; // the caller's, not the pool's
        if (_completedBuffer is not null)
            ArrayPool<byte>.Shared.Return(_completedBuffer);
        _completedBuffer = null;
        _completedLength = 0;
    }

    [System.Runtime.CompilerServices.InlineArray(FrameHeader.MaxLength)]
    private struct HeaderBytes
    {
        private byte _first;
    }
}

/// <summary>A message's bytes in an array rented from <see cref="ArrayPool{T}.Shared"/> (null when empty).</summary>
/// <param name="Array">The rented array, or null for an empty message.</param>
/// <param name="Length">How many bytes of <paramref name="Array"/> are the message.</param>
public readonly record struct RentedMessage(byte[]? Array, int Length)
{
    /// <summary>The message's bytes.</summary>
    public ReadOnlyMemory<byte> Memory => Array is null ? ReadOnlyMemory<byte>.Empty : Array.AsMemory(0, Length);

    /// <summary>Hands the array back to the pool. Call once; the bytes are gone afterwards.</summary>
    public void Return()
    {
        if (Array is not null)
            ArrayPool<byte>.Shared.Return(Array);
    }
}
