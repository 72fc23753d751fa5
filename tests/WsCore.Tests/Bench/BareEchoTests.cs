using System.Text.Json;
using WsCore.Tests.Support;

namespace WsCore.Tests.Bench;

/// <summary>
/// bench/loadgen/bare_echo, the floor bench/run.py measures beside the echo servers: both load generators, as the
/// bench runs them, get every message back from it byte for byte (a floor that lost or mangled messages would make
/// its figure meaningless), at the 7-bit and the 16-bit payload lengths, and it refuses what it cannot do. Behaviour,
/// never speed.
/// </summary>
public sealed class BareEchoTests
{
    private static long Number(JsonElement json, string name) => json.GetProperty(name).GetInt64();

    [Theory]
    [InlineData(64, 32)]
    [InlineData(5, 16000)]
    public async Task EchoLoad_EveryMessageComesBackEqual(int clients, int size)
    {
        using var floor = await BareEcho.StartAsync();

        var (exit, json, stderr) = await EchoLoadGenerator.RunAsync(
            floor.Url, "--clients", $"{clients}", "--seconds", "1", "--size", $"{size}");

        Assert.True(exit == 0, $"{json}\n{stderr}");
        Assert.Equal(clients, Number(json, "connected"));
        Assert.True(Number(json, "sent") > 0, json.ToString());
        Assert.Equal(Number(json, "sent"), Number(json, "received"));
        Assert.Equal(0, Number(json, "errors"));
        Assert.Equal(clients, Number(json, "alive"));
        Assert.False(floor.HasExited);
    }

    [Fact]
    public async Task WsctlBench_EchoMode_EveryMessageComesBackNoErrors()
    {
        using var floor = await BareEcho.StartAsync();

        var result = await WsctlProcess.RunAsync(
            ["bench", floor.Url, "--mode", "echo", "--clients", "16", "--size", "32", "--duration", "1s", "--json",
             "-q"]);

        Assert.True(result.ExitCode == 0, result.Stdout + result.Stderr);
        var json = JsonDocument.Parse(result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1]).RootElement;
        Assert.Equal(16, Number(json, "connected"));
        Assert.True(Number(json, "received") > 0, json.ToString());
        Assert.Equal(Number(json, "sent"), Number(json, "received"));
        Assert.Equal(0, Number(json, "errors"));
    }

    [Theory]
    [InlineData(new string[0], "--port is required")]
    [InlineData(new[] { "--port" }, "every option takes a value")]
    [InlineData(new[] { "--port", "http" }, "--port must be 0 to 65535")]
    [InlineData(new[] { "--port", "70000" }, "--port must be 0 to 65535")]
    [InlineData(new[] { "--port", "0", "--mode", "relay" }, "only --mode echo")]
    [InlineData(new[] { "--port", "0", "--rate", "5" }, "unknown option")]
    public async Task Usage_Refused_Exit2SaysWhy(string[] args, string why)
    {
        var (exit, stdout, stderr) = await BenchCPrograms.RunAsync(
            await BenchCPrograms.BuildAsync("bare_echo"), args, TimeSpan.FromSeconds(30));

        Assert.Equal(2, exit);
        Assert.Empty(stdout);
        Assert.Contains(why, stderr);
    }
}
