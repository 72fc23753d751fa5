using System.Globalization;
using System.Net.WebSockets;
using System.Text;
using System.Text.RegularExpressions;
using WsCore.Control;
using WsCore.Tests.Support;

namespace WsCore.Tests.Examples;

/// <summary>The servers and clients the rows start around an example.</summary>
public sealed partial class ExampleRun
{
    /// <summary>
    /// A fixture <c>wsctl serve --port 0 ARGS</c> on loopback (with this run's XDG_RUNTIME_DIR, so the example reaches
    /// its control socket), once its control socket is up; returns it and its port.
    /// </summary>
    public async Task<(WsctlProcess Serve, int Port)> StartServeAsync(params string[] args)
    {
        var (serve, port) = await WsctlProcess.StartServeAsync(
            new Dictionary<string, string> { ["XDG_RUNTIME_DIR"] = RuntimeDirectory }, 0, args);
        Own(serve);
        await WaitForControlSocketAsync(port);
        return (serve, port);
    }

    /// <summary>Waits for serve's control socket for <paramref name="port"/> (made after "listening").</summary>
    public async Task WaitForControlSocketAsync(int port)
    {
        var path = ControlSocketPath.For(port, RuntimeDirectory);
        var deadline = DateTime.UtcNow + Timeout;
        while (!File.Exists(path))
        {
            Assert.True(DateTime.UtcNow < deadline, $"no control socket {path}");
            await Task.Delay(25);
        }
    }

    /// <summary>
    /// Starts a serve example and returns it with the port from its "listening on" line. A trailing '&amp;' is kept:
    /// bash runs it as a background job (SIGINT ignored, as in a script) and waits for it.
    /// </summary>
    public async Task<ServeLine> StartServeLineAsync(string command, string? netns = null, TimeSpan? timeout = null)
    {
        var background = command.TrimEnd().EndsWith('&');
        var serve = Start(background ? command + "\nwait $!" : command, netns, keepStdinOpen: true);
        var line = await serve.WaitForStderrAsync(l => Listening().IsMatch(l), timeout ?? Timeout);
        var port = int.Parse(Listening().Match(line).Groups[1].Value, CultureInfo.InvariantCulture);
        if (netns is null)
            await WaitForControlSocketAsync(port);
        return new ServeLine(serve, port, background);
    }

    /// <summary>A WebSocket client of the test's, collecting the text messages it receives.</summary>
    public async Task<TextClient> ConnectAsync(int port)
    {
        var client = Own(new TextClient());
        await client.ConnectAsync(new Uri($"ws://127.0.0.1:{port}/"));
        return client;
    }

    [GeneratedRegex(@"listening on .*?:(\d+)/")]
    private static partial Regex Listening();
}

/// <summary>A serve example running (see <see cref="ExampleRun.StartServeLineAsync"/>).</summary>
public sealed record ServeLine(ShellProcess Shell, int Port, bool Background)
{
    /// <summary>
    /// Ctrl-C, as at a terminal: to the job in the foreground, or to the serve a script started with '&amp;'
    /// (which serve takes back); asserts the exit code 0 the README gives.
    /// </summary>
    public async Task StopAsync()
    {
        if (Background)
        {
            foreach (var pid in ShellProcess.Descendants(Shell.Id))
                ShellProcess.SignalTree(pid, "INT");
        }
        else
            Shell.Signal("INT");
        Assert.True(await Shell.WaitForExitAsync(ExampleRun.Timeout) == 0, Shell.All);
    }
}

/// <summary>A ClientWebSocket that collects every text message it receives.</summary>
public sealed class TextClient : IAsyncDisposable
{
    private readonly ClientWebSocket _socket = new();
    private readonly List<string> _received = [];
    private Task _receiving = Task.CompletedTask;

    public IReadOnlyList<string> Received
    {
        get
        {
            lock (_received)
                return [.. _received];
        }
    }

    public async Task ConnectAsync(Uri uri)
    {
        using var limit = new CancellationTokenSource(ExampleRun.Timeout);
        await _socket.ConnectAsync(uri, limit.Token);
        _receiving = Task.Run(ReceiveAsync);
    }

    public Task SendAsync(string text) =>
        _socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, true, CancellationToken.None);

    /// <summary>Waits until a received message equals <paramref name="text"/>.</summary>
    public async Task WaitForAsync(string text)
    {
        var deadline = DateTime.UtcNow + ExampleRun.Timeout;
        while (!Received.Contains(text))
        {
            Assert.True(DateTime.UtcNow < deadline,
                $"'{text}' not received; received: {string.Join(" | ", Received)}");
            await Task.Delay(20);
        }
    }

    private async Task ReceiveAsync()
    {
        var buffer = new byte[64 * 1024];
        try
        {
            while (true)
            {
                var message = new MemoryStream();
                WebSocketReceiveResult result;
                do
                {
                    result = await _socket.ReceiveAsync(buffer, CancellationToken.None);
                    message.Write(buffer, 0, result.Count);
                }
                while (!result.EndOfMessage);
                if (result.MessageType == WebSocketMessageType.Close)
                    return;
                if (result.MessageType == WebSocketMessageType.Text)
                    lock (_received)
                        _received.Add(Encoding.UTF8.GetString(message.ToArray()));
            }
        }
        catch (Exception e) when (e is WebSocketException or ObjectDisposedException or OperationCanceledException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        _socket.Abort();
        await _receiving.WaitAsync(TimeSpan.FromSeconds(10));
        _socket.Dispose();
    }
}
