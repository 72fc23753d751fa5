using System.Text;
using System.Text.Json;
using WsCore.Esp;
using WsCore.Flashing;
using Wsctl.Flash;

namespace WsCore.Tests.Esp;

public class RendererTests
{
    private static readonly FlashRegion Nvs = new("nvs", 0x9000, new byte[0x6000]);

    private static void Feed(IFlashObserver observer)
    {
        observer.OnEvent(new FlashEvent(FlashEventKind.Connecting, Message: "socket://127.0.0.1:1"));
        observer.OnEvent(new FlashEvent(FlashEventKind.Connected, Message: "ESP32"));
        observer.OnEvent(new FlashEvent(FlashEventKind.RegionStarted, Nvs, 0, 0x6000, "120 bytes compressed"));
        for (var i = 1; i <= 4; i++)
            observer.OnEvent(new FlashEvent(FlashEventKind.RegionProgress, Nvs, 0x6000 * i / 4, 0x6000));
        observer.OnEvent(new FlashEvent(
            FlashEventKind.RegionVerified, Nvs, 0x6000, 0x6000, "0123456789abcdef0123456789abcdef"));
        observer.OnEvent(new FlashEvent(FlashEventKind.Done));
    }

    [Fact]
    public void Terminal_DrawsBarWithBytesPercentRateEta()
    {
        var text = new StringWriter();
        Feed(new TerminalFlashRenderer(text));
        var output = text.ToString();
        Assert.Contains("\rnvs", output);
        Assert.Contains("24576/24576", output);
        Assert.Contains("100.0%", output);
        Assert.Contains("KiB/s", output);
        Assert.Contains("ETA", output);
        Assert.Contains("verified nvs", output);
    }

    [Fact]
    public void Plain_OneLinePerStep_NoCarriageReturns()
    {
        var text = new StringWriter();
        Feed(new PlainFlashRenderer(text));
        var output = text.ToString();
        Assert.DoesNotContain("\r", output);
        Assert.Equal(5, output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.Contains("Writing nvs at 0x9000 (24576 bytes, 120 bytes compressed)", output);
    }

    [Fact]
    public void Json_EachLineAnObjectWithEvent()
    {
        var stream = new MemoryStream();
        Feed(new JsonFlashRenderer(stream));
        var lines = Encoding.UTF8.GetString(stream.ToArray()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var events = lines.Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(
            ["connecting", "connected", "region_start", "progress", "progress", "progress", "progress",
                "region_verified", "done"],
            events.Select(e => e.GetProperty("type").GetString()));
        Assert.Equal(0x9000, events[2].GetProperty("offset").GetInt32());
        Assert.Equal("0123456789abcdef0123456789abcdef", events[7].GetProperty("md5").GetString());
    }
}
