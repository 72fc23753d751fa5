using System.Diagnostics;
using System.Text.Json;
using WsCore.Tests.Support;

namespace WsCore.Tests.Provision;

/// <summary>
/// Interop with ESP Web Tools' own Improv client, the npm improv-wifi-serial-sdk (pinned in tests/improv-sdk), run by
/// Node through tests/improv-sdk/provision.mjs, which stands in for the browser's Web Serial port with the host
/// build's pty: the SDK provisions the firmware host build, and wsctl provision provisions another, and both leave
/// the same NVS bytes.
/// </summary>
public sealed class ImprovSdkInteropTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(60);

    private static string ShimDirectory => Path.Combine(RepoPaths.Root, "tests", "improv-sdk");

    /// <summary>Runs the shim; returns its exit code and its one JSON object.</summary>
    private static async Task<(int ExitCode, JsonElement Result, string Stderr)> RunSdkAsync(string pty,
        string? ssid = null, string? password = null, bool scan = false)
    {
        Assert.True(Directory.Exists(Path.Combine(ShimDirectory, "node_modules", "improv-wifi-serial-sdk")),
            "the npm SDK is not installed: run (cd tests/improv-sdk && npm ci), as ./test.sh does");
        var info = new ProcessStartInfo("node")
        {
            WorkingDirectory = ShimDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in (string[])["provision.mjs", "--port", pty])
            info.ArgumentList.Add(a);
        if (ssid is not null)
        {
            info.ArgumentList.Add("--ssid");
            info.ArgumentList.Add(ssid);
        }
        if (scan)
            info.ArgumentList.Add("--scan");
        if (password is not null)
            info.Environment["IMPROV_PASS"] = password; // not on the command line
        using var node = Process.Start(info)!;
        var stdout = node.StandardOutput.ReadToEndAsync();
        var stderr = node.StandardError.ReadToEndAsync();
        using var limit = new CancellationTokenSource(Limit);
        try
        {
            await node.WaitForExitAsync(limit.Token);
        }
        finally
        {
            if (!node.HasExited)
                node.Kill(entireProcessTree: true);
        }
        var text = await stdout;
        Assert.False(string.IsNullOrWhiteSpace(text), "the shim printed nothing: " + await stderr);
        return (node.ExitCode, JsonDocument.Parse(text).RootElement.Clone(), await stderr);
    }

    [Fact]
    public async Task Sdk_Initialize_ReadsDeviceInfoAndState_AndScans()
    {
        using var host = await ImprovHost.StartAsync();
        var (exit, result, stderr) = await RunSdkAsync(host.Pty, scan: true);
        Assert.True(exit == 0, stderr + result);
        var info = result.GetProperty("info");
        Assert.Equal("esp32ws", info.GetProperty("firmware").GetString());
        Assert.Equal("1.0.0", info.GetProperty("version").GetString());
        Assert.Equal("host", info.GetProperty("chipFamily").GetString());
        Assert.Equal("esp32ws", info.GetProperty("name").GetString());
        Assert.Equal(2, result.GetProperty("state").GetInt32()); // authorized
        var network = Assert.Single(result.GetProperty("networks").EnumerateArray());
        Assert.Equal(ImprovHost.Ssid, network.GetProperty("name").GetString());
        Assert.Equal(-52, network.GetProperty("rssi").GetInt32());
        Assert.True(network.GetProperty("secured").GetBoolean());
    }

    [Fact]
    public async Task SdkAndWsctl_ProvisionTheSameSettings_SameNvsBytes_SameUrlShape()
    {
        using var bySdk = await ImprovHost.StartAsync();
        using var byWsctl = await ImprovHost.StartAsync();

        var (exit, result, stderr) = await RunSdkAsync(bySdk.Pty, ImprovHost.Ssid, ImprovHost.Password);
        Assert.True(exit == 0, stderr + result);
        Assert.Equal(4, result.GetProperty("state").GetInt32()); // provisioned
        Assert.Equal($"ws://127.0.0.1:{bySdk.Port}/", result.GetProperty("url").GetString());

        var run = await WsctlProcess.RunAsync(["provision", "-p", byWsctl.Pty, "--ssid", ImprovHost.Ssid],
            environment: new Dictionary<string, string> { ["WSCTL_WIFI_PASS"] = ImprovHost.Password },
            timeout: Limit);
        Assert.True(run.ExitCode == 0, run.Stderr);

        Assert.NotEmpty(bySdk.NvsBytes());
        Assert.Equal(bySdk.NvsBytes(), byWsctl.NvsBytes());
    }

    [Fact]
    public async Task Sdk_WrongPassword_UnableToConnect_NvsUnchanged()
    {
        using var host = await ImprovHost.StartAsync();
        // Provisioned first by wsctl; the SDK then sees a provisioned device with its URL.
        var first = await WsctlProcess.RunAsync(["provision", "-p", host.Pty, "--ssid", ImprovHost.Ssid],
            environment: new Dictionary<string, string> { ["WSCTL_WIFI_PASS"] = ImprovHost.Password },
            timeout: Limit);
        Assert.True(first.ExitCode == 0, first.Stderr);
        var before = host.NvsBytes();
        var (seen, state, _) = await RunSdkAsync(host.Pty);
        Assert.Equal(0, seen);
        Assert.Equal(4, state.GetProperty("state").GetInt32());
        Assert.Equal($"ws://127.0.0.1:{host.Port}/", state.GetProperty("url").GetString());

        var (exit, result, _) = await RunSdkAsync(host.Pty, ImprovHost.Ssid, "not the password");
        Assert.Equal(1, exit);
        Assert.Equal("UNABLE_TO_CONNECT", result.GetProperty("error").GetString());
        Assert.Equal(before, host.NvsBytes());
    }
}
