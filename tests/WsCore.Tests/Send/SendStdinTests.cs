using System.Text;
using WsCore.Tests.Support;
using WsCore.WebSockets.Protocol;
using Wsctl.Cli;


namespace WsCore.Tests.Send;

/// <summary>
/// <c>wsctl send</c> with stdin still open (a script's pipe that stays idle): --timeout bounds the whole run, a server
/// that closes ends it at once with the close's exit code, and bytes are UTF-8 whatever they start with.
/// </summary>
public sealed class SendStdinTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(60);

    private static async Task WaitForClientAsync(TestServer server)
    {
        var end = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (server.Server.ClientCount == 0 && DateTime.UtcNow < end)
            await Task.Delay(20);
        Assert.Equal(1, server.Server.ClientCount);
    }

    [Fact]
    public async Task Timeout_StdinOpenAndIdle_BoundsTheWholeRun_Exit6()
    {
        await using var server = TestServer.Start(echo: false);
        using var send = WsctlProcess.Start("send", $"127.0.0.1:{server.Port}", "--timeout", "1s");
        await send.StandardInput.WriteLineAsync("first");
        await send.StandardInput.FlushAsync();
        // stdin stays open and idle: the run must end by itself at --timeout.
        Assert.Equal(6, await send.WaitForExitAsync(Limit));
        Assert.Contains("timed out after 1s", send.Stderr);
        Assert.Contains(server.Messages, m => Encoding.UTF8.GetString(m.Payload) == "first");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ServerCloses_StdinOpen_EndsAtOnceWithExit7(bool wait)
    {
        await using var server = TestServer.Start(echo: false);
        using var send = WsctlProcess.Start(wait
            ? ["send", $"127.0.0.1:{server.Port}", "--wait", "5", "--timeout", "50s"]
            : ["send", $"127.0.0.1:{server.Port}", "--timeout", "50s"]);
        await WaitForClientAsync(server);
        Assert.True(server.Server.CloseClient(server.Server.ClientIds.Single(), CloseStatus.GoingAway, "restarting"));
        Assert.Equal(7, await send.WaitForExitAsync(Limit));
        Assert.Contains("closed the connection with 1001 (going away): restarting", send.Stderr);
    }

    [Fact]
    public async Task NoWait_ServerPushesFarMoreThanTheQueue_StillAnswersAndSeesTheClose()
    {
        await using var server = TestServer.Start(echo: false);
        using var send = WsctlProcess.Start("send", $"127.0.0.1:{server.Port}", "--timeout", "50s");
        await WaitForClientAsync(server);
        var id = server.Server.ClientIds.Single();
        var push = new byte[1024];
        for (var i = 0; i < 2000; i++)
            server.Server.Send(id, MessageType.Binary, push);
        await send.StandardInput.WriteLineAsync("still here");
        await send.StandardInput.FlushAsync();
        await server.WaitForMessageAsync(
            m => Encoding.UTF8.GetString(m.Payload) == "still here", TimeSpan.FromSeconds(20));
        server.Server.CloseClient(id, CloseStatus.NormalClosure, "");
        Assert.Equal(7, await send.WaitForExitAsync(Limit));
    }

    [Fact]
    public async Task Stdin_StartingWithFFFE_IsNotTakenForUtf16_AndRefusedAsNotUtf8()
    {
        await using var server = TestServer.Start(echo: false);
        using var send = WsctlProcess.Start("send", $"127.0.0.1:{server.Port}");
        await send.StandardInput.BaseStream.WriteAsync(new byte[] { (byte)'o', (byte)'k', (byte)'\n', 0xFF, 0xFE,
            (byte)'h', (byte)'i', (byte)'\n' });
        send.StandardInput.Close();
        // A text message must be UTF-8 (RFC 6455 §8.1): bytes that are not are refused, not sent as U+FFFD.
        Assert.Equal(1, await send.WaitForExitAsync(Limit));
        Assert.Contains("stdin line 2 is not UTF-8", send.Stderr);
        Assert.Contains("--binary", send.Stderr);
        await server.WaitForMessageAsync(m => Encoding.UTF8.GetString(m.Payload) == "ok");
        Assert.Single(server.Messages);
    }

    [Fact]
    public async Task Stdin_LinesEndingInCrLf_AreSentWithoutTheCr_AndALastLineWithoutNewline()
    {
        await using var server = TestServer.Start(echo: false);
        var result = await WsctlProcess.RunAsync(["send", $"127.0.0.1:{server.Port}"], "one\r\n\ntwo\nthree");
        Assert.True(result.ExitCode == 0, result.All);
        await server.WaitForMessageAsync(m => Encoding.UTF8.GetString(m.Payload) == "three");
        Assert.Equal(["one", "", "two", "three"], server.Messages.Select(m => Encoding.UTF8.GetString(m.Payload)));
    }
}
