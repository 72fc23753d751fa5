using System.Buffers.Binary;
using System.Text;

namespace WsCore.WebSockets.Protocol;

/// <summary>Whole frames into caller-owned buffers (RFC 6455 §5.2). No I/O.</summary>
public static class FrameEncoder
{
    /// <summary>The largest close reason that fits a control frame after the 2-byte code (§5.5).</summary>
    public const int MaxCloseReasonBytes = FrameHeader.MaxControlPayload - 2;

    /// <summary>RSV1: the Per-Message Compressed bit of permessage-deflate (RFC 7692 §6).</summary>
    public const byte CompressedBit = 4;

    /// <summary>Header plus payload size of a frame.</summary>
    public static int GetFrameLength(int payloadLength, bool masked) => FrameHeader.GetLength(payloadLength, masked)
        + payloadLength;

    /// <summary>
    /// Writes one frame: header, then the payload (masked with <paramref name="maskKey"/> when given, as a client
    /// must, §5.3). Returns the number of bytes written.
    /// </summary>
    /// <param name="destination">At least <see cref="GetFrameLength"/> bytes.</param>
    /// <param name="opcode">The frame's opcode.</param>
    /// <param name="payload">The payload.</param>
    /// <param name="fin">False for every fragment but the last of a message (§5.4).</param>
    /// <param name="maskKey">A key from <see cref="Masking.NewKey"/> for client frames; null for server frames.</param>
    /// <param name="rsv">The reserved bits (RSV1 = 4 marks a compressed message's first frame, RFC 7692 §6).</param>
    public static int Encode(
        Span<byte> destination,
        Opcode opcode,
        ReadOnlySpan<byte> payload,
        bool fin = true,
        uint? maskKey = null,
        byte rsv = 0)
    {
        var headerLength = FrameHeader.Write(destination, fin, opcode, payload.Length, maskKey, rsv);
        var body = destination.Slice(headerLength, payload.Length);
        payload.CopyTo(body);
        if (maskKey is { } key)
            Masking.Apply(body, key);
        return headerLength + payload.Length;
    }

    /// <summary>
    /// The payload of a Close frame (§5.5.1): the code in network byte order and the reason in UTF-8, cut at a
    /// character boundary to fit 123 bytes. Returns its length (0 for <see cref="CloseStatus.NoStatusReceived"/>,
    /// which means "no code").
    /// </summary>
    /// <param name="destination">At least 125 bytes.</param>
    /// <param name="code">A code valid on the wire, or 1005 for an empty payload.</param>
    /// <param name="reason">The reason, possibly empty.</param>
    public static int WriteClosePayload(Span<byte> destination, ushort code, string? reason)
    {
        if (code == CloseStatus.NoStatusReceived)
            return 0;
        BinaryPrimitives.WriteUInt16BigEndian(destination, code);
        if (string.IsNullOrEmpty(reason))
            return 2;
        var bytes = Encoding.UTF8.GetBytes(reason);
        var length = Math.Min(bytes.Length, MaxCloseReasonBytes);
        // Back off to the start of a character so the cut reason is still valid UTF-8.
        while (length < bytes.Length && length > 0 && (bytes[length] & 0xC0) == 0x80)
            length--;
        bytes.AsSpan(0, length).CopyTo(destination[2..]);
        return 2 + length;
    }
}
