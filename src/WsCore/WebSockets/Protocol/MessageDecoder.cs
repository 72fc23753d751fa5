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
    private int _controlLength;

    /// <summary>Creates a decoder.</summary>
    /// <param name="expectMaskedFrames">True on the server side: every client frame must be masked (§5.1); false on
    /// the client side, where a masked server frame is an error.</param>
    /// <param name="maxMessageBytes">The largest message accepted, summed over its fragments (1009 beyond).</param>
    public MessageDecoder(bool expectMaskedFrames, int maxMessageBytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxMessageBytes);
        _expectMasked = expectMaskedFrames;
        MaxMessageBytes = maxMessageBytes;
    }

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
        DecodeStatus.Message => _completedBuffer is null ? default : _completedBuffer.AsSpan(0, _completedLength),
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
    /// Takes ownership of the message just decoded: the caller must hand <see cref="RentedMessage.Array"/> back to
    /// <see cref="ArrayPool{T}.Shared"/> (<see cref="RentedMessage.Return"/>). Saves copying a received message.
    /// </summary>
    public RentedMessage DetachMessage()
    {
        if (_lastStatus != DecodeStatus.Message)
            throw new InvalidOperationException("No message was just decoded.");
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
                }
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
        // §5.2: RSV bits must be 0 unless an extension defining them was negotiated; we negotiate none.
        if (frame.Rsv != 0)
            return new(CloseStatus.ProtocolError, "reserved bits set with no extension negotiated");
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
        var sofar = frame.Opcode == Opcode.Continuation ? _messageLength : 0;
        if (frame.PayloadLength > MaxMessageBytes - sofar)
            return new(CloseStatus.MessageTooBig, "message over the size limit");
        return null;
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
