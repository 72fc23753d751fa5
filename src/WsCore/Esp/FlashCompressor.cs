using System.IO.Compression;

namespace WsCore.Esp;

/// <summary>
/// Chooses the zlib stream a compressed write sends (docs/esp32-rom-protocol.md §8): of the candidates below, the one
/// that costs the fewest bytes on the line, SLIP escapes included. Pure: no I/O.
/// </summary>
public static class FlashCompressor
{
    /// <summary>zlib's highest level, the one esptool uses (<c>zlib.compress(image, 9)</c>).</summary>
    private const int BestCompression = 9;

    /// <summary>
    /// A zlib stream of <paramref name="image"/> that costs the fewest bytes on the line: the system zlib's
    /// <c>compress2</c> at level 9 (exactly what esptool sends, so wsctl never sends more), and zlib-ng (.NET's
    /// ZLibStream) at level 9 with the default and the filtered strategy, which is sometimes a few hundred bytes
    /// smaller. Without a system zlib, the better of the two zlib-ng streams.
    /// </summary>
    public static byte[] Compress(ReadOnlySpan<byte> image)
    {
        byte[]? best = null;
        long bestCost = long.MaxValue;
        if (SystemZlib.TryCompress(image, BestCompression, out var likeEsptool))
            Consider(likeEsptool);
        foreach (var strategy in new[] { ZLibCompressionStrategy.Default, ZLibCompressionStrategy.Filtered })
            Consider(ZlibNg(image, strategy));
        return best!;

        void Consider(byte[] candidate)
        {
            var cost = WireCost(candidate);
            if (cost < bestCost)
            {
                best = candidate;
                bestCost = cost;
            }
        }
    }

    /// <summary>
    /// The bytes <paramref name="stream"/> takes on the line once SLIP-escaped: its length plus one for every 0xC0 and
    /// 0xDB. The headers of the data packets it is sent in are left out.
    /// </summary>
    public static long WireCost(ReadOnlySpan<byte> stream) => Slip.EncodedLength(stream) - 2;

    /// <summary>.NET's ZLibStream (zlib-ng) at level 9 with <paramref name="strategy"/>.</summary>
    internal static byte[] ZlibNg(ReadOnlySpan<byte> image, ZLibCompressionStrategy strategy)
    {
        using var output = new MemoryStream();
        using (var zlib = new ZLibStream(
            output,
            new ZLibCompressionOptions { CompressionLevel = BestCompression, CompressionStrategy = strategy },
            leaveOpen: true))
            zlib.Write(image);
        return output.ToArray();
    }
}
