using WsCore.Tests.Bench;
using WsCore.Tests.Support;
using WsCore.WebSockets.Protocol;
using WsCore.WebSockets.Server;

namespace WsCore.Tests.Send;

/// <summary>
/// <c>wsctl send TARGET</c> typed at a terminal: an interactive session as wscat gives one: what arrives is shown
/// while the user types (marked "&lt; "), lines are edited with readline's keys, /ping and /close work, Ctrl-D ends.
/// </summary>
public sealed class SendInteractiveTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(60);

    [TerminalFact]
    public async Task TypedLines_AreSent_RepliesShownAsTheyArrive_CtrlDClosesWith1000()
    {
        await using var server = TestServer.Start(echo: true);
        using var session = new TerminalSession($"send {server.Uri}");
        await session.WaitForAsync("> ", Limit);
        // Typed with a correction: "helo", Left, "l" before the "o".
        await session.TypeAsync("helo\u001b[Dl\r");
        await session.WaitForAsync("< hello", Limit);
        server.Server.SendText(WebSocketServer.AllClients, "pushed while typing");
        await session.WaitForAsync("< pushed while typing", Limit);
        await session.TypeAsync("/ping check\r");
        await session.WaitForAsync("pong (check) after", Limit);
        await session.TypeAsync("\u0004");
        Assert.Equal(0, await session.WaitForExitAsync(Limit));
        await server.WaitForAsync<ClientDisconnected>(e => e.CloseCode == CloseStatus.NormalClosure);
        Assert.Contains(server.Messages, m => m.Payload.SequenceEqual("hello"u8.ToArray()));
    }

    // -q at a terminal quiets the logs; what arrives is what the session is for (it once showed nothing).
    [TerminalFact]
    public async Task Quiet_StillShowsWhatArrives()
    {
        await using var server = TestServer.Start(echo: true);
        using var session = new TerminalSession($"send {server.Uri} -q");
        await session.WaitForAsync("> ", Limit);
        await session.TypeAsync("hello\r");
        await session.WaitForAsync("< hello", Limit);
        await session.TypeAsync("\u0004");
        Assert.Equal(0, await session.WaitForExitAsync(Limit));
    }

    [TerminalFact]
    public async Task SlashClose_WithACode_ClosesWithIt_AndTheEchoedCodeIsTheEndAsked()
    {
        await using var server = TestServer.Start(echo: true);
        using var session = new TerminalSession($"send {server.Uri}");
        await session.WaitForAsync("> ", Limit);
        await session.TypeAsync("/close 4001 done here\r");
        Assert.Equal(0, await session.WaitForExitAsync(Limit));
        var closed = await server.WaitForAsync<ClientDisconnected>();
        Assert.Equal(4001, closed.CloseCode);
        Assert.Equal("done here", closed.CloseReason);
    }

    [TerminalFact]
    public async Task ServerClosing_EndsTheSession_SayingHow()
    {
        await using var server = TestServer.Start(echo: true);
        using var session = new TerminalSession($"send {server.Uri}");
        await session.WaitForAsync("> ", Limit);
        var opened = await server.WaitForAsync<ClientConnected>();
        server.Server.CloseClient(opened.ClientId, CloseStatus.GoingAway, "restarting");
        Assert.Equal(0, await session.WaitForExitAsync(Limit));
        Assert.Contains("closed with 1001 (going away): restarting by the server", session.Screen,
            StringComparison.Ordinal);
    }

    [TerminalFact]
    public async Task ControlSequencesFromThePeer_ReachTheScreenEscaped()
    {
        await using var server = TestServer.Start(echo: false);
        using var session = new TerminalSession($"send {server.Uri}");
        await session.WaitForAsync("> ", Limit);
        server.Server.SendText(WebSocketServer.AllClients, "hi\u001b]0;pwned\u0007\u001b[31mred\nforged");
        await session.WaitForAsync("< hi\\e]0;pwned\\x07\\e[31mred\\nforged", Limit);
        Assert.DoesNotContain("\u001b]0;pwned", session.Screen, StringComparison.Ordinal);
        await session.TypeAsync("\u0004");
        Assert.Equal(0, await session.WaitForExitAsync(Limit));
    }
}
