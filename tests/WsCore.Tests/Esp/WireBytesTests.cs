using System.Diagnostics;
using WsCore.Esp;
using WsCore.FlashFiles;
using WsCore.Flashing;
using WsCore.Nvs;
using Xunit.Abstractions;

namespace WsCore.Tests.Esp;

/// <summary>
/// Bytes on the line against a floor of what esptool sends for the same job with --no-stub (esp32-rom-protocol.md
/// §3-§4): one SYNC, then per region FLASH_BEGIN, the data packets, and SPI_FLASH_MD5. esptool sends more than this
/// floor (chip, eFuse and flash-ID reads), so staying under it means staying under esptool.
/// </summary>
public class WireBytesTests(ITestOutputHelper output)
{
    private static long Framed(byte[] packet) => Slip.EncodedLength(packet);

    private static long EsptoolFloor(IEnumerable<FlashRegion> regions, Func<byte[], byte[]>? compress)
    {
        long total = Framed(RomPackets.Request(RomCommand.Sync, RomPackets.SyncPayload()));
        foreach (var region in regions)
        {
            var image = FlashRegion.PadTo4(region.Data);
            var payload = compress?.Invoke(image) ?? image;
            var deflate = compress is not null && payload.Length < image.Length;
            if (!deflate)
                payload = image;
            var blocks = (payload.Length + 0x3FF) / 0x400;
            total += Framed(RomPackets.Request(RomCommand.FlashBegin, RomPackets.Words(0, 0, 0, 0)));
            for (var i = 0; i < blocks; i++)
            {
                var length = Math.Min(0x400, payload.Length - i * 0x400);
                var block = new byte[deflate ? length : 0x400];
                block.AsSpan().Fill(0xFF);
                payload.AsSpan(i * 0x400, length).CopyTo(block);
                total += Framed(RomPackets.DataRequest(
                    deflate ? RomCommand.FlashDeflData : RomCommand.FlashData, (uint)i, block));
            }
            total += Framed(RomPackets.Request(RomCommand.SpiFlashMd5, RomPackets.Words(0, 0, 0, 0)));
        }
        return total;
    }

    /// <summary>
    /// zlib.compress(data, 9) as esptool -z does it, through Debian's python3 (real zlib, not zlib-ng).
    /// </summary>
    private static byte[]? PythonZlib9(byte[] data)
    {
        if (!File.Exists("/usr/bin/python3"))
            return null;
        var info = new ProcessStartInfo(
            "/usr/bin/python3",
            ["-c", "import sys,zlib; sys.stdout.buffer.write(zlib.compress(sys.stdin.buffer.read(), 9))"])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
        };
        using var p = Process.Start(info)!;
        var read = Task.Run(() =>
        {
            using var ms = new MemoryStream();
            p.StandardOutput.BaseStream.CopyTo(ms);
            return ms.ToArray();
        });
        p.StandardInput.BaseStream.Write(data);
        p.StandardInput.Close();
        p.WaitForExit();
        return read.Result;
    }

    [Theory]
    [InlineData("WsCore.dll")]
    [InlineData("System.CommandLine.dll")]
    [InlineData("Serilog.dll")]
    [InlineData("xunit.core.dll")]
    public void Compress_RealBinaries_RoundTripsAndIsNoLargerThanZlib9(string file)
    {
        var data = File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, file));
        var ours = FlashCompressor.Compress(data);
        using (var inflated = new MemoryStream())
        {
            using (var zlib = new System.IO.Compression.ZLibStream(
                new MemoryStream(ours), System.IO.Compression.CompressionMode.Decompress))
                zlib.CopyTo(inflated);
            Assert.Equal(data, inflated.ToArray());
        }
        var reference = PythonZlib9(data);
        output.WriteLine($"{file}: {data.Length} bytes -> wsctl {ours.Length}, zlib 9 {reference?.Length}");
        if (reference is not null)
            Assert.True(ours.Length <= reference.Length, $"wsctl {ours.Length} > zlib {reference.Length}");
    }

    [Fact]
    public void SystemZlib_Level9_IsByteForByteWhatEsptoolsPythonZlibSends()
    {
        var data = File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "System.CommandLine.dll"));
        Assert.True(SystemZlib.TryCompress(data, 9, out var ours), "libz.so.1 could not be loaded");
        var reference = PythonZlib9(data);
        Assert.NotNull(reference);
        Assert.Equal(reference, ours);
    }

    [Fact]
    public void FlashAll_BuildDir_SendsFewerBytesThanEsptoolUncompressed()
    {
        using var fw = new FirmwareFixture(appSize: 160 * 1024);
        using var sim = new RomSimulator();
        var plan = FlashFileLoader.Plan(new FlashRequest
        {
            Firmware = fw.Dir,
            Settings = new DeviceSettings("MyNet", "password123")
        });
        using (var transport = TcpSerialTransport.Connect("127.0.0.1", sim.Port))
            new EspFlasher(
                transport,
                new FlashSessionOptions
                {
                    Before = BeforeReset.NoReset,
                    After = AfterReset.NoReset
                }).FlashAll(plan.Regions);
        sim.WaitIdle(TimeSpan.FromSeconds(10));
        var plain = EsptoolFloor(plan.Regions, null);
        var zlib = PythonZlib9(fw.App) is null ? -1 : EsptoolFloor(plan.Regions, d => PythonZlib9(d)!);
        output.WriteLine($"wsctl {sim.BytesReceived} bytes; esptool --no-stub floor {plain}; with -z (zlib 9) floor " +
            $"{zlib}");
        Assert.True(sim.BytesReceived < plain, $"wsctl sent {sim.BytesReceived}, esptool's floor is {plain}");
    }
}
