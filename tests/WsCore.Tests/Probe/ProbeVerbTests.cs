using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using WsCore.Tests.Support;
using WsCore.WebSockets.Client;

namespace WsCore.Tests.Probe;

/// <summary>
/// <c>wsctl probe</c> as a user runs it, on loopback: against the firmware's own host build, <c>wsctl serve</c>,
/// Kestrel (not ours), a full server and a closed port. Each exit code comes from a real situation.
/// </summary>
public sealed class ProbeVerbTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    private static async Task<(int Exit, JsonElement Json, string Stderr)> ProbeJsonAsync(params string[] args)
    {
        using var process = WsctlProcess.Start(["probe", .. args, "--json"]);
        process.StandardInput.Close();
        var exit = await process.WaitForExitAsync(Timeout);
        var lines = process.StdoutLines;
        Assert.True(
            lines.Count == 1,
            $"probe --json must print one line (one object); stdout:\n{process.Stdout}\nstderr:\n{process.Stderr}");
        return (exit, JsonDocument.Parse(lines[0]).RootElement.Clone(), process.Stderr);
    }

    private static string[] StageNames(JsonElement json) =>
        [.. json.GetProperty("stages").EnumerateArray().Select(s => s.GetProperty("stage").GetString()!)];

    [Theory]
    [InlineData(true, "permessage-deflate")]
    [InlineData(false, null)]
    public async Task Probe_CompressAgainstServeCompress_SaysWhatWasNegotiated(bool serveCompresses, string? expected)
    {
        var (serve, port) = serveCompresses
            ? await WsctlProcess.StartServeAsync("--counter-interval", "200ms", "--compress")
            : await WsctlProcess.StartServeAsync("--counter-interval", "200ms");
        using (serve)
        {
            var (exit, json, stderr) = await ProbeJsonAsync(
                "127.0.0.1", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--compress");
            Assert.True(exit == 0, stderr + json);
            var handshake = json.GetProperty("handshake");
            Assert.Equal(expected, handshake.GetProperty("compression").GetString());
            // The counter arrived, compressed or not, and was read.
            Assert.Contains("counter", json.GetProperty("first_message").GetProperty("data").GetString());
        }
    }

    [Fact]
    public async Task Probe_FirmwareHostBuild_HealthyWithEveryStageAndItsCounterMessage()
    {
        using var firmware = await FirmwareHost.StartAsync("--counter-interval-ms", "300");

        var (exit, json, stderr) = await ProbeJsonAsync(
            "127.0.0.1", "--port", firmware.Port.ToString(System.Globalization.CultureInfo.InvariantCulture));

        Assert.True(exit == 0, stderr + json);
        Assert.Equal("healthy", json.GetProperty("verdict").GetString());
        Assert.Equal(["resolve", "connect", "handshake", "ping", "message", "close"], StageNames(json));
        Assert.All(json.GetProperty("stages").EnumerateArray(), s => Assert.True(s.GetProperty("ok").GetBoolean()));
        Assert.Equal("127.0.0.1", json.GetProperty("address").GetString());
        Assert.Equal(101, json.GetProperty("handshake").GetProperty("status").GetInt32());
        Assert.True(json.GetProperty("handshake").GetProperty("accept_key_verified").GetBoolean());
        var rtt = json.GetProperty("rtt");
        Assert.Equal(3, rtt.GetProperty("count").GetInt32());
        Assert.True(rtt.GetProperty("min_ms").GetDouble() <= rtt.GetProperty("avg_ms").GetDouble());
        Assert.True(rtt.GetProperty("avg_ms").GetDouble() <= rtt.GetProperty("max_ms").GetDouble());
        using var counter = JsonDocument.Parse(json.GetProperty("first_message").GetProperty("data").GetString()!);
        Assert.Equal("counter", counter.RootElement.GetProperty("data").GetProperty("sensor").GetString());
        Assert.Equal(1000, json.GetProperty("close_code").GetInt32());
    }

    [Fact]
    public async Task Probe_ServeAsWsUrl_TextOutputHasOneLinePerStageThenVerdict()
    {
        var (serve, port) = await WsctlProcess.StartServeAsync("--counter-interval", "200ms");
        using (serve)
        {
            using var probe = WsctlProcess.Start("probe", $"ws://localhost:{port}/", "--count", "2");
            probe.StandardInput.Close();
            var exit = await probe.WaitForExitAsync(Timeout);

            Assert.True(exit == 0, probe.Stdout + probe.Stderr);
            var lines = probe.StdoutLines;
            Assert.Equal(
                ["resolve", "connect", "handshake", "ping", "message", "close"],
                lines.Take(6).Select(l => l.Split(' ')[0]));
            Assert.All(lines.Take(6), l => Assert.Matches(@"^\w+\s+ok\s+[\d.]+ ms  ", l));
            Assert.Contains("2 round trips", lines[3]);
            Assert.Contains("\"counter\"", lines[4]);
            Assert.Contains("1000", lines[5]);
            // serve has no OTA: a line saying so, which fails nothing.
            Assert.Matches(@"^ota\s+no\s+[\d.]+ ms  no OTA info: ", lines[6]);
            Assert.StartsWith("verdict: healthy", lines[7]);
        }
    }

    [Fact]
    public async Task Probe_FullServe_VerdictBusyExit5With503()
    {
        var (serve, port) = await WsctlProcess.StartServeAsync("--max-clients", "1", "--no-counter");
        using (serve)
        {
            await using var occupant = await WebSocketClient.ConnectAsync(new Uri($"ws://127.0.0.1:{port}/"));

            var (exit, json, stderr) = await ProbeJsonAsync(
                "127.0.0.1", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture));

            Assert.True(exit == 5, stderr + json);
            Assert.Equal("busy", json.GetProperty("verdict").GetString());
            Assert.Equal(503, json.GetProperty("handshake").GetProperty("status").GetInt32());
            Assert.Equal(["resolve", "connect", "handshake"], StageNames(json));
        }
    }

    [Fact]
    public async Task Probe_ClosedPort_ConnectStageFailsExit4()
    {
        // A port that was just free: bound, then released, so nothing listens there.
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();

        var (exit, json, stderr) = await ProbeJsonAsync(
            "127.0.0.1", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture));

        Assert.True(exit == 4, stderr + json);
        Assert.Equal("failed", json.GetProperty("verdict").GetString());
        var connect = json.GetProperty("stages")[1];
        Assert.Equal("connect", connect.GetProperty("stage").GetString());
        Assert.False(connect.GetProperty("ok").GetBoolean());
        Assert.Equal(4, connect.GetProperty("exit_code").GetInt32());
    }

    [Fact]
    public async Task Probe_ServerThatPushesNothing_HealthyUnlessExpectMessage_ThenTheStageTimesOutExit6()
    {
        var (serve, port) = await WsctlProcess.StartServeAsync("--no-counter");
        using (serve)
        {
            var portText = port.ToString(System.Globalization.CultureInfo.InvariantCulture);
            // Most servers speak only when spoken to: that is healthy.
            var (exit, json, stderr) = await ProbeJsonAsync("127.0.0.1", "--port", portText, "--wait-message",
                "500ms");
            Assert.True(exit == 0, stderr + json);
            Assert.Equal("healthy", json.GetProperty("verdict").GetString());
            var message = json.GetProperty("stages").EnumerateArray().Single(
                s => s.GetProperty("stage").GetString() == "message");
            Assert.Contains("not required", message.GetProperty("detail").GetString(), StringComparison.Ordinal);

            (exit, json, stderr) = await ProbeJsonAsync("127.0.0.1", "--port", portText, "--wait-message", "500ms",
                "--expect-message");
            Assert.True(exit == 6, stderr + json);
            var last = json.GetProperty("stages").EnumerateArray().Last();
            Assert.Equal("message", last.GetProperty("stage").GetString());
            Assert.Equal("timeout", last.GetProperty("failure").GetString());
        }
    }

    [Fact]
    public async Task Probe_KestrelWithMessageAndPingsSkipped_HealthyWithoutThoseStages()
    {
        await using var kestrel = await KestrelEndpoint.StartAsync();

        var (exit, json, stderr) = await ProbeJsonAsync(kestrel.Url, "--count", "0", "--wait-message", "0");

        Assert.True(exit == 0, stderr + json);
        Assert.Equal(["resolve", "connect", "handshake", "close"], StageNames(json));
        Assert.Equal("literal", json.GetProperty("resolve").GetProperty("method").GetString());
        Assert.False(json.TryGetProperty("rtt", out _));
    }

    [Fact]
    public async Task Probe_NeitherHostNorDiscover_UsageErrorExit1()
    {
        using var probe = WsctlProcess.Start("probe");
        probe.StandardInput.Close();
        Assert.Equal(1, await probe.WaitForExitAsync(Timeout));
        Assert.Contains("HOST is missing", probe.Stderr);
    }
}
