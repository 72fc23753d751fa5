using System.Text.RegularExpressions;
using WsCore.Ota;
using WsCore.Tests.Support;

namespace WsCore.Tests.Ota;

/// <summary>
/// The <c>wsctl ota</c> process against <see cref="OtaDeviceSimulator"/>s: its lines, exit codes and checks.
/// </summary>
public sealed class OtaVerbTests : IDisposable
{
    private static readonly byte[] Key = [.. Enumerable.Range(7, 32).Select(i => (byte)i)];
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(90);
    private readonly string _dir = Directory.CreateTempSubdirectory("wsctl-ota-verb-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string KeyFile(byte[]? key = null)
    {
        var path = Path.Combine(_dir, $"{Guid.NewGuid():N}.key");
        File.WriteAllText(path, Convert.ToHexStringLower(key ?? Key) + "\n");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        return path;
    }

    private string App(string version, string project = "esp32ws", int size = 64 * 1024)
    {
        var path = Path.Combine(_dir, $"{project}-{version}.bin");
        File.WriteAllBytes(path, OtaTestImage.Build(project, version, size));
        return path;
    }

    private static Task<OtaDeviceSimulator> DeviceAsync(byte[]? key = null) =>
        OtaDeviceSimulator.StartAsync(key ?? Key, OtaImage.Parse(OtaTestImage.Build("esp32ws", "1.2.0", 4096), "a"));

    [Fact]
    public async Task Ota_OneDevice_Updated_ItsLines_AndNoKeyInAnyOutput()
    {
        await using var device = await DeviceAsync();

        var run = await WsctlProcess.RunAsync(["ota", $"127.0.0.1:{device.Port}", "--firmware", App("1.3.0"),
            "--ota-key", KeyFile()], timeout: Limit);

        Assert.True(run.ExitCode == 0, run.All);
        var target = $"127.0.0.1:{device.Port}";
        Assert.Contains($"{target}: runs esp32ws 1.2.0", run.Stdout, StringComparison.Ordinal);
        Assert.Contains($"{target}: written and checked; restarting into ota_1", run.Stdout, StringComparison.Ordinal);
        Assert.Contains($"{target}: confirmed 1.3.0", run.Stdout, StringComparison.Ordinal);
        Assert.Matches($@"(?m)^{Regex.Escape(target)}\s+updated\s+1\.3\.0\s", run.Stdout);
        Assert.DoesNotContain(Convert.ToHexStringLower(Key), run.All, StringComparison.OrdinalIgnoreCase);
        Assert.Equal("1.3.0", device.Running.Version);
    }

    [Fact]
    public async Task Ota_WrongKey_Exit8_NamingTheKeyOption()
    {
        await using var device = await DeviceAsync();

        var run = await WsctlProcess.RunAsync(["ota", $"127.0.0.1:{device.Port}", "--firmware", App("1.3.0"),
            "--ota-key", KeyFile(new byte[32])], timeout: Limit);

        Assert.True(run.ExitCode == 8, run.All);
        Assert.Contains("wrong key", run.Stdout, StringComparison.Ordinal);
        Assert.Contains("hint: use the key file that was flashed to this device (--ota-key FILE)", run.Stderr,
            StringComparison.Ordinal);
    }

    [Fact]
    public async Task Ota_TwoDevicesOneRefuses_Partial9_OneLineEach()
    {
        await using var good = await DeviceAsync();
        await using var other = await DeviceAsync(new byte[32]);

        var run = await WsctlProcess.RunAsync(["ota", "--to", $"127.0.0.1:{good.Port}", "--to",
            $"127.0.0.1:{other.Port}", "--firmware", App("1.3.0"), "--ota-key", KeyFile()], timeout: Limit);

        Assert.True(run.ExitCode == 9, run.All);
        Assert.Contains("1 of 2 device(s) not updated", run.Stderr, StringComparison.Ordinal);
        Assert.Matches($@"(?m)^127\.0\.0\.1:{good.Port}\s+updated", run.Stdout);
        Assert.Matches($@"(?m)^127\.0\.0\.1:{other.Port}\s+wrong key", run.Stdout);
    }

    [Fact]
    public async Task Ota_DryRun_ThePlan_NoDeviceContacted()
    {
        await using var device = await DeviceAsync();

        var run = await WsctlProcess.RunAsync(["ota", $"127.0.0.1:{device.Port}", "--firmware", App("1.3.0"),
            "--dry-run", "--canary", "1"], timeout: Limit);

        Assert.True(run.ExitCode == 0, run.All);
        Assert.Contains("image    esp32ws 1.3.0 for esp32c3, 65536 bytes", run.Stdout, StringComparison.Ordinal);
        Assert.Contains($"target   127.0.0.1:{device.Port} (ws://127.0.0.1:{device.Port}/ota)", run.Stdout,
            StringComparison.Ordinal);
        Assert.Equal("1.2.0", device.Running.Version);
    }

    [Theory]
    [InlineData("--ota-key: the device's key file is needed")]
    [InlineData("--firmware: ")]
    [InlineData("--match selects")]
    public async Task Ota_UsageErrors_Exit1BeforeAnyDevice(string expected)
    {
        string[] args = expected switch
        {
            "--ota-key: the device's key file is needed" => ["ota", "127.0.0.1:1", "--firmware", App("1.3.0")],
            "--firmware: " => ["ota", "127.0.0.1:1", "--firmware", Path.Combine(_dir, "none.bin"), "--ota-key",
                KeyFile()],
            _ => ["ota", "127.0.0.1:1", "--firmware", App("1.3.0"), "--ota-key", KeyFile(), "--match", "x*"],
        };

        var run = await WsctlProcess.RunAsync(args, timeout: Limit);

        Assert.True(run.ExitCode == 1, run.All);
        Assert.Contains(expected, run.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Probe_ADeviceWithOta_ShowsItsApp()
    {
        await using var device = await DeviceAsync();

        var run = await WsctlProcess.RunAsync(["probe", $"127.0.0.1:{device.Port}", "--wait-message", "0"],
            timeout: Limit);

        Assert.True(run.ExitCode == 0, run.All);
        Assert.Matches(@"(?m)^ota       yes .* ms  app esp32ws 1\.2\.0 \(elf [0-9a-f]{8}\) in ota_0, valid$",
            run.Stdout);
    }
}
