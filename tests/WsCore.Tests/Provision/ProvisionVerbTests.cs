using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using WsCore.Tests.Support;

namespace WsCore.Tests.Provision;

/// <summary>
/// <c>wsctl provision</c> end to end: the real wsctl over a real pty to the firmware host build's Improv service (its
/// simulated Wi-Fi and NVS stand-in), each exit code and what the device stored.
/// </summary>
public sealed class ProvisionVerbTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(90);

    private static Task<WsctlResult> RunAsync(string[] args, string? password = null, string? stdin = null) =>
        WsctlProcess.RunAsync(["provision", .. args], stdin,
            password is null ? null : new Dictionary<string, string> { ["WSCTL_WIFI_PASS"] = password }, Limit);

    [Fact]
    public async Task Provision_RightPassword_JoinsStoresInNvsAndPrintsTheUrl()
    {
        using var host = await ImprovHost.StartAsync();
        var run = await RunAsync(["-p", host.Pty, "--ssid", ImprovHost.Ssid], ImprovHost.Password);

        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.Contains($"Joined '{ImprovHost.Ssid}': ws://127.0.0.1:{host.Port}/", run.Stdout);
        Assert.Equal(ImprovHost.NvsText(ImprovHost.Ssid, ImprovHost.Password),
            System.Text.Encoding.UTF8.GetString(host.NvsBytes()));
        Assert.DoesNotContain(ImprovHost.Password, run.Stdout + run.Stderr);
    }

    [Fact]
    public async Task Provision_PasswordFromStdin_AndAfterAReboot_TheDeviceSaysProvisionedWithItsUrl()
    {
        using var host = await ImprovHost.StartAsync();
        var run = await RunAsync(["-p", host.Pty, "--ssid", ImprovHost.Ssid, "--pass", "-"],
            stdin: ImprovHost.Password + "\n");
        Assert.True(run.ExitCode == 0, run.Stderr);

        // The settings survive a restart (the host build reads its NVS file as the device reads NVS at boot).
        await host.RestartAsync();
        var again = await RunAsync(["-p", host.Pty, "--scan", "--json"]);
        Assert.True(again.ExitCode == 0, again.Stderr);
        var result = JsonDocument.Parse(again.Stdout).RootElement;
        Assert.Equal("provisioned", result.GetProperty("state_before").GetString());
        Assert.Equal($"ws://127.0.0.1:{host.Port}/", result.GetProperty("url").GetString());
    }

    [Fact]
    public async Task Provision_WrongPassword_Exit4_PreviousSettingsKept()
    {
        using var host = await ImprovHost.StartAsync();
        Assert.Equal(0, (await RunAsync(["-p", host.Pty, "--ssid", ImprovHost.Ssid], ImprovHost.Password)).ExitCode);
        var before = host.NvsBytes();

        var clock = Stopwatch.StartNew();
        var run = await RunAsync(["-p", host.Pty, "--ssid", ImprovHost.Ssid], "wrong password");

        Assert.Equal(4, run.ExitCode);
        Assert.Contains("could not join 'wsctl-lab' (Improv: unable to connect)", run.Stderr);
        Assert.Contains("keeps its previous settings", run.Stderr);
        Assert.Equal(before, host.NvsBytes());
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"took {clock.Elapsed}");
        Assert.DoesNotContain("wrong password", run.Stdout + run.Stderr);
    }

    [Fact]
    public async Task Provision_NetworkNeverAnswers_UnableToConnectAtTheDevicesBound()
    {
        // Joining takes 20 s in this simulation; the device gives up after 1 s and says so.
        using var host = await ImprovHost.StartAsync("--sim-connect-ms", "20000", "--improv-timeout-ms", "1000");
        var clock = Stopwatch.StartNew();
        var run = await RunAsync(["-p", host.Pty, "--ssid", ImprovHost.Ssid], ImprovHost.Password);
        Assert.Equal(4, run.ExitCode);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(15), $"took {clock.Elapsed}");
        Assert.Empty(host.NvsBytes());
    }

    [Fact]
    public async Task Scan_ListsTheNetworksTheDeviceSees()
    {
        using var host = await ImprovHost.StartAsync();
        var run = await RunAsync(["-p", host.Pty, "--scan"]);
        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.Contains("Improv on " + host.Pty + ": esp32ws 1.0.0, chip host, device esp32ws (authorized)",
            run.Stdout);
        Assert.Contains("-52 dBm  secured  wsctl-lab", run.Stdout);
    }

    [Fact]
    public async Task Probe_AfterJoining_ProbesTheUrlTheDeviceGave()
    {
        using var host = await ImprovHost.StartAsync();
        var run = await RunAsync(["-p", host.Pty, "--ssid", ImprovHost.Ssid, "--probe", "--json"],
            ImprovHost.Password);
        Assert.True(run.ExitCode == 0, run.Stderr);
        var probe = JsonDocument.Parse(run.Stdout).RootElement.GetProperty("probe");
        Assert.Equal("healthy", probe.GetProperty("verdict").GetString());
        Assert.Equal($"ws://127.0.0.1:{host.Port}/", probe.GetProperty("url").GetString());
    }

    [Fact]
    public async Task NoImprovAnswer_Exit10_WithTheFirmwareHint()
    {
        // A TCP serial server that takes the bytes and never answers: a firmware without Improv.
        using var silent = new TcpListener(IPAddress.Loopback, 0);
        silent.Start();
        var port = ((IPEndPoint)silent.LocalEndpoint).Port;
        var accept = silent.AcceptTcpClientAsync();
        var run = await RunAsync(["-p", $"socket://127.0.0.1:{port}", "--scan", "--timeout", "2s"]);
        (await accept).Dispose();

        Assert.Equal(10, run.ExitCode);
        Assert.Contains("no Improv Wi-Fi answer", run.Stderr);
        Assert.Contains("the firmware must support Improv Wi-Fi serial", run.Stderr);
    }

    [Theory]
    [InlineData(new[] { "--scan", "--pass", "x" }, "--pass needs --ssid")]
    [InlineData(new string[0], "nothing to do")]
    [InlineData(new[] { "--ssid", "lab", "--pass", "short" }, "--pass: the password must be empty")]
    [InlineData(new[] { "--scan", "--probe" }, "--probe probes the URL")]
    public async Task BadArguments_Exit1_BeforeThePortIsOpened(string[] args, string message)
    {
        // The port does not exist: a usage error must come first.
        var run = await RunAsync(["-p", "/nonexistent/tty", .. args]);
        Assert.Equal(1, run.ExitCode);
        Assert.Contains(message, run.Stderr);
    }
}
