using System.Buffers;
using WsCore.WebSockets.Protocol;

namespace WsCore.WebSockets.Server;

/// <summary>
/// One encoded server frame in a pooled buffer, shared by every client queue it was put on: a broadcast is encoded
/// once, and the buffer goes back to the pool when the last client's writer has copied or sent it.
/// </summary>
/// <remarks>
/// The frame objects are recycled too (one per thread, kept when the last reference is released): an echo creates,
/// sends and releases its frame on one thread, so a steady stream of replies allocates nothing. A frame must not be
/// touched after its holder's <see cref="Release"/>, which the reference count already demanded for the buffer.
/// </remarks>
internal sealed class OutgoingFrame
{
    [ThreadStatic]
    private static OutgoingFrame? t_spare;

    private byte[]? _buffer;
    // Where the frame starts in _buffer: a compressed frame's header goes right before its payload, whose length is
    // known only once compressed.
    private int _offset;
    private int _references;

    private OutgoingFrame()
    {
    }

    /// <summary>Encoded size: header plus payload.</summary>
    public int Length { get; private set; }

    /// <summary>The frame's opcode (the writer treats Close specially).</summary>
    public Opcode Opcode { get; private set; }

    /// <summary>The encoded frame.</summary>
    public ReadOnlyMemory<byte> Bytes => _buffer.AsMemory(_offset, Length);

    /// <summary>Encodes an unmasked frame (servers never mask, §5.1) holding one reference for the caller.</summary>
    public static OutgoingFrame Create(Opcode opcode, ReadOnlySpan<byte> payload)
    {
        var length = FrameEncoder.GetFrameLength(payload.Length, masked: false);
        var buffer = ArrayPool<byte>.Shared.Rent(length);
        FrameEncoder.Encode(buffer, opcode, payload);
        return Take(buffer, 0, length, opcode);
    }

    /// <summary>
    /// Compresses <paramref name="payload"/> with <paramref name="deflater"/> (permessage-deflate, RFC 7692 §7.2.1)
    /// into
    /// one unmasked frame with RSV1 set (§6), holding one reference for the caller. The payload is compressed straight
    /// into the frame's pooled buffer, after room for the longest header.
    /// </summary>
    public static OutgoingFrame CreateCompressed(Opcode opcode, ReadOnlySpan<byte> payload, MessageDeflater deflater)
    {
        const int room = FrameHeader.MaxLength - 4; // unmasked: no key
        var buffer = ArrayPool<byte>.Shared.Rent(room + MessageDeflater.EstimateLength(payload.Length));
        var compressed = deflater.Compress(payload, ref buffer, room);
        var headerLength = FrameHeader.GetLength(compressed, masked: false);
        var start = room - headerLength;
        FrameHeader.Write(buffer.AsSpan(start), fin: true, opcode, compressed, rsv: FrameEncoder.CompressedBit);
        return Take(buffer, start, headerLength + compressed, opcode);
    }

    /// <summary>A frame of bytes already encoded (the part of one the kernel did not take). Its opcode says only
    /// that it is not a Close, the one thing a writer asks of a frame's opcode.</summary>
    public static OutgoingFrame CopyOf(ReadOnlySpan<byte> encoded)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(encoded.Length);
        encoded.CopyTo(buffer);
        return Take(buffer, 0, encoded.Length, Opcode.Continuation);
    }

    private static OutgoingFrame Take(byte[] buffer, int offset, int length, Opcode opcode)
    {
        var frame = t_spare ?? new OutgoingFrame();
        t_spare = null;
        frame._buffer = buffer;
        frame._offset = offset;
        frame.Length = length;
        frame.Opcode = opcode;
        frame._references = 1;
        return frame;
    }

    /// <summary>A Close frame with <paramref name="code"/> and <paramref name="reason"/>.</summary>
    public static OutgoingFrame CreateClose(ushort code, string? reason)
    {
        Span<byte> payload = stackalloc byte[FrameHeader.MaxControlPayload];
        var length = FrameEncoder.WriteClosePayload(payload, code, reason);
        return Create(Opcode.Close, payload[..length]);
    }

    /// <summary>Another queue holds the frame.</summary>
    public void AddReference()
    {
        var now = Interlocked.Increment(ref _references);
        // Referencing a frame already handed back to the pool would send whatever the pool puts in its buffer next.
        System.Diagnostics.Debug.Assert(now > 1, "OutgoingFrame referenced after its last release");
    }

    /// <summary>
    /// A holder is done with it; the last one returns the buffer to the pool and keeps the object for reuse.
    /// </summary>
    public void Release()
    {
        var left = Interlocked.Decrement(ref _references);
        // A release too many would return the buffer to the pool while another holder still sends from it.
        System.Diagnostics.Debug.Assert(left >= 0, "OutgoingFrame released more often than referenced");
        if (left != 0)
            return;
        var buffer = _buffer;
        _buffer = null;
        if (buffer is not null)
            ArrayPool<byte>.Shared.Return(buffer);
        t_spare ??= this;
    }
}
