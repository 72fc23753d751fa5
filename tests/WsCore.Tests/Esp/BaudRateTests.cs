using WsCore.Chips;
using WsCore.Esp;
using WsCore.FlashFiles;
using WsCore.Flashing;
using WsCore.Nvs;
using WsCore.Tests.Support;
using Wsctl.Cli;

namespace WsCore.Tests.Esp;

/// <summary>
/// The rate flashing runs at: the built wsctl on a real serial port API (System.IO.Ports on a pty) against the
/// simulated ROM, whose link model sees the rate the host set, garbles rates its link cannot hold, and follows the
/// chip's UART through CHANGE_BAUDRATE (the ESP32's scaled value included).
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public class BaudRateTests
{
    private const string Secret = "Bd4-baud-rate-PASS";
    private static readonly Dictionary<string, string> Password = new() { ["WSCTL_WIFI_PASS"] = Secret };

    private static string[] Flash(RomSimulator sim, FirmwareFixture fw, params string[] rest) =>
        ["flash", "--port", sim.Url, "--before", "no-reset", "--after", "no-reset", "--firmware", fw.Dir,
            "--ssid", "MyNet", "-v", .. rest];

    private static byte[] ExpectedFor(FirmwareFixture fw) =>
        FirmwareFixture.ExpectedFlash(FlashFileLoader.Plan(new FlashRequest
        {
            Firmware = fw.Dir,
            Settings = new DeviceSettings("MyNet", Secret),
        }).Regions.Select(r => (r.Offset, r.Data)));

    private static bool Near(int rate, int expected) => Math.Abs(rate - expected) <= expected * 0.03;

    public static TheoryData<string> Chips() => ["esp32", "esp32c3"];

    [Theory]
    [MemberData(nameof(Chips))]
    public async Task Flash_SerialPort_RunsAt460800ByDefault(string chip)
    {
        using var fw = new FirmwareFixture(chip: KnownChips.ById(chip));
        using var sim = new RomSimulator(chip: KnownChips.ById(chip), pty: true);
        var result = await WsctlProcess.RunAsync(Flash(sim, fw), environment: Password);
        Assert.True(result.ExitCode == 0, result.All);
        Assert.Equal(ExpectedFor(fw), sim.Flash);
        Assert.NotEmpty(sim.DataPacketRates);
        Assert.All(sim.DataPacketRates, rate => Assert.True(Near(rate, 460800), $"a data packet at {rate} baud"));
        Assert.Contains("Changed baud rate to 460800", result.Stderr);
        Assert.DoesNotContain("does not hold", result.Stderr);
    }

    /// <summary>
    /// A link that garbles every rate above what it holds (one byte in 64 changed): the session goes back to 115200,
    /// says so in one line, and the flash is written right; the user's rate and the default alike.
    /// </summary>
    [Theory]
    [InlineData(115200, null, 460800)]
    [InlineData(460800, "921600", 921600)]
    public async Task Flash_LinkGarblesTheRate_FallsBackTo115200_SaysSo_WritesRight(
        int linkLimit, string? baud, int tried)
    {
        using var fw = new FirmwareFixture();
        using var sim = new RomSimulator(pty: true) { LinkLimit = linkLimit };
        var result = await WsctlProcess.RunAsync(
            Flash(sim, fw, baud is null ? [] : ["--baud", baud]), environment: Password);
        Assert.True(result.ExitCode == 0, result.All);
        Assert.Equal(ExpectedFor(fw), sim.Flash);
        Assert.All(sim.DataPacketRates, rate => Assert.Equal(115200, rate));
        Assert.Single(result.Stderr.Split('\n'), l => l.Contains($"the link does not hold {tried} baud"));
        Assert.Contains("(answers came garbled or not at all): continuing at 115200 baud", result.Stderr);
        Assert.DoesNotContain("   at ", result.All);
    }

    /// <summary>
    /// A link on which nothing gets through at the new rate, and no modem lines to reset the chip with: the chip cannot
    /// be told to come back, so wsctl stops before writing anything and says how to go on.
    /// </summary>
    [Fact]
    public async Task Flash_LinkAllGarbageAndNoReset_StopsBeforeWriting_HintsAtTheRomRate()
    {
        using var fw = new FirmwareFixture();
        using var sim = new RomSimulator(pty: true) { LinkLimit = 115200, GarbleEvery = 1 };
        var result = await WsctlProcess.RunAsync(Flash(sim, fw), environment: Password);
        Assert.Equal((int)ExitCode.Device, result.ExitCode);
        Assert.Contains("the link does not hold 460800 baud, and the chip did not come back to 115200", result.Stderr);
        Assert.Contains("run again at 115200 baud (--baud)", result.Stderr);
        Assert.Empty(sim.DataPacketRates);
        Assert.All(sim.Flash, b => Assert.Equal(0xFF, b));
        Assert.DoesNotContain("   at ", result.All);
    }

    [Fact]
    public async Task Flash_Baud115200_NoChangeAsked()
    {
        using var fw = new FirmwareFixture();
        using var sim = new RomSimulator(pty: true) { LinkLimit = 115200 };
        var result = await WsctlProcess.RunAsync(Flash(sim, fw, "--baud", "115200"), environment: Password);
        Assert.True(result.ExitCode == 0, result.All);
        Assert.DoesNotContain((byte)0x0F, sim.Ops);
        Assert.Equal(ExpectedFor(fw), sim.Flash);
    }

    /// <summary>A TCP serial server's line has a rate of its own: the chip alone is not moved off 115200.</summary>
    [Fact]
    public async Task Flash_OverSocket_StaysAtTheRomRateUnlessAsked()
    {
        using var fw = new FirmwareFixture();
        using var sim = new RomSimulator();
        var result = await WsctlProcess.RunAsync(Flash(sim, fw), environment: Password);
        Assert.True(result.ExitCode == 0, result.All);
        Assert.DoesNotContain((byte)0x0F, sim.Ops);
    }

    /// <summary>The device verbs share the default: a read at 460800 comes back whole.</summary>
    [Fact]
    public async Task DeviceRead_SerialPort_At460800ByDefault()
    {
        using var sim = new RomSimulator(pty: true);
        Random.Shared.NextBytes(sim.Flash.AsSpan(0x10000, 4096));
        var dir = Directory.CreateTempSubdirectory("wsctl-read-").FullName;
        try
        {
            var file = Path.Combine(dir, "read.bin");
            var result = await WsctlProcess.RunAsync(["device", "read", "--port", sim.Url, "--before", "no-reset",
                "--after", "no-reset", "0x10000", "4096", "-o", file, "-v"]);
            Assert.True(result.ExitCode == 0, result.All);
            Assert.Equal(sim.Flash.AsSpan(0x10000, 4096).ToArray(), await File.ReadAllBytesAsync(file));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
        Assert.True(Near(sim.ChipBaud, 460800), $"the chip at {sim.ChipBaud} baud");
    }
}
