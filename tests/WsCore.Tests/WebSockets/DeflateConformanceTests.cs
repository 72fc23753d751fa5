using System.Diagnostics;
using System.IO.Compression;
using System.Text;
using WsCore.Tests.Support;
using WsCore.WebSockets.Client;
using WsCore.WebSockets.Protocol;
using WsCore.WebSockets.Server;

namespace WsCore.Tests.WebSockets;

/// <summary>
/// permessage-deflate on the wire: the compression sections of the Autobahn suite (12.x, 13.x) run by an independent
/// implementation (python3-websockets, tests/peers/deflate_cases.py) against the server, wsctl's client against that
/// implementation's server, and raw frames for what a library would not send (RSV1 on a ping, a compression bomb).
/// </summary>
public class DeflateConformanceTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);
    private const string Python = "/usr/bin/python3";
    private static readonly string Cases = RepoPaths.Combine("tests", "peers", "deflate_cases.py");

    private static TestServer StartEchoServer(int maxMessage = 1 << 20) => TestServer.Start(echo: false, o =>
    {
        o.Compression = true;
        o.MaxMessageBytes = maxMessage;
        o.MaxQueuedBytesPerClient = WebSocketServerOptions.QueueBoundFor(maxMessage);
        o.MessageHandler = (s, id, type, payload) => s.Send(id, type, payload);
        o.PublishMessageEvents = false;
    });

    [Fact]
    public async Task Sections12And13_IndependentClient_EveryCaseEchoed()
    {
        await using var server = StartEchoServer();
        var (exit, output) = await RunPythonAsync(TimeSpan.FromMinutes(4), "client", server.Uri.ToString(), "3");
        Assert.True(exit == 0, output);
        // 5 cases of section 12 and 7 of section 13, each with 18 payload sizes.
        Assert.Equal(12, output.Split('\n').Count(line => line.StartsWith("ok ", StringComparison.Ordinal)));
        Assert.Contains("ok 13.3 (words; permessage-deflate; server_max_window_bits=8)", output);
        Assert.Contains("ok 13.6 (words; permessage-deflate; server_no_context_takeover; server_max_window_bits=15)",
            output);
    }

    [Fact]
    public async Task Client_AgainstIndependentServer_CompressesBothWays()
    {
        var portFile = Path.Combine(Path.GetTempPath(), $"deflate-peer-{Guid.NewGuid():N}");
        using var python = Process.Start(new ProcessStartInfo(Python, [Cases, "server", portFile])
        {
            RedirectStandardError = true,
        })!;
        try
        {
            var port = await WaitForPortAsync(portFile, python);
            await using var client = await WebSocketClient.ConnectAsync(
                new Uri($"ws://127.0.0.1:{port}/"), new WebSocketClientOptions { Compression = true });
            Assert.NotNull(client.Compression);
            Assert.Contains("permessage-deflate", client.HandshakeResponse.Get("Sec-WebSocket-Extensions"));
            for (var i = 0; i < 50; i++)
            {
                var text = $"{{\"sensor\":\"counter\",\"value\":{i}}}" + new string('x', i * 400);
                await client.SendTextAsync(text);
                using var echo = await client.ReceiveAsync().AsTask().WaitAsync(Timeout);
                Assert.Equal(text, echo!.GetText());
            }
            await client.CloseAsync();
            Assert.Equal(CloseStatus.NormalClosure, client.CloseStatus);
        }
        finally
        {
            python.Kill();
            await python.WaitForExitAsync();
            File.Delete(portFile);
        }
    }

    [Fact]
    public async Task Client_AgainstKestrelWithCompression_RoundTrips()
    {
        await using var kestrel = await KestrelEndpoint.StartAsync(compression: true);
        await using var client = await WebSocketClient.ConnectAsync(
            new Uri(kestrel.Url), new WebSocketClientOptions { Compression = true });
        Assert.NotNull(client.Compression);
        Assert.StartsWith("permessage-deflate", client.HandshakeResponse.Get("Sec-WebSocket-Extensions"));
        for (var i = 0; i < 30; i++)
        {
            var text = $"{{\"sensor\":\"counter\",\"value\":{i}}}" + new string('k', i * 1000);
            await client.SendTextAsync(text);
            using var echo = await client.ReceiveAsync().AsTask().WaitAsync(Timeout);
            Assert.Equal("echoed:" + text, echo!.GetText());
        }
        await client.CloseAsync();
        Assert.Equal(CloseStatus.NormalClosure, client.CloseStatus);
    }

    [Fact]
    public async Task ClientWebSocketWithDeflate_AgainstServer_RoundTrips()
    {
        // .NET's ClientWebSocket: the same ManagedWebSocket and deflate code as Kestrel's server side.
        await using var server = StartEchoServer();
        using var client = new System.Net.WebSockets.ClientWebSocket();
        client.Options.DangerousDeflateOptions = new System.Net.WebSockets.WebSocketDeflateOptions
        {
            ClientMaxWindowBits = 12,
            ServerContextTakeover = false,
        };
        client.Options.CollectHttpResponseDetails = true;
        await client.ConnectAsync(server.Uri, CancellationToken.None).WaitAsync(Timeout);
        Assert.Equal(
            "permessage-deflate; server_no_context_takeover; client_max_window_bits=12",
            client.HttpResponseHeaders!["Sec-WebSocket-Extensions"].Single());
        var buffer = new byte[1 << 20];
        for (var i = 0; i < 30; i++)
        {
            var bytes = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat($"{{\"value\":{i}}}", i * 50 + 1)));
            await client.SendAsync(
                bytes, System.Net.WebSockets.WebSocketMessageType.Text, true, CancellationToken.None);
            var filled = 0;
            System.Net.WebSockets.ValueWebSocketReceiveResult result;
            do
            {
                result = await client.ReceiveAsync(buffer.AsMemory(filled), CancellationToken.None).AsTask()
                    .WaitAsync(Timeout);
                filled += result.Count;
            }
            while (!result.EndOfMessage);
            Assert.True(bytes.AsSpan().SequenceEqual(buffer.AsSpan(0, filled)));
        }
        await client.CloseAsync(System.Net.WebSockets.WebSocketCloseStatus.NormalClosure, "", CancellationToken.None);
    }

    [Fact]
    public async Task Client_AgainstServer_NegotiatesAndRoundTrips()
    {
        await using var server = StartEchoServer();
        await using var client = await WebSocketClient.ConnectAsync(
            server.Uri, new WebSocketClientOptions { Compression = true });
        Assert.Equal(new DeflateParameters(), client.Compression);
        var random = new Random(3);
        for (var i = 0; i < 100; i++)
        {
            var bytes = new byte[random.Next(0, 200_000)];
            if (i % 3 == 0)
                random.NextBytes(bytes);
            await client.SendAsync(MessageType.Binary, bytes);
            using var echo = await client.ReceiveAsync().AsTask().WaitAsync(Timeout);
            Assert.True(bytes.AsSpan().SequenceEqual(echo!.Payload.Span));
        }
        await client.CloseAsync();
    }

    [Fact]
    public async Task Server_CompressionOff_DeclinesTheOffer()
    {
        await using var server = TestServer.Start(echo: true);
        await using var client = await WebSocketClient.ConnectAsync(
            server.Uri, new WebSocketClientOptions { Compression = true });
        Assert.Null(client.Compression);
        Assert.Null(client.HandshakeResponse.Get("Sec-WebSocket-Extensions"));
        await client.SendTextAsync("plain");
        using var echo = await client.ReceiveAsync();
        Assert.Equal("plain", echo!.GetText());
    }

    [Fact]
    public async Task Server_RepliesCompressedWithRsv1_AndPongsUncompressed()
    {
        await using var server = StartEchoServer();
        using var ws = await RawWebSocket.ConnectAsync(
            server.Port, extraHeaders: "Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover\r\n");
        Assert.Contains("Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover", ws.ResponseHead);
        // The client compresses with .NET's own DEFLATE (zlib-ng), independent of the system zlib.
        var text = string.Concat(Enumerable.Repeat("{\"sensor\":\"counter\",\"value\":1}", 40));
        await ws.SendFrameAsync(1, IndependentDeflate(text), rsv: 4);
        var (opcode, payload) = await ws.ReceiveFrameAsync(Timeout);
        Assert.Equal(1, opcode);
        Assert.Equal(4, ws.LastRsv);
        Assert.True(payload.Length < text.Length / 4);
        Assert.Equal(text, IndependentInflate(payload));
        await ws.SendFrameAsync(9, "ping"u8.ToArray());
        var (pong, pongPayload) = await ws.ReceiveFrameAsync(Timeout);
        Assert.Equal((10, 0), (pong, ws.LastRsv));
        Assert.Equal("ping"u8.ToArray(), pongPayload);
        // An uncompressed message is still fine (RSV1 clear).
        await ws.SendFrameAsync(1, "plain"u8.ToArray());
        await ws.ReceiveFrameAsync(Timeout);
        Assert.Equal(4, ws.LastRsv);
    }

    [Fact]
    public async Task Server_CompressedPing_Fails1002()
    {
        await using var server = StartEchoServer();
        using var ws = await RawWebSocket.ConnectAsync(
            server.Port, extraHeaders: "Sec-WebSocket-Extensions: permessage-deflate\r\n");
        await ws.SendFrameAsync(9, [0x00], rsv: 4);
        Assert.Equal(1002, await ws.ReceiveCloseCodeAsync(Timeout));
    }

    [Fact]
    public async Task Server_CompressionBomb_Closes1009()
    {
        const int limit = 64 * 1024;
        await using var server = StartEchoServer(limit);
        using var ws = await RawWebSocket.ConnectAsync(
            server.Port, extraHeaders: "Sec-WebSocket-Extensions: permessage-deflate\r\n");
        // 64 MiB of zeros, about 64 KB compressed: inflating it whole would take 1,000 times the limit.
        var bomb = IndependentDeflate(new byte[64 << 20]);
        Assert.True(bomb.Length < 128 * 1024);
        var nativeBefore = PerMessageDeflate.NativeBytesInUse;
        await ws.SendFrameAsync(2, bomb, rsv: 4);
        Assert.Equal(1009, await ws.ReceiveCloseCodeAsync(Timeout));
        Assert.True(await ws.WaitForEndAsync(Timeout));
        _ = nativeBefore;
    }

    [Fact]
    public async Task Client_CompressionBombFromServer_Fails1009()
    {
        await using var server = TestServer.Start(echo: false, o => o.Compression = true);
        await using var client = await WebSocketClient.ConnectAsync(
            server.Uri, new WebSocketClientOptions { Compression = true, MaxMessageBytes = 64 * 1024 });
        var connected = await server.WaitForAsync<ClientConnected>();
        server.Server.Send(connected.ClientId, MessageType.Binary, new byte[1 << 20]);
        var failure = await Assert.ThrowsAsync<WsCoreException>(async () => await client.ReceiveAsync());
        Assert.Contains("1009", failure.Message);
    }

    private static byte[] IndependentDeflate(string text) => IndependentDeflate(Encoding.UTF8.GetBytes(text));

    private static byte[] IndependentDeflate(byte[] data)
    {
        using var output = new MemoryStream();
        using (var deflate = new DeflateStream(output, CompressionLevel.Optimal, leaveOpen: true))
        {
            deflate.Write(data);
            deflate.Flush(); // a sync flush: ends with 00 00 ff ff
        }
        var bytes = output.ToArray();
        // Up to the sync flush's marker (the final empty block DeflateStream adds on dispose is dropped).
        var end = bytes.AsSpan().LastIndexOf((ReadOnlySpan<byte>)[0x00, 0x00, 0xff, 0xff]);
        return bytes[..end];
    }

    private static string IndependentInflate(byte[] payload)
    {
        using var input = new MemoryStream([.. payload, 0x00, 0x00, 0xff, 0xff]);
        using var inflate = new DeflateStream(input, CompressionMode.Decompress);
        using var output = new MemoryStream();
        var buffer = new byte[4096];
        try
        {
            int read;
            while ((read = inflate.Read(buffer)) > 0)
                output.Write(buffer, 0, read);
        }
        catch (InvalidDataException)
        {
        }
        return Encoding.UTF8.GetString(output.ToArray());
    }

    private static async Task<int> WaitForPortAsync(string portFile, Process python)
    {
        var deadline = DateTime.UtcNow + Timeout;
        while (!File.Exists(portFile))
        {
            if (python.HasExited)
                throw new InvalidOperationException(await python.StandardError.ReadToEndAsync());
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException("the python peer did not start");
            await Task.Delay(20);
        }
        return int.Parse(await File.ReadAllTextAsync(portFile));
    }

    private static async Task<(int Exit, string Output)> RunPythonAsync(TimeSpan limit, params string[] args)
    {
        var info = new ProcessStartInfo(Python, [Cases, .. args])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var python = Process.Start(info)!;
        using var cts = new CancellationTokenSource(limit);
        var stdout = python.StandardOutput.ReadToEndAsync(cts.Token);
        var stderr = python.StandardError.ReadToEndAsync(cts.Token);
        try
        {
            await python.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            python.Kill();
            throw;
        }
        return (python.ExitCode, await stdout + await stderr);
    }
}
