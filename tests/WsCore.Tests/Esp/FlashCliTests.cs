using System.Diagnostics;
using System.Text.Json;
using WsCore.Chips;
using WsCore.Esp;
using WsCore.FlashFiles;
using WsCore.Flashing;
using WsCore.Nvs;
using WsCore.Tests.Support;
using Wsctl.Cli;

namespace WsCore.Tests.Esp;

/// <summary>The built wsctl, run as a process, against the simulated ROM loader.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public class FlashCliTests
{
    private const string Secret = "Zq7-distinctive-PASS-91";

    private static string[] Device(RomSimulator sim, params string[] rest) =>
        ["flash", "--port", sim.Url, "--before", "no-reset", "--after", "no-reset", .. rest];

    private static byte[] ExpectedFor(FirmwareFixture fw, DeviceSettings settings) =>
        FirmwareFixture.ExpectedFlash(FlashFileLoader.Plan(new FlashRequest { Firmware = fw.Dir, Settings = settings })
            .Regions.Select(r => (r.Offset, r.Data)));

    [Fact]
    public async Task Flash_BuildDirAndCredentials_FlashMatches_PasswordNowhere()
    {
        using var fw = new FirmwareFixture();
        using var sim = new RomSimulator();
        var result = await WsctlProcess.RunAsync([
            .. Device(sim, "--firmware", fw.Dir, "--ssid", "MyNet", "--pass", Secret, "--hostname", "lab7", "-v")]);
        sim.WaitIdle(TimeSpan.FromSeconds(10));
        Assert.True(result.ExitCode == 0, result.All);
        Assert.Equal(ExpectedFor(fw, new DeviceSettings("MyNet", Secret, "lab7")), sim.Flash);
        Assert.DoesNotContain(Secret, result.All);
        Assert.Contains("Verified", result.Stdout);
    }

    [Fact]
    public async Task Flash_Json_EveryLineIsAnObject_PasswordNowhere()
    {
        using var sim = new RomSimulator();
        var result = await WsctlProcess.RunAsync(
            Device(sim, "--ssid", "MyNet", "--json"),
            environment: new Dictionary<string, string> { ["WSCTL_WIFI_PASS"] = Secret });
        sim.WaitIdle(TimeSpan.FromSeconds(10));
        Assert.True(result.ExitCode == 0, result.All);
        var events = result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => JsonDocument.Parse(l).RootElement.GetProperty("type").GetString())
            .ToList();
        Assert.Contains("region_verified", events);
        Assert.Equal(["done", "result"], events[^2..]);
        Assert.DoesNotContain(Secret, result.All);
        // Only the NVS partition is written when no firmware is given.
        var expected = FirmwareFixture.ExpectedFlash([
            (0x9000u, new DeviceSettings("MyNet", Secret).BuildNvsImage(0x6000))]);
        Assert.Equal(expected, sim.Flash);
    }

    public static TheoryData<string[]> OutputModes() =>
    [
        ["-v"], ["--json", "-v"], ["--dry-run"], ["--dry-run", "--json"], ["--log-format", "json", "-v"],
    ];

    /// <summary>
    /// The NVS image is fully determined by SSID, password and defaults, so its MD5 (in hex, either case, or in
    /// base64) would let anyone holding the output test password guesses offline: no mode of output may show it.
    /// </summary>
    [Theory]
    [MemberData(nameof(OutputModes))]
    public async Task EveryOutput_NeitherPasswordNorNvsMd5(string[] mode)
    {
        using var fw = new FirmwareFixture();
        using var sim = new RomSimulator();
        var result = await WsctlProcess.RunAsync(Device(
            sim, ["--firmware", fw.Dir, "--ssid", "MyNet", "--pass", Secret, .. mode]));
        sim.WaitIdle(TimeSpan.FromSeconds(10));
        Assert.True(result.ExitCode == 0, result.All);
        var nvs = new DeviceSettings("MyNet", Secret).BuildNvsImage(0x6000);
        var md5 = System.Security.Cryptography.MD5.HashData(nvs);
        Assert.DoesNotContain(Secret, result.All);
        Assert.DoesNotContain(Convert.ToHexStringLower(md5), result.All, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(Convert.ToBase64String(md5), result.All);
        Assert.Contains("(secret)", result.All);
        // The app's MD5 is no secret and is still shown.
        var appMd5 = System.Security.Cryptography.MD5.HashData(FlashRegion.PadTo4(fw.App));
        Assert.Contains(Convert.ToHexStringLower(appMd5), result.All);
    }

    [Fact]
    public async Task NvsOut_PasswordFromStdin_File0600MatchesBuilder()
    {
        var dir = Directory.CreateTempSubdirectory("wsctl-nvs-").FullName;
        try
        {
            var path = Path.Combine(dir, "nvs.bin");
            await File.WriteAllTextAsync(path, "an older, world-readable file");
            File.SetUnixFileMode(
                path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
            var result = await WsctlProcess.RunAsync(
                ["flash", "--ssid", "Home Net", "--pass", "-", "--ws-port", "9000", "--max-clients", "3", "--nvs-out",
                    path],
                stdin: Secret + "\n");
            Assert.True(result.ExitCode == 0, result.All);
            Assert.Equal(
                new DeviceSettings("Home Net", Secret, "esp32ws", 9000, 3).BuildNvsImage(0x6000),
                await File.ReadAllBytesAsync(path));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
            Assert.DoesNotContain(Secret, result.All);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    // --pass - with stdin that ends before a line (an empty file, /dev/null): refused in both verbs that take the
    // password, before anything is written or any port opened, not taken for an open network's empty password.
    [Theory]
    [InlineData("flash", "--nvs-out")]
    [InlineData("provision", "-p")]
    public async Task PassFromStdin_StdinEndsBeforeALine_Exits1AndWritesNothing(string verb, string target)
    {
        var dir = Directory.CreateTempSubdirectory("wsctl-pass-").FullName;
        try
        {
            var path = Path.Combine(dir, "out");
            var result = await WsctlProcess.RunAsync([verb, "--ssid", "Home Net", "--pass", "-", target, path],
                stdin: "");
            Assert.True(result.ExitCode == 1, result.All);
            Assert.Contains("--pass: stdin ended before a line with the password", result.Stderr);
            Assert.Contains("an open network takes --pass \"\"", result.Stderr);
            Assert.False(File.Exists(path));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    // --pass - with stdin piped and left open: Ctrl-C ends the wait for the password line (a read blocked in the
    // kernel, which the handled signal does not interrupt by itself) with 130, the result last with --json.
    [Theory]
    [InlineData("flash", "--nvs-out")]
    [InlineData("provision", "-p")]
    public async Task PassFromStdin_StdinLeftOpen_CtrlC_Exits130(string verb, string target)
    {
        var dir = Directory.CreateTempSubdirectory("wsctl-pass-").FullName;
        try
        {
            var path = Path.Combine(dir, "out");
            using var wsctl = WsctlProcess.Start(
                [verb, "--ssid", "Home Net", "--pass", "-", target, path, "--json"], null);
            await wsctl.WaitUntilReadingStdinAsync(TimeSpan.FromSeconds(30));
            wsctl.Signal("INT");
            Assert.Equal(130, await wsctl.WaitForExitAsync(TimeSpan.FromSeconds(30)));
            Assert.Contains("\"exit_code\":130", wsctl.StdoutLines[^1]);
            Assert.False(File.Exists(path));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task NvsOut_PasswordFromStdinAnEmptyLine_AnOpenNetwork()
    {
        var dir = Directory.CreateTempSubdirectory("wsctl-nvs-").FullName;
        try
        {
            var path = Path.Combine(dir, "nvs.bin");
            var result = await WsctlProcess.RunAsync(
                ["flash", "--ssid", "Cafe", "--pass", "-", "--nvs-out", path], stdin: "\n");
            Assert.True(result.ExitCode == 0, result.All);
            Assert.Equal(new DeviceSettings("Cafe", "").BuildNvsImage(0x6000), await File.ReadAllBytesAsync(path));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task Output_MergedImage_AndDryRunPlan()
    {
        using var fw = new FirmwareFixture();
        var path = Path.Combine(fw.Dir, "merged.bin");
        var result = await WsctlProcess.RunAsync(["flash", "--firmware", fw.Dir, "--ssid", "MyNet", "--pass", Secret,
            "--output", path]);
        Assert.True(result.ExitCode == 0, result.All);
        var merged = await File.ReadAllBytesAsync(path);
        var expected = ExpectedFor(fw, new DeviceSettings("MyNet", Secret));
        Assert.Equal(expected.AsSpan(0, merged.Length).ToArray(), merged);
        Assert.Equal(0x10000 + fw.App.Length, merged.Length);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));

        var dry = await WsctlProcess.RunAsync(["flash", "--firmware", fw.Dir, "--ssid", "MyNet", "--pass", Secret,
            "--dry-run"]);
        Assert.True(dry.ExitCode == 0, dry.All);
        Assert.Contains("0x00009000", dry.Stdout);
        Assert.Contains("0x00010000", dry.Stdout);
        Assert.Contains(Convert.ToHexStringLower(System.Security.Cryptography.MD5.HashData(fw.App)), dry.Stdout);
        Assert.DoesNotContain(Secret, dry.All);
    }

    [Theory]
    [InlineData("--ssid", "--ssid", "")]
    [InlineData("--pass", "--pass", "short")]
    [InlineData("--hostname", "--hostname", "bad_name")]
    [InlineData("--ws-port", "--ws-port", "70000")]
    [InlineData("--max-clients", "--max-clients", "9")]
    [InlineData("--hostname", "--hostname", "h23456789012345678901234567890123")]
    [InlineData("--image", "--image", "0x10000=/nonexistent/app.bin")]
    [InlineData("--firmware", "--firmware", "/nonexistent/build")]
    public async Task BadInput_Exit1_NamesField_TouchesNothing(string field, string option, string value)
    {
        using var sim = new RomSimulator();
        var dir = Directory.CreateTempSubdirectory("wsctl-bad-").FullName;
        try
        {
            var nvs = Path.Combine(dir, "nvs.bin");
            string[] args = ["--ssid", "MyNet", "--pass", Secret];
            var list = args.ToList();
            var at = list.IndexOf(option);
            if (at >= 0)
                list[at + 1] = value;
            else
                list.AddRange([option, value]);
            var offline = await WsctlProcess.RunAsync(["flash", .. list, "--nvs-out", nvs]);
            Assert.Equal(1, offline.ExitCode);
            Assert.Contains(field, offline.Stderr);
            Assert.False(File.Exists(nvs));
            var online = await WsctlProcess.RunAsync(Device(sim, [.. list]));
            Assert.Equal(1, online.ExitCode);
            Assert.Equal(0, sim.BytesReceived);
            Assert.DoesNotContain(Secret, offline.All + online.All);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>One past each limit of the firmware's wsctl_limits.h, as the CLI takes it.</summary>
    public static TheoryData<string, string> BeyondDeviceLimits()
    {
        var limits = FirmwareSources.Defines(FirmwareSources.LimitsHeaderPath);
        long Int(string name) => (long)limits[name];
        return new()
        {
            { "--hostname", "h" + new string('o', (int)Int("WSCTL_HOSTNAME_MAX") - 1) + "x" },
            { "--max-clients",
                (Int("WSCTL_MAX_CLIENTS_MAX") + 1).ToString(System.Globalization.CultureInfo.InvariantCulture) },
            { "--ws-port", (Int("WSCTL_WS_PORT_MAX") + 1).ToString(System.Globalization.CultureInfo.InvariantCulture) },
            { "--ssid", new string('s', (int)Int("WSCTL_SSID_MAX_BYTES") + 1) },
            { "--counter-interval",
                (Int("WSCTL_COUNTER_INTERVAL_MAX_MS") + 1).ToString(System.Globalization.CultureInfo.InvariantCulture) +
                    "ms" },
            { "--counter-interval", "1.5ms" }, // NVS holds whole milliseconds
        };
    }

    /// <summary>
    /// A value the device cannot hold is refused before anything is written (exit 1, the first stderr line names
    /// the option), never written for the device to drop at boot in favour of its Kconfig default.
    /// </summary>
    [Theory]
    [MemberData(nameof(BeyondDeviceLimits))]
    public async Task BeyondDeviceLimit_Exit1_FirstLineNamesOption_NothingWritten(string option, string value)
    {
        var dir = Directory.CreateTempSubdirectory("wsctl-limit-").FullName;
        try
        {
            var nvs = Path.Combine(dir, "nvs.bin");
            var list = new List<string> { "flash", "--ssid", "MyNet", "--pass", Secret, "--nvs-out", nvs };
            var at = list.IndexOf(option);
            if (at >= 0)
                list[at + 1] = value;
            else
                list.AddRange([option, value]);
            var result = await WsctlProcess.RunAsync([.. list]);
            Assert.Equal(1, result.ExitCode);
            var first = result.Stderr.Split('\n')[0];
            Assert.StartsWith($"wsctl: {option}:", first);
            Assert.False(File.Exists(nvs));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Theory]
    [InlineData("--device-echo")]
    [InlineData("--counter-interval", "0")]
    public async Task NvsSettingWithoutSsid_Exit1_SaysTheNvsNeedsTheCredentials(params string[] option)
    {
        // They live in the NVS partition, written only with the Wi-Fi credentials: never dropped silently.
        var result = await WsctlProcess.RunAsync(["flash", "--image", "0x10000=/nonexistent/app.bin", .. option]);
        Assert.Equal(1, result.ExitCode);
        Assert.StartsWith($"wsctl: --ssid: {option[0]} is an NVS setting: give --ssid and --pass too",
            result.Stderr.Split('\n')[0]);
    }

    [Fact]
    public async Task OverlappingImages_Exit1()
    {
        using var fw = new FirmwareFixture();
        var app = Path.Combine(fw.Dir, "app.bin");
        var result = await WsctlProcess.RunAsync(["flash", "--image", $"0x10000={app}", "--image", $"0x11000={app}",
            "--dry-run"]);
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("overlaps", result.Stderr);
    }

    [Fact]
    public async Task VerificationFailure_Exit11_NamesOffset()
    {
        using var sim = new RomSimulator();
        sim.InjectFault(RomFault.CorruptFlashAlways, 1);
        var result = await WsctlProcess.RunAsync(Device(sim, "--ssid", "MyNet", "--pass", Secret));
        Assert.Equal(11, result.ExitCode);
        Assert.Contains("0x9000", result.Stderr);
        Assert.DoesNotContain(Secret, result.All);
    }

    [Fact]
    public async Task ResetMidWrite_Exit10_WithHint()
    {
        using var fw = new FirmwareFixture();
        using var sim = new RomSimulator();
        sim.InjectFault(RomFault.ResetMidWrite, 3);
        var result = await WsctlProcess.RunAsync(Device(
            sim, "--firmware", fw.Dir, "--ssid", "MyNet", "--pass", Secret, "--json"));
        Assert.Equal(10, result.ExitCode);
        Assert.Contains("hint:", result.Stderr);
        var last = JsonDocument.Parse(result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1]).RootElement;
        Assert.Equal("result", last.GetProperty("type").GetString());
        Assert.False(last.GetProperty("ok").GetBoolean());
        Assert.Equal(10, last.GetProperty("exit_code").GetInt32());
        Assert.True(last.TryGetProperty("hint", out _));
    }

    [Fact]
    public async Task LaterChip_CredentialsFlashed_ExpectedChipMismatch_Exit10()
    {
        using (var s3 = new RomSimulator(chip: KnownChips.Esp32S3))
        {
            var result = await WsctlProcess.RunAsync(Device(s3, "--ssid", "MyNet", "--pass", Secret));
            Assert.True(result.ExitCode == 0, result.All);
            Assert.Contains("ESP32-S3", result.Stdout);
        }
        using var esp32 = new RomSimulator();
        var mismatch = await WsctlProcess.RunAsync(Device(
            esp32, "--ssid", "MyNet", "--pass", Secret, "--chip", "esp32c3"));
        Assert.Equal(10, mismatch.ExitCode);
        Assert.Contains("--chip: ESP32 detected, but ESP32-C3 was expected", mismatch.Stderr);
        Assert.Contains("hint: connect the ESP32-C3 board, or let the chip be detected (--chip auto)", mismatch.Stderr);
    }

    [Fact]
    public async Task PortAuto_NoAdapter_Exit10WithHint_SeveralAdapters_Exit1Listing()
    {
        var root = Directory.CreateTempSubdirectory("wsctl-sysfs-").FullName;
        try
        {
            var none = await WsctlProcess.RunAsync(["flash", "--ssid", "MyNet", "--pass", Secret],
                environment: new Dictionary<string, string> { ["WSCTL_SYSFS_ROOT"] = root });
            Assert.Equal(10, none.ExitCode);
            Assert.Contains("wsctl: --port: no ESP32 USB serial adapter found", none.Stderr);
            Assert.Contains("hint: plug the board in", none.Stderr);
            foreach (var (tty, vid, pid) in new[] { ("ttyUSB0", "10c4", "ea60"), ("ttyUSB1", "1a86", "7523") })
            {
                var usb = Path.Combine(root, "devices", $"usb-{tty}");
                var node = Path.Combine(usb, "1-1:1.0", tty);
                Directory.CreateDirectory(node);
                await File.WriteAllTextAsync(Path.Combine(usb, "idVendor"), vid);
                await File.WriteAllTextAsync(Path.Combine(usb, "idProduct"), pid);
                Directory.CreateDirectory(Path.Combine(root, "class", "tty", tty));
                Directory.CreateSymbolicLink(Path.Combine(root, "class", "tty", tty, "device"), node);
            }
            var several = await WsctlProcess.RunAsync(["flash", "--ssid", "MyNet", "--pass", Secret],
                environment: new Dictionary<string, string> { ["WSCTL_SYSFS_ROOT"] = root });
            Assert.Equal(1, several.ExitCode);
            Assert.Contains("wsctl: --port: several ESP32 adapters found", several.Stderr);
            Assert.Contains("/dev/ttyUSB0  (CP210x, 10c4:ea60)", several.Stderr);
            Assert.Contains("/dev/ttyUSB1  (CH340, 1a86:7523)", several.Stderr);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Theory]
    [InlineData("/dev/ttyUSB97", "no such serial port")]
    [InlineData("/dev/null", "not a serial device")]
    [InlineData("/etc/hostname", "not a serial device")]
    [InlineData("/tmp", "is a directory, not a serial port")]
    public async Task Port_NotAUsableSerialPort_Exit10SaysWhat(string port, string what)
    {
        var result = await WsctlProcess.RunAsync(["flash", "-p", port, "--ssid", "MyNet", "--pass", Secret]);
        Assert.Equal(10, result.ExitCode);
        Assert.StartsWith($"wsctl: {port}: {what}", result.Stderr);
        Assert.DoesNotContain("busy", result.Stderr);
        Assert.Contains("hint:", result.Stderr);
    }

    [Fact]
    public async Task NvsOut_DirectoryMissing_Exit1WithHint()
    {
        var result = await WsctlProcess.RunAsync(["flash", "--ssid", "MyNet", "--pass", Secret, "--nvs-out",
            "/nonexistent/dir/nvs.bin"]);
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("--nvs-out: the directory /nonexistent/dir does not exist", result.Stderr);
        Assert.DoesNotContain("   at ", result.Stderr);
    }

    [Fact]
    public async Task Pass_NonAscii_SaysWhichCharacterWithoutShowingIt()
    {
        var result = await WsctlProcess.RunAsync(["flash", "--ssid", "MyNet", "--pass", "pässwörd123", "--dry-run"]);
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("character 2 of the password is not printable ASCII", result.Stderr);
        Assert.DoesNotContain("pässwörd123", result.All);
    }

    public static TheoryData<string, string> DamagedApps() => new()
    {
        { "random", "its first byte is 0x" },
        { "truncated", "segment 1 (4031 bytes) runs past the end of the file" },
        { "checksum", "its checksum byte is" },
        { "sha", "its appended SHA-256 does not match" },
        { "segments", "its header announces 0 segments" },
    };

    private static byte[] Damaged(string how)
    {
        var app = FirmwareFixture.BuildApp(4096);
        switch (how)
        {
            case "random":
                new Random(1).NextBytes(app);
                app[0] = 0x42;
                return app;
            case "truncated":
                return app[..2000];
            case "checksum":
                app[4096 - 33] ^= 0xFF;
                return app;
            case "sha":
                app[^1] ^= 0xFF;
                return app;
            default:
                app[1] = 0;
                return app;
        }
    }

    /// <summary>
    /// Writes <paramref name="app"/> to a file, flashes it (refused, nothing written, the refusal checked by
    /// <paramref name="assertRefused"/>), then flashes it with --force (exit 0).
    /// </summary>
    private static async Task RefusedThenForcedAsync(
        byte[] app, Action<RomSimulator, string, WsctlResult> assertRefused)
    {
        using var sim = new RomSimulator();
        var dir = Directory.CreateTempSubdirectory("wsctl-app-").FullName;
        try
        {
            var path = Path.Combine(dir, "app.bin");
            await File.WriteAllBytesAsync(path, app);
            var refused = await WsctlProcess.RunAsync(Device(sim, "--firmware", path));
            sim.WaitIdle(TimeSpan.FromSeconds(10));
            Assert.Equal(1, refused.ExitCode);
            Assert.DoesNotContain(sim.Ops, op => op is 0x02 or 0x03 or 0x10 or 0x11);
            assertRefused(sim, path, refused);
            var forced = await WsctlProcess.RunAsync(Device(sim, "--firmware", path, "--force"));
            Assert.True(forced.ExitCode == 0, forced.All);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Theory]
    [MemberData(nameof(DamagedApps))]
    public Task DamagedApp_Exit1NamesWhatIsWrong_NothingWritten_ForceWritesIt(string how, string what) =>
        RefusedThenForcedAsync(Damaged(how), (sim, path, refused) =>
        {
            Assert.True(
                refused.Stderr.Contains(
                    $"--firmware: {path} is not an ESP image for 0x10000: {what}", StringComparison.Ordinal),
                refused.Stderr);
            Assert.Contains("--force", refused.Stderr);
            Assert.Equal(0, sim.BytesReceived); // refused before the port was opened
        });

    [Fact]
    public Task AppBuiltForAnotherChip_Exit1BeforeAnyWrite_ForceWritesIt() =>
        RefusedThenForcedAsync(FirmwareFixture.BuildApp(4096, chipId: 5), (_, _, refused) =>
            Assert.Contains(
                "app at 0x10000 is built for ESP32-C3, but the device is ESP32: nothing was written", refused.Stderr));

    [Fact]
    public async Task Help_ShowsExamplesAndExitCodes()
    {
        var result = await WsctlProcess.RunAsync(["flash", "--help"]);
        Assert.Equal(0, result.ExitCode);
        Assert.Contains("--nvs-out", result.Stdout);
        Assert.Contains("visible in process listings", result.Stdout);
        Assert.Contains("11  verification failed", result.Stdout);
    }

    [Fact]
    public async Task Pty_ThroughSocat_ResetRefusedIsWarnedAndFlashWorks()
    {
        using var sim = new RomSimulator();
        await using var pty = await SocatPty.StartAsync(sim.Port);
        var result = await WsctlProcess.RunAsync(["flash", "--port", pty.Path, "--ssid", "MyNet", "--pass", Secret,
            "--after", "no-reset", "--baud", "460800"]);
        Assert.True(result.ExitCode == 0, result.All);
        Assert.Contains("NOT reset", result.Stderr);
        Assert.NotNull(sim.RequestedBaud); // CHANGE_BAUDRATE went out, and the host port took the new rate
        Assert.Equal(
            FirmwareFixture.ExpectedFlash([(0x9000u, new DeviceSettings("MyNet", Secret).BuildNvsImage(0x6000))]),
            sim.Flash);
    }
}
