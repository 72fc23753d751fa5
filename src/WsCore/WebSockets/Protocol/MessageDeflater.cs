using System.Buffers;

namespace WsCore.WebSockets.Protocol;

/// <summary>
/// Compresses whole messages for permessage-deflate (RFC 7692 §7.2.1): raw DEFLATE, each message ended with a sync
/// flush whose trailing <c>00 00 ff ff</c> is removed. With context takeover the LZ77 window carries over from one
/// message to the next (repeated JSON keys cost a few bits); without, the compressor is reset after each message.
/// No I/O.
/// </summary>
/// <remarks>
/// The zlib stream is made on the first message, so an endpoint that negotiated compression and never sends holds no
/// compressor. Memory while it exists: zlib's <c>(1 &lt;&lt; (windowBits + 2)) + (1 &lt;&lt; (memLevel + 9))</c>
/// bytes plus about 6 KB of state (<see cref="NativeZlib.BytesInUse"/> counts it). Not thread-safe: one sender
/// owns it, and messages must go out in the order they were compressed.
/// </remarks>
public sealed unsafe class MessageDeflater : IDisposable
{
    /// <summary>zlib's default level, as Kestrel, node ws and the browsers use.</summary>
    public const int DefaultLevel = 6;

    /// <summary>zlib's default memory level (a 64 KiB hash table and 64 KiB pending buffer).</summary>
    public const int DefaultMemoryLevel = 8;

    private readonly int _windowBits;
    private readonly bool _noContextTakeover;
    private readonly int _level;
    private readonly int _memoryLevel;
    private NativeZlib.ZStream* _stream;

    /// <summary>Creates a compressor that keeps within <paramref name="maxWindowBits"/>.</summary>
    /// <param name="maxWindowBits">The window the peer allows (8 to 15). 8 compresses with literals only: zlib's raw
    /// deflate has no 256-byte window, and any back reference could reach further than the peer keeps.</param>
    /// <param name="noContextTakeover">Reset after each message (the peer will not keep our window).</param>
    /// <param name="level">zlib level, 1 (fastest) to 9.</param>
    /// <param name="memoryLevel">zlib memLevel, 1 to 9: memory for the hash table and pending output.</param>
    public MessageDeflater(
        int maxWindowBits = PerMessageDeflate.MaxWindowBits,
        bool noContextTakeover = false,
        int level = DefaultLevel,
        int memoryLevel = DefaultMemoryLevel)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxWindowBits, PerMessageDeflate.MinWindowBits);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxWindowBits, PerMessageDeflate.MaxWindowBits);
        _windowBits = maxWindowBits;
        _noContextTakeover = noContextTakeover;
        _level = level;
        _memoryLevel = memoryLevel;
    }

    /// <summary>A buffer size that almost always holds <paramref name="length"/> bytes compressed (stored blocks
    /// add 5 bytes per 16 KiB to data that does not compress).</summary>
    public static int EstimateLength(int length) => length + (length >> 10) + 64;

    /// <summary>
    /// Compresses <paramref name="message"/> into <paramref name="buffer"/> from <paramref name="offset"/> on and
    /// returns the compressed length. When the buffer is too small a bigger one is rented from
    /// <see cref="ArrayPool{T}.Shared"/>, the bytes before <paramref name="offset"/> and those written so far copied
    /// over, and the old one returned: <paramref name="buffer"/> must be a pooled array.
    /// </summary>
    public int Compress(ReadOnlySpan<byte> message, ref byte[] buffer, int offset)
    {
        // §7.2.3.6: an empty message is a single 0x00 byte (an empty stored block's first bits once the tail is put
        // back), which leaves the compressor untouched: zlib itself would emit nothing for a second flush in a row.
        if (message.IsEmpty)
        {
            EnsureRoom(ref buffer, offset + 1);
            buffer[offset] = 0;
            return 1;
        }
        var stream = Stream();
        var written = 0;
        fixed (byte* input = message)
        {
            stream->NextIn = input;
            stream->AvailIn = (uint)message.Length;
            while (true)
            {
                if (buffer.Length - offset - written < 64)
                    Grow(ref buffer, offset + written, Math.Max(64, message.Length >> 2));
                var room = buffer.Length - offset - written;
                int status;
                fixed (byte* output = &buffer[offset + written])
                {
                    stream->NextOut = output;
                    stream->AvailOut = (uint)room;
                    status = NativeZlib.Deflate(stream, NativeZlib.SyncFlush);
                }
                written += room - (int)stream->AvailOut;
                if (status is not (NativeZlib.Ok or NativeZlib.BufferError))
                    throw new InvalidOperationException($"zlib deflate failed ({status})");
                // Done when zlib left output space unused: all input taken and the flush complete (zlib.h, deflate).
                if (stream->AvailOut != 0)
                    break;
            }
            stream->NextIn = null;
        }
        // §7.2.1: the sync flush ends with an empty stored block, 00 00 ff ff; it is removed, the receiver puts it
        // back (§7.2.2).
        written -= 4;
        if (_noContextTakeover)
            _ = NativeZlib.DeflateReset(stream);
        return written;
    }

    /// <summary>Frees the compressor's native memory.</summary>
    public void Dispose()
    {
        Free();
        GC.SuppressFinalize(this);
    }

    /// <summary>Frees the native memory of a compressor nobody disposed.</summary>
    ~MessageDeflater() => Free();

    private NativeZlib.ZStream* Stream()
    {
        if (_stream is not null)
            return _stream;
        var stream = NativeZlib.NewStream();
        // Negative windowBits: raw DEFLATE, no zlib header or checksum (§7.2.1). 8 is refused by zlib's raw deflate:
        // 9 with literals only (no distance can exceed any window) keeps the promise instead.
        var literalsOnly = _windowBits == PerMessageDeflate.MinWindowBits;
        var status = NativeZlib.DeflateInit(
            stream,
            _level,
            -(literalsOnly ? PerMessageDeflate.MinWindowBits + 1 : _windowBits),
            _memoryLevel,
            literalsOnly ? NativeZlib.HuffmanOnly : NativeZlib.DefaultStrategy);
        if (status != NativeZlib.Ok)
        {
            NativeZlib.FreeStream(stream);
            throw new InvalidOperationException($"zlib deflateInit2 failed ({status})");
        }
        return _stream = stream;
    }

    private void Free()
    {
        if (_stream is null)
            return;
        _ = NativeZlib.DeflateEnd(_stream);
        NativeZlib.FreeStream(_stream);
        _stream = null;
    }

    private static void EnsureRoom(ref byte[] buffer, int needed)
    {
        if (buffer.Length < needed)
            Grow(ref buffer, buffer.Length, needed - buffer.Length);
    }

    // Keeps the first `keep` bytes.
    private static void Grow(ref byte[] buffer, int keep, int more)
    {
        var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(buffer.Length * 2, buffer.Length + more));
        buffer.AsSpan(0, keep).CopyTo(bigger);
        ArrayPool<byte>.Shared.Return(buffer);
        buffer = bigger;
    }
}
