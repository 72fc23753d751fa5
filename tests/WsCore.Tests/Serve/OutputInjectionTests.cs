using System.Text;
using WsCore.Tests.Support;
using WsCore.WebSockets.Client;
using WsCore.WebSockets.Protocol;
using WsCore.WebSockets.Server;
using Wsctl.Cli;

namespace WsCore.Tests.Serve;

/// <summary>
/// What a peer sends cannot forge output lines or drive the terminal in plain (non-JSON) output: serve prints a
/// client's message, and send prints a server's, on one line with control characters escaped; --raw writes the
/// bytes as they came; JSON output carries them escaped by its own format.
/// </summary>
public sealed class OutputInjectionTests
{
    private const string Hostile = "hello\u001b]0;pwned\u0007\u001b[31mred\n{\"type\":\"fake\"}";
    private const string Shown = "hello\\e]0;pwned\\x07\\e[31mred\\n{\"type\":\"fake\"}";
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(60);

    [Theory]
    [InlineData("plain")]
    [InlineData("raw")]
    [InlineData("json")]
    public async Task Serve_ClientMessage_OneLine_EscapedUnlessRaw(string output)
    {
        string[] flag = output switch { "raw" => ["--raw"], "json" => ["--json"], _ => [] };
        var (serve, port) = await WsctlProcess.StartServeAsync(["--no-counter", .. flag]);
        using (serve)
        {
            await using (var client = await WebSocketClient.ConnectAsync(new Uri($"ws://127.0.0.1:{port}/")))
            {
                await client.SendTextAsync(Hostile);
                await client.SendTextAsync("after");
                await client.CloseAsync();
            }
            var last = await serve.WaitForStdoutAsync(l => l.Contains("after", StringComparison.Ordinal), Limit);
            var lines = serve.StdoutLines.Where(l => !l.Contains("\"open\"") && !l.Contains("\"close\"")).ToList();
            switch (output)
            {
                case "plain":
                    Assert.Equal([Shown, "after"], lines);
                    break;
                case "raw":
                    Assert.Equal(["hello\u001b]0;pwned\u0007\u001b[31mred", "{\"type\":\"fake\"}", "after"], lines);
                    break;
                default:
                    Assert.Equal(2, lines.Count);
                    const string Escaped =
                        "\"data\":\"hello\\u001B]0;pwned\\u0007\\u001B[31mred\\n{\\\"type\\\":\\\"fake\\\"}\"";
                    Assert.Contains(Escaped, lines[0], StringComparison.Ordinal);
                    break;
            }
            Assert.NotNull(last);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Send_ServerMessage_OneLine_EscapedUnlessRaw(bool raw)
    {
        await using var server = TestServer.Start(echo: false, configure: o => o.MessageHandler =
            (s, id, _, _) => s.SendText(id, Hostile));
        var result = await WsctlProcess.RunAsync(
            ["send", server.Uri.ToString(), "go", "--wait", "1", .. raw ? new[] { "--raw" } : []], timeout: Limit);
        Assert.True(result.ExitCode == 0, result.All);
        Assert.Equal(raw ? Hostile + "\n" : Shown + "\n", result.Stdout);
    }
}
