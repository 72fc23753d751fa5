using System.Text.RegularExpressions;
using WsCore.Tests.Probe;
using WsCore.Tests.Support;

namespace WsCore.Tests.Ota;

/// <summary>
/// The real <c>wsctl ota</c> process against the firmware's host build (<see cref="OtaHostDevice"/>: the device's
/// own protocol engine, otadata rules and rollback, restarted like a chip): every outcome of docs/ota-protocol.md
/// "What wsctl ota reports", and what boots afterwards, read from the program's own boot line.
/// </summary>
public sealed class OtaHostTests : IDisposable
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(120);
    private readonly string _dir = Directory.CreateTempSubdirectory("wsctl-ota-host-test-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string KeyFile(string name = "ota.key")
    {
        var path = Path.Combine(_dir, name);
        if (!File.Exists(path))
        {
            File.WriteAllText(path, Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator
                .GetBytes(32)) + "\n");
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
        return path;
    }

    private string App(string version, int size = 64 * 1024)
    {
        var path = Path.Combine(_dir, $"esp32ws-{version}.bin");
        File.WriteAllBytes(path, OtaTestImage.Build("esp32ws", version, size));
        return path;
    }

    private static byte[] V1 => OtaTestImage.Build("esp32ws", "1.2.0", 32 * 1024);

    private Task<OtaHostDevice> DeviceAsync(string? key = "ota.key", string confirm = "60s", bool restarts = true,
        params string[] extra) =>
        OtaHostDevice.StartAsync(V1, key is null ? null : KeyFile(key), confirm, restarts, extra);

    private Task<WsctlResult> OtaAsync(params string[] args) =>
        WsctlProcess.RunAsync(["ota", .. args, "--confirm-timeout", "60s"], timeout: Limit);

    /// <summary>
    /// A power cut, then the boot line: what the device boots from its files alone is still 1.2.0 from ota_0, valid.
    /// </summary>
    private static async Task BootsUnchangedAsync(OtaHostDevice device)
    {
        await device.PowerCycleAsync();
        Assert.True(device.Running == ("1.2.0", "ota_0", "valid"), device.Log);
    }

    [FirmwareHostFact]
    public async Task Ota_OneHostDevice_Updated_Confirmed_AndProbeShowsTheNewApp()
    {
        await using var device = await DeviceAsync();

        var run = await OtaAsync(device.Target, "--firmware", App("1.3.0"), "--ota-key", KeyFile());

        Assert.True(run.ExitCode == 0, run.All + device.Log);
        Assert.Matches($@"(?m)^{Regex.Escape(device.Target)}\s+updated\s+1\.3\.0\s", run.Stdout);
        Assert.DoesNotContain(File.ReadAllText(KeyFile()).Trim(), run.All, StringComparison.OrdinalIgnoreCase);
        // One restart into the new slot, where the confirmation found it pending and made it valid.
        Assert.Equal([OtaHostDevice.Restart], device.Exits);
        Assert.True(device.Running == ("1.3.0", "ota_1", "pending_verify"), device.Log);
        var probe = await WsctlProcess.RunAsync(["probe", device.Target, "--wait-message", "0"], timeout: Limit);
        Assert.True(probe.ExitCode == 0, probe.All);
        Assert.Matches(@"(?m)^ota       yes .* ms  app esp32ws 1\.3\.0 \(elf [0-9a-f]{8}\) in ota_1, valid",
            probe.Stdout);
        // Confirmed means it survives a reset: a power cut boots 1.3.0 again, valid, with the outcome remembered.
        await device.PowerCycleAsync();
        Assert.True(device.Running == ("1.3.0", "ota_1", "valid"), device.Log);
        Assert.Contains("\"result\":\"confirmed\"", device.Log, StringComparison.Ordinal);
    }

    [FirmwareHostFact]
    public async Task Ota_FleetOfFive_TwoCanariesThenTheRest_AllUpdated()
    {
        var devices = new List<OtaHostDevice>();
        try
        {
            for (var i = 0; i < 5; i++)
                devices.Add(await DeviceAsync());

            var run = await OtaAsync([.. devices.SelectMany(d => (string[])["--to", d.Target]), "--canary", "2",
                "--parallel", "3", "--firmware", App("1.3.0"), "--ota-key", KeyFile()]);

            Assert.True(run.ExitCode == 0, run.All);
            foreach (var d in devices)
            {
                Assert.Matches($@"(?m)^{Regex.Escape(d.Target)}\s+updated\s+1\.3\.0\s", run.Stdout);
                Assert.True(d.Running == ("1.3.0", "ota_1", "pending_verify") && d.Exits.Count == 1, d.Log);
            }
        }
        finally
        {
            foreach (var d in devices)
                await d.DisposeAsync();
        }
    }

    [FirmwareHostFact]
    public async Task Ota_FleetOfFive_CanaryFails_TheFleetStops_Exit9_NothingElseTouched()
    {
        var devices = new List<OtaHostDevice>();
        try
        {
            // The canary was provisioned with another key: its update fails, so no other device is contacted.
            devices.Add(await DeviceAsync("canary.key"));
            for (var i = 1; i < 5; i++)
                devices.Add(await DeviceAsync());

            var run = await OtaAsync([.. devices.SelectMany(d => (string[])["--to", d.Target]), "--canary", "1",
                "--firmware", App("1.3.0"), "--ota-key", KeyFile()]);

            Assert.True(run.ExitCode == 9, run.All);
            Assert.Matches($@"(?m)^{Regex.Escape(devices[0].Target)}\s+wrong key", run.Stdout);
            foreach (var d in devices.Skip(1))
                Assert.Matches($@"(?m)^{Regex.Escape(d.Target)}\s+.*canary {Regex.Escape(devices[0].Target)} failed",
                    run.Stdout);
            Assert.Contains("5 of 5 device(s) not updated (4 not tried: a canary failed)", run.Stderr,
                StringComparison.Ordinal);
            foreach (var d in devices)
            {
                Assert.True(d.Runs == 1 && d.Exits.Count == 0, d.Log);
                await BootsUnchangedAsync(d);
            }
        }
        finally
        {
            foreach (var d in devices)
                await d.DisposeAsync();
        }
    }

    [FirmwareHostFact]
    public async Task Ota_ConnectionCutMidUpload_WsctlSaysSo_AndWhatBootsIsUnchanged()
    {
        await using var device = await DeviceAsync();
        const int imageSize = 512 * 1024;
        using var proxy = new CuttingProxy(device.Port, cutAfter: 200 * 1024);

        var run = await OtaAsync($"127.0.0.1:{proxy.Port}", "--firmware", App("1.3.0", imageSize), "--ota-key",
            KeyFile());

        Assert.True(run.ExitCode == 7, run.All + device.Log);
        var forwarded = await proxy.Cut.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(forwarded == 200 * 1024, $"{forwarded} bytes forwarded\n{run.All}");
        Assert.DoesNotContain("updated", run.Stdout, StringComparison.Ordinal);
        // The device never restarted, still runs 1.2.0 and takes the next update; a power cut boots 1.2.0 too.
        Assert.True(device.Runs == 1 && device.Exits.Count == 0, device.Log);
        await BootsUnchangedAsync(device);
        var again = await OtaAsync(device.Target, "--firmware", App("1.3.0", imageSize), "--ota-key", KeyFile());
        Assert.True(again.ExitCode == 0, again.All + device.Log);
    }

    [FirmwareHostFact]
    public async Task Ota_FullServer_503_Exit5_NothingChanges()
    {
        await using var device = await DeviceAsync(extra: ["--max-clients", "2"]);
        using var first = await RawWebSocket.ConnectAsync(device.Port);
        using var second = await RawWebSocket.ConnectAsync(device.Port);
        Assert.Equal((101, 101), (first.Status, second.Status));

        var run = await OtaAsync(device.Target, "--firmware", App("1.3.0"), "--ota-key", KeyFile());

        Assert.True(run.ExitCode == 5, run.All + device.Log);
        Assert.Contains("503", run.All, StringComparison.Ordinal);
        Assert.True(device.Runs == 1 && device.Exits.Count == 0, device.Log);
        await BootsUnchangedAsync(device);
    }

    [FirmwareHostFact]
    public async Task Ota_NoKeyProvisioned_403_Exit5_NothingWritten()
    {
        await using var device = await DeviceAsync(key: null);

        var run = await OtaAsync(device.Target, "--firmware", App("1.3.0"), "--ota-key", KeyFile());

        Assert.True(run.ExitCode == 5, run.All + device.Log);
        Assert.Contains("403", run.All, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(device.Directory, "ota_1.bin")), "the update slot was written");
        Assert.True(device.Runs == 1 && device.Exits.Count == 0, device.Log);
        await BootsUnchangedAsync(device);
    }

    [FirmwareHostFact]
    public async Task Ota_ForgedKey_Exit8_NothingWritten()
    {
        await using var device = await DeviceAsync();

        var run = await OtaAsync(device.Target, "--firmware", App("1.3.0"), "--ota-key", KeyFile("forged.key"));

        Assert.True(run.ExitCode == 8, run.All + device.Log);
        Assert.Contains("hint: use the key file that was flashed to this device (--ota-key FILE)", run.Stderr,
            StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(device.Directory, "ota_1.bin")), "the update slot was written");
        Assert.True(device.Runs == 1 && device.Exits.Count == 0, device.Log);
        await BootsUnchangedAsync(device);
    }

    [FirmwareHostFact]
    public async Task Ota_NewAppPanicsAtStart_RolledBack_Exit11_WithTheReason()
    {
        await using var device = await DeviceAsync();

        var run = await OtaAsync(device.Target, "--firmware", App("1.3.0+panic-at-start"), "--ota-key", KeyFile());

        Assert.True(run.ExitCode == 11, run.All + device.Log);
        Assert.Contains("rolled back to 1.2.0 (panic)", run.Stdout, StringComparison.Ordinal);
        Assert.Contains("the new app panicked before it was confirmed", run.Stderr, StringComparison.Ordinal);
        // The restart into the update, its panic, then the bootloader's rollback to ota_0.
        Assert.Equal([OtaHostDevice.Restart, OtaHostDevice.Panic], device.Exits);
        Assert.True(device.Running == ("1.2.0", "ota_0", "valid"), device.Log);
        Assert.Contains("\"result\":\"rolled_back\"", device.Log, StringComparison.Ordinal);
        await BootsUnchangedAsync(device);
    }

    [FirmwareHostFact]
    public async Task Ota_NoConfirm_TheDeviceRollsBackAtItsOwnDeadline_AndProbeSaysWhy()
    {
        await using var device = await DeviceAsync(confirm: "2s");

        var run = await OtaAsync(device.Target, "--firmware", App("1.3.0"), "--ota-key", KeyFile(), "--no-confirm");

        Assert.True(run.ExitCode == 0, run.All + device.Log);
        Assert.Contains("runs 1.3.0, not confirmed, as asked", run.Stdout, StringComparison.Ordinal);
        // Nobody confirms: at its deadline the new app marks itself invalid and restarts into 1.2.0.
        await device.WaitForRunAsync(3, TimeSpan.FromSeconds(30));
        Assert.Equal([OtaHostDevice.Restart, OtaHostDevice.Restart], device.Exits);
        Assert.True(device.Running == ("1.2.0", "ota_0", "valid"), device.Log);
        var probe = await WsctlProcess.RunAsync(["probe", device.Target, "--wait-message", "0", "--json"],
            timeout: Limit);
        Assert.True(probe.ExitCode == 0, probe.All);
        Assert.Contains("\"result\":\"rolled_back\"", probe.Stdout, StringComparison.Ordinal);
        Assert.Contains("\"reason\":\"not_confirmed\"", probe.Stdout, StringComparison.Ordinal);
    }

    [FirmwareHostFact]
    public async Task Ota_DeviceNeverComesBack_NotConfirmed_Exit6()
    {
        // Its power lost at the restart: nothing ever answers again, so wsctl cannot say it was updated.
        await using var device = await DeviceAsync(restarts: false);

        var run = await WsctlProcess.RunAsync(["ota", device.Target, "--firmware", App("1.3.0"), "--ota-key",
            KeyFile(), "--confirm-timeout", "3s"], timeout: Limit);

        Assert.True(run.ExitCode == 6, run.All + device.Log);
        Assert.Contains("did not come back within 3 s", run.All, StringComparison.Ordinal);
        Assert.Equal([OtaHostDevice.Restart], device.Exits);
    }
}
