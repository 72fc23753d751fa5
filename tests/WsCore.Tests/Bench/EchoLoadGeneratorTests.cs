using System.Globalization;
using System.Text.Json;
using WsCore.Tests.Support;

namespace WsCore.Tests.Bench;

/// <summary>
/// bench/loadgen/echo_load, the second load generator of the echo benchmarks, as bench/run.py runs it: against
/// <c>wsctl serve --echo</c> every message comes back and nothing is an error; against servers that answer wrongly
/// or not at all it says so. Behaviour, never speed.
/// </summary>
public sealed class EchoLoadGeneratorTests
{
    private static string Target(int port) => $"ws://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}/";

    private static long Number(JsonElement json, string name) => json.GetProperty(name).GetInt64();

    // `wsctl serve --echo` as bench/run.py runs it, with room for every connection of these tests.
    private static Task<(WsctlProcess Process, int Port)> StartEchoServeAsync() => WsctlProcess.StartServeAsync(
        "--echo", "--no-print", "--no-counter", "--no-page", "--max-clients", "100", "--ping-interval", "0");

    [Fact]
    public async Task Echo_ServeEcho64ConnectionsFor1Second_Exit0EveryMessageEchoedNoErrors()
    {
        var (serve, port) = await StartEchoServeAsync();
        using (serve)
        {
            var (exit, json, stderr) = await EchoLoadGenerator.RunAsync(
                Target(port), "--clients", "64", "--seconds", "1", "--size", "32");

            Assert.True(exit == 0, $"{json}\n{stderr}");
            Assert.True(json.GetProperty("ok").GetBoolean(), json.ToString());
            Assert.Equal(64, Number(json, "connected"));
            Assert.Equal(0, Number(json, "errors"));
            Assert.True(Number(json, "sent") > 0, json.ToString());
            Assert.Equal(Number(json, "sent"), Number(json, "received"));
            Assert.Equal(0, Number(json, "lost"));
            Assert.Equal(Number(json, "received"), json.GetProperty("latency_us").GetProperty("count").GetInt64());
            Assert.Equal(64, Number(json, "alive"));
            Assert.True(json.GetProperty("generator_saturated").ValueKind is JsonValueKind.True or JsonValueKind.False);
            Assert.InRange(json.GetProperty("generator_cpu_share").GetDouble(), 0, 1.5);
        }
    }

    [Fact]
    public async Task Echo_ServerChangesOneByteOfTheEcho_Exit1ErrorNamesTheByte()
    {
        await using var server = TestServer.Start(echo: false, configure: o =>
        {
            o.MaxClients = 10;
            o.PublishMessageEvents = false;
            o.MessageHandler = (s, client, type, payload) =>
            {
                var altered = payload.ToArray();
                altered[5] ^= 0x01;
                s.Send(client, type, altered);
            };
        });

        var (exit, json, _) = await EchoLoadGenerator.RunAsync(
            Target(server.Port), "--clients", "3", "--seconds", "0.3", "--size", "32");

        Assert.Equal(1, exit);
        Assert.False(json.GetProperty("ok").GetBoolean());
        Assert.Equal(3, Number(json, "errors"));
        Assert.Equal(0, Number(json, "received"));
        Assert.Contains(json.GetProperty("error_samples").EnumerateArray(),
            e => e.GetString()!.EndsWith("echo differs from what was sent at byte 5", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Echo_ServeWithoutEcho_Exit1EveryMessageLost()
    {
        var (serve, port) = await WsctlProcess.StartServeAsync("--no-print", "--no-counter", "--ping-interval", "0");
        using (serve)
        {
            var (exit, json, _) = await EchoLoadGenerator.RunAsync(
                Target(port), "--clients", "2", "--seconds", "0.2", "--size", "40");

            Assert.Equal(1, exit);
            Assert.Equal(2, Number(json, "sent"));
            Assert.Equal(0, Number(json, "received"));
            Assert.Equal(2, Number(json, "lost"));
            Assert.Equal(0, Number(json, "errors"));
        }
    }

    // --rate: an even schedule of R messages a second in all, so at most R × seconds + 1 are sent, however fast the
    // server answers (without the limit 8 connections to a local serve send thousands a second); every one comes
    // back as without it.
    [Fact]
    public async Task Echo_Rate200_SendsNoMoreThanTheScheduleAllowsEveryMessageEchoed()
    {
        var (serve, port) = await StartEchoServeAsync();
        using (serve)
        {
            var (exit, json, stderr) = await EchoLoadGenerator.RunAsync(
                Target(port), "--clients", "8", "--seconds", "1", "--size", "32", "--rate", "200");

            Assert.True(exit == 0, $"{json}\n{stderr}");
            Assert.Equal(200, json.GetProperty("rate").GetDouble());
            Assert.True(Number(json, "sent") > 0, json.ToString());
            Assert.True(Number(json, "sent") <= 200 * json.GetProperty("seconds").GetDouble() + 1, json.ToString());
            Assert.Equal(Number(json, "sent"), Number(json, "received"));
            Assert.Equal(0, Number(json, "errors"));
        }
    }

    [Theory]
    [InlineData("-1")]
    [InlineData("fast")]
    [InlineData("")]
    [InlineData("100x")]
    [InlineData("2e7")]
    public async Task Rate_NotANumberOrOutOfRange_Exit2SaysWhy(string rate)
    {
        var (exit, stdout, stderr) = await EchoLoadGenerator.RunRefusedAsync("ws://127.0.0.1:1/", "--rate", rate);

        Assert.Equal(2, exit);
        Assert.Empty(stdout);
        Assert.Contains("--rate must be 0 (no limit) to 10000000 messages a second", stderr);
    }
}
