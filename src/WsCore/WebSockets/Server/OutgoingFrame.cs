using System.Buffers;
using WsCore.WebSockets.Protocol;

namespace WsCore.WebSockets.Server;

/// <summary>
/// One encoded server frame in a pooled buffer, shared by every client queue it was put on: a broadcast is encoded
/// once, and the buffer goes back to the pool when the last client's writer has copied or sent it.
/// </summary>
internal sealed class OutgoingFrame
{
    private byte[]? _buffer;
    private int _references;

    private OutgoingFrame(byte[] buffer, int length, Opcode opcode)
    {
        _buffer = buffer;
        Length = length;
        Opcode = opcode;
        _references = 1;
    }

    /// <summary>Encoded size: header plus payload.</summary>
    public int Length { get; }

    /// <summary>The frame's opcode (the writer treats Close specially).</summary>
    public Opcode Opcode { get; }

    /// <summary>The encoded frame.</summary>
    public ReadOnlyMemory<byte> Bytes => _buffer.AsMemory(0, Length);

    /// <summary>Encodes an unmasked frame (servers never mask, §5.1) holding one reference for the caller.</summary>
    public static OutgoingFrame Create(Opcode opcode, ReadOnlySpan<byte> payload)
    {
        var length = FrameEncoder.GetFrameLength(payload.Length, masked: false);
        var buffer = ArrayPool<byte>.Shared.Rent(length);
        FrameEncoder.Encode(buffer, opcode, payload);
        return new OutgoingFrame(buffer, length, opcode);
    }

    /// <summary>A Close frame with <paramref name="code"/> and <paramref name="reason"/>.</summary>
    public static OutgoingFrame CreateClose(ushort code, string? reason)
    {
        Span<byte> payload = stackalloc byte[FrameHeader.MaxControlPayload];
        var length = FrameEncoder.WriteClosePayload(payload, code, reason);
        return Create(Opcode.Close, payload[..length]);
    }

    /// <summary>Another queue holds the frame.</summary>
    public void AddReference() => Interlocked.Increment(ref _references);

    /// <summary>A holder is done with it; the last one returns the buffer to the pool.</summary>
    public void Release()
    {
        if (Interlocked.Decrement(ref _references) == 0)
        {
            var buffer = Interlocked.Exchange(ref _buffer, null);
            if (buffer is not null)
                ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
