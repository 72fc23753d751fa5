using System.Text;
using System.Text.Json;
using WsCore.Tests.Support;
using WsCore.WebSockets.Client;
using WsCore.WebSockets.Protocol;
using Wsctl.Cli;

namespace WsCore.Tests.WebSockets;

/// <summary>
/// Every client verb against a peer that behaves as ESP-IDF's httpd_ws does on the wire
/// (<see cref="HttpdWsModelPeer"/>): the Close without a status code that answers ours is a clean end (exit 0, not
/// 7), one it sends first is reported as "closed without a status code (1005)", a 65,535-byte message in the 64-bit
/// length field is taken, and a message echoed fragment by fragment is reassembled.
/// </summary>
public sealed class HttpdWsInteropTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Send_EmptyCloseAnswer_IsACleanEnd_Exit0()
    {
        using var device = HttpdWsModelPeer.Start();
        var result = await WsctlProcess.RunAsync(["send", device.Url, "hello", "--wait", "1", "--json"],
            timeout: Limit);
        Assert.True(result.ExitCode == 0, result.All);
        var lines = result.Stdout.Trim().Split('\n');
        Assert.Contains("\"data\":\"hello\"", lines[0], StringComparison.Ordinal);
        var outcome = JsonDocument.Parse(lines[^1]).RootElement;
        Assert.True(outcome.GetProperty("ok").GetBoolean());
        Assert.Equal(CloseStatus.NoStatusReceived, outcome.GetProperty("close_code").GetInt32());
    }

    [Fact]
    public async Task Probe_EmptyCloseAnswer_Healthy()
    {
        using var device = HttpdWsModelPeer.Start();
        var result = await WsctlProcess.RunAsync(["probe", device.Url, "--wait-message", "200ms"], timeout: Limit);
        Assert.True(result.ExitCode == 0, result.All);
        Assert.Contains("verdict: healthy", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("closed without a status code (1005)", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BroadcastTo_EmptyCloseAnswer_Ok()
    {
        using var device = HttpdWsModelPeer.Start();
        var result = await WsctlProcess.RunAsync(["broadcast", "--to", device.Url, "hi"], timeout: Limit);
        Assert.True(result.ExitCode == 0, result.All);
    }

    [Fact]
    public async Task Bench_Ping_AgainstHttpdWs_Exit0()
    {
        using var device = HttpdWsModelPeer.Start();
        var result = await WsctlProcess.RunAsync(
            ["bench", device.Url, "--clients", "2", "--duration", "1s", "--json"], timeout: Limit);
        Assert.True(result.ExitCode == 0, result.All);
    }

    [Fact]
    public async Task Send_DeviceClosesFirstWithoutStatus_ListenEndsCleanly_AndSaysSo()
    {
        using var device = HttpdWsModelPeer.Start(closeAfterFirstMessage: true);
        var listen = await WsctlProcess.RunAsync(["send", device.Url, "bye", "--listen", "--json"], timeout: Limit);
        Assert.True(listen.ExitCode == 0, listen.All);
        var outcome = JsonDocument.Parse(listen.Stdout.Trim().Split('\n')[^1]).RootElement;
        Assert.Equal(1005, outcome.GetProperty("close_code").GetInt32());
        // Without --listen, with more to send, the same close is the device ending the session early: exit 7.
        using var early = WsctlProcess.Start("send", device.Url);
        await early.StandardInput.WriteLineAsync("one");
        await early.StandardInput.FlushAsync();
        Assert.Equal(7, await early.WaitForExitAsync(Limit));
        Assert.True(early.Stderr.Contains(
            "closed the connection without a status code (1005)", StringComparison.Ordinal), early.Stderr);
    }

    [Fact]
    public async Task Client_65535BytesInThe64BitLengthField_IsTaken()
    {
        using var device = HttpdWsModelPeer.Start();
        await using var client = await WebSocketClient.ConnectAsync(new Uri(device.Url));
        var payload = new byte[65535];
        Random.Shared.NextBytes(payload);
        await client.SendAsync(MessageType.Binary, payload);
        using var echoed = await client.ReceiveAsync();
        Assert.NotNull(echoed);
        Assert.Equal(payload, echoed.Payload.ToArray());
        Assert.Contains(65535L, device.EchoedFrameLengths);
        await client.CloseAsync();
        client.ThrowIfClosedAbnormally();
        Assert.Equal(CloseStatus.NoStatusReceived, client.CloseStatus);
    }

    [Fact]
    public async Task Client_MessageEchoedFragmentByFragment_IsReassembled()
    {
        using var device = HttpdWsModelPeer.Start();
        await using var client = await WebSocketClient.ConnectAsync(new Uri(device.Url));
        await client.SendFrameAsync(Opcode.Text, Encoding.UTF8.GetBytes("frag"), fin: false);
        await client.SendFrameAsync(Opcode.Continuation, Encoding.UTF8.GetBytes("ment"), fin: false);
        await client.SendFrameAsync(Opcode.Continuation, Encoding.UTF8.GetBytes("ed"), fin: true);
        using var echoed = await client.ReceiveAsync();
        Assert.Equal("fragmented", echoed!.GetText());
        Assert.Equal([4L, 4L, 2L], device.EchoedFrameLengths);
    }
}
