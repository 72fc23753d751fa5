using System.IO.Compression;
using WsCore.Esp;

namespace WsCore.Tests.Esp;

/// <summary>
/// FlashCompressor: a stream that inflates to the image, costing no more on the line than any candidate.
/// </summary>
public class FlashCompressorTests
{
    public static TheoryData<string> Images() => ["app", "noise", "erased", "slip-heavy"];

    private static byte[] Image(string kind)
    {
        var data = new byte[64 * 1024];
        switch (kind)
        {
            case "app":
                return FirmwareFixture.BuildApp(64 * 1024);
            case "noise":
                new Random(11).NextBytes(data);
                break;
            case "erased":
                data.AsSpan().Fill(0xFF);
                break;
            case "slip-heavy": // bytes SLIP must escape, in runs a compressor keeps
                for (var i = 0; i < data.Length; i++)
                    data[i] = (byte)(i % 3 == 0 ? 0xC0 : i % 5 == 0 ? 0xDB : i / 97);
                break;
        }
        return data;
    }

    private static byte[] Inflate(byte[] stream)
    {
        using var inflated = new MemoryStream();
        using (var zlib = new ZLibStream(new MemoryStream(stream), CompressionMode.Decompress))
            zlib.CopyTo(inflated);
        return inflated.ToArray();
    }

    [Theory]
    [MemberData(nameof(Images))]
    public void Compress_InflatesToTheImage_AndCostsNoMoreThanAnyCandidate(string kind)
    {
        var image = Image(kind);
        var chosen = FlashCompressor.Compress(image);
        Assert.Equal(image, Inflate(chosen));
        var candidates = new List<byte[]>
        {
            FlashCompressor.ZlibNg(image, ZLibCompressionStrategy.Default),
            FlashCompressor.ZlibNg(image, ZLibCompressionStrategy.Filtered),
        };
        if (SystemZlib.TryCompress(image, 9, out var system))
            candidates.Add(system);
        Assert.All(candidates, c => Assert.True(FlashCompressor.WireCost(chosen) <= FlashCompressor.WireCost(c),
            $"chose {FlashCompressor.WireCost(chosen)} bytes on the line, a candidate costs " +
            $"{FlashCompressor.WireCost(c)}"));
        Assert.Contains(candidates, c => c.AsSpan().SequenceEqual(chosen));
    }

    [Fact]
    public void WireCost_EachFrameEndAndEscapeByteCountsTwice()
    {
        Assert.Equal(0, FlashCompressor.WireCost([]));
        Assert.Equal(5, FlashCompressor.WireCost([0xC0, 0xDB, 0x01]));
        Assert.Equal(3, FlashCompressor.WireCost([0xDC, 0xDD, 0x00]));
    }
}
