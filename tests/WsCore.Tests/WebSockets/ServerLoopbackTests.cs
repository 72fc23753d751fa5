using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using WsCore.Tests.Support;
using WsCore.WebSockets.Server;
using MessageType = WsCore.WebSockets.Protocol.MessageType;

namespace WsCore.Tests.WebSockets;

/// <summary>
/// The in-process server on a loopback port, with .NET's own ClientWebSocket as the independent peer.
/// </summary>
public class ServerLoopbackTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    private static async Task<ClientWebSocket> ConnectAsync(TestServer server)
    {
        var client = new ClientWebSocket();
        await client.ConnectAsync(server.Uri, CancellationToken.None).WaitAsync(Timeout);
        return client;
    }

    private static async Task<(WebSocketMessageType Type, string Text)> ReceiveAsync(ClientWebSocket client)
    {
        // Grows with the message (10,000 small echoes must not cost 1 MiB each: on 2 cores that GC pressure made
        // the fifty-client test time out).
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(4096);
        var filled = 0;
        using var cts = new CancellationTokenSource(Timeout);
        try
        {
            while (true)
            {
                if (filled == buffer.Length)
                {
                    var larger = System.Buffers.ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
                    buffer.AsSpan(0, filled).CopyTo(larger);
                    System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
                    buffer = larger;
                }
                var result = await client.ReceiveAsync(buffer.AsMemory(filled), cts.Token);
                filled += result.Count;
                if (result.EndOfMessage)
                    return (result.MessageType, Encoding.UTF8.GetString(buffer, 0, filled));
            }
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    [Fact]
    public async Task MessageAfterServersClose_IsNotPublished_AndTheCloseHandshakeCompletes()
    {
        await using var server = TestServer.Start(echo: false);
        using var client = await RawWebSocket.ConnectAsync(server.Port);
        var opened = await server.WaitForAsync<ClientConnected>();
        Assert.True(server.Server.CloseClient(
            opened.ClientId, WsCore.WebSockets.Protocol.CloseStatus.NormalClosure, "bye"));
        Assert.Equal(1000, await client.ReceiveCloseCodeAsync(Timeout));
        // §7.1.4: after sending Close the server processes no more data; the peer's late message is dropped.
        await client.SendFrameAsync(1, "too late"u8.ToArray());
        await client.SendFrameAsync(8, RawWebSocket.ClosePayload(1000));
        var closed = await server.WaitForAsync<ClientDisconnected>();
        Assert.Equal(1000, closed.CloseCode);
        Assert.DoesNotContain(server.Messages, m => m.Payload.SequenceEqual("too late"u8.ToArray()));
    }

    [Fact]
    public async Task MessageHandler_EchoesOnTheReceivingThread_WithoutMessageEvents()
    {
        await using var server = TestServer.Start(echo: false, options =>
        {
            options.MessageHandler = (s, id, type, payload) => s.Send(id, type, payload);
            options.PublishMessageEvents = false;
        });
        using var client = await ConnectAsync(server);
        for (var i = 0; i < 100; i++)
        {
            var text = $"message {i} é";
            await client.SendAsync(
                Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, true, CancellationToken.None);
            Assert.Equal((WebSocketMessageType.Text, text), await ReceiveAsync(client));
        }
        await client.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", CancellationToken.None).WaitAsync(Timeout);
        // Connects and disconnects are still events; the messages were the handler's alone.
        await server.WaitForAsync<ClientDisconnected>();
        Assert.Empty(server.Messages);
        Assert.Single(server.Events.OfType<ClientConnected>());
    }

    [Fact]
    public async Task MessageHandler_ThatThrows_ClosesThatClientWith1011_AndServesTheOthers()
    {
        await using var server = TestServer.Start(echo: false, options =>
            options.MessageHandler = (s, id, type, payload) =>
            {
                if (payload.SequenceEqual("boom"u8))
                    throw new InvalidOperationException("handler bug");
                s.Send(id, type, payload);
            });
        using var victim = await ConnectAsync(server);
        using var bystander = await ConnectAsync(server);
        await victim.SendAsync("boom"u8.ToArray(), WebSocketMessageType.Text, true, CancellationToken.None);
        using var cts = new CancellationTokenSource(Timeout);
        var result = await victim.ReceiveAsync(new byte[256], cts.Token);
        Assert.Equal(WebSocketMessageType.Close, result.MessageType);
        Assert.Equal((WebSocketCloseStatus)1011, victim.CloseStatus);
        var closed = await server.WaitForAsync<ClientDisconnected>();
        Assert.Equal(1011, closed.CloseCode);
        Assert.True(closed.InitiatedByServer);

        await bystander.SendAsync("still here"u8.ToArray(), WebSocketMessageType.Text, true, CancellationToken.None);
        Assert.Equal((WebSocketMessageType.Text, "still here"), await ReceiveAsync(bystander));
        // Handled messages are still published (the default); the one that broke the handler is not: its client is
        // being failed.
        await server.WaitForMessageAsync(m => m.Payload.SequenceEqual("still here"u8.ToArray()));
        Assert.DoesNotContain(server.Messages, m => m.Payload.SequenceEqual("boom"u8.ToArray()));
    }

    [Fact]
    public async Task Send_TextAndBinaryEcho_ComeBackUnchanged()
    {
        await using var server = TestServer.Start(echo: true);
        using var client = await ConnectAsync(server);
        await client.SendAsync("héllo"u8.ToArray(), WebSocketMessageType.Text, true, CancellationToken.None);
        Assert.Equal((WebSocketMessageType.Text, "héllo"), await ReceiveAsync(client));
        await client.SendAsync(new byte[] { 1, 2, 3 }, WebSocketMessageType.Binary, true, CancellationToken.None);
        var reply = await ReceiveAsync(client);
        Assert.Equal(WebSocketMessageType.Binary, reply.Type);
        var opened = await server.WaitForAsync<ClientConnected>();
        Assert.Equal(1, opened.ClientId);
        await client.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", CancellationToken.None).WaitAsync(Timeout);
        var closed = await server.WaitForAsync<ClientDisconnected>();
        Assert.Equal(1000, closed.CloseCode);
        Assert.False(closed.InitiatedByServer);
    }

    [Fact]
    public async Task Start_FiveClientsThenASixth_SixthGets503WithRetryAfterAndOthersStayUp()
    {
        await using var server = TestServer.Start(echo: true);
        var clients = new List<ClientWebSocket>();
        for (var i = 0; i < 5; i++)
            clients.Add(await ConnectAsync(server));
        using var sixth = await RawWebSocket.ConnectAsync(server.Port);
        Assert.Equal(503, sixth.Status);
        Assert.Contains("Retry-After: 5", sixth.ResponseHead);
        Assert.Contains("Connection: close", sixth.ResponseHead);
        Assert.True(await sixth.WaitForEndAsync(Timeout));

        var again = new ClientWebSocket();
        var refused = await Assert.ThrowsAsync<WebSocketException>(() => again
            .ConnectAsync(server.Uri, CancellationToken.None)
            .WaitAsync(Timeout));
        Assert.Equal(5, server.Server.ClientCount);
        Assert.Equal(2, server.Server.ClientsRefused);

        // Nobody else was disturbed.
        Assert.Equal(5, server.Server.Send(WebSocketServer.AllClients, MessageType.Text, "to all"u8));
        foreach (var client in clients)
        {
            Assert.Equal((WebSocketMessageType.Text, "to all"), await ReceiveAsync(client));
            client.Dispose();
        }
    }

    [Fact]
    public async Task ClientIdsHasNoneToGive_ClientGets503WithRetryAfter_AndIsServedOnceItHas()
    {
        var nextId = 0;
        await using var server = TestServer.Start(echo: true, options => options.ClientIds = () => nextId);

        using var refused = await RawWebSocket.ConnectAsync(server.Port);
        Assert.Equal(503, refused.Status);
        Assert.Contains("Retry-After: 5", refused.ResponseHead);
        Assert.True(await refused.WaitForEndAsync(Timeout));
        Assert.Equal(0, server.Server.ClientCount);
        Assert.Equal(1, server.Server.ClientsRefused);

        nextId = 42;
        using var client = await ConnectAsync(server);
        Assert.Equal([42], server.Server.ClientIds);
    }

    [Fact]
    public async Task Send_Broadcast_ReachesEveryClientAndUnicastOnlyOne()
    {
        await using var server = TestServer.Start(echo: false);
        var clients = new List<ClientWebSocket>();
        for (var i = 0; i < 3; i++)
            clients.Add(await ConnectAsync(server));
        await WaitUntil(() => server.Events.OfType<ClientConnected>().Count() == 3);
        Assert.Equal(1, server.Server.SendText(2, "only two"));
        Assert.Equal(3, server.Server.SendText(WebSocketServer.AllClients, "all"));
        Assert.Equal(0, server.Server.SendText(99, "nobody"));
        var ids = server.Events.OfType<ClientConnected>().Select(e => e.ClientId).Order().ToArray();
        Assert.Equal(new[] { 1, 2, 3 }, ids);
        Assert.Equal("all", (await ReceiveAsync(clients[0])).Text);
        Assert.Equal("only two", (await ReceiveAsync(clients[1])).Text);
        Assert.Equal("all", (await ReceiveAsync(clients[1])).Text);
        Assert.Equal("all", (await ReceiveAsync(clients[2])).Text);
        clients.ForEach(c => c.Dispose());
    }

    [Fact]
    public async Task Receive_FragmentedMessageWithPingBetween_IsReassembled()
    {
        await using var server = TestServer.Start(echo: true);
        using var raw = await RawWebSocket.ConnectAsync(server.Port);
        await raw.SendFrameAsync(1, "frag-"u8.ToArray(), fin: false);
        await raw.SendFrameAsync(9, "inter"u8.ToArray());
        await raw.SendFrameAsync(0, "men"u8.ToArray(), fin: false);
        await raw.SendFrameAsync(0, "ted"u8.ToArray());
        var pong = await raw.ReceiveFrameAsync(Timeout);
        Assert.Equal((10, "inter"), (pong.Opcode, Encoding.UTF8.GetString(pong.Payload)));
        var echo = await raw.ReceiveFrameAsync(Timeout);
        Assert.Equal((1, "frag-mented"), (echo.Opcode, Encoding.UTF8.GetString(echo.Payload)));
    }

    public static TheoryData<string, byte[], int> BadInputs => new()
    {
        { "announces 1 MB", [0x81, 0xFF, 0, 0, 0, 0, 0, 0x0F, 0x42, 0x40, 1, 2, 3, 4, .. new byte[1000]], 1009 },
        { "invalid UTF-8", RawWebSocket.BuildFrame(1, [0xc3, 0x28, 0x20]), 1007 },
        { "unmasked", RawWebSocket.BuildFrame(1, "hi"u8.ToArray(), mask: false), 1002 },
        { "RSV bits", RawWebSocket.BuildFrame(1, "hi"u8.ToArray(), rsv: 4), 1002 },
        { "reserved opcode", RawWebSocket.BuildFrame(3, "hi"u8.ToArray()), 1002 },
        { "control over 125", RawWebSocket.BuildFrame(9, new byte[126]), 1002 },
        { "fragmented control", RawWebSocket.BuildFrame(9, [1], fin: false), 1002 },
        { "continuation without start", RawWebSocket.BuildFrame(0, "zz"u8.ToArray()), 1002 },
        { "new message inside fragmented",
            [.. RawWebSocket.BuildFrame(1, "a"u8.ToArray(), fin: false), .. RawWebSocket.BuildFrame(2, [1])], 1002 },
        { "close with 1 byte", RawWebSocket.BuildFrame(8, [3]), 1002 },
        { "close with code 1005", RawWebSocket.BuildFrame(8, RawWebSocket.ClosePayload(1005)), 1002 },
        { "close reason not UTF-8", RawWebSocket.BuildFrame(8, [0x03, 0xe8, 0xc3, 0x28]), 1007 },
        { "65 KiB in fragments",
            [
                .. Enumerable.Range(0, 17).SelectMany(i => RawWebSocket.BuildFrame(
                    i == 0 ? 1 : 0, new byte[4096].Select(_ => (byte)'y').ToArray(), fin: i == 16))], 1009 },
    };

    [Theory]
    [MemberData(nameof(BadInputs))]
    public async Task Receive_ProtocolError_ClosesWithItsCodeAndServerKeepsServing(string what, byte[] bytes, int code)
    {
        await using var server = TestServer.Start(echo: true);
        using (var raw = await RawWebSocket.ConnectAsync(server.Port))
        {
            Assert.Equal(101, raw.Status);
            await raw.SendRawAsync(bytes);
            Assert.True(code == await raw.ReceiveCloseCodeAsync(Timeout), what);
            Assert.True(await raw.WaitForEndAsync(Timeout), "server closes TCP after the close frame");
        }
        var closed = await server.WaitForAsync<ClientDisconnected>();
        Assert.Equal(code, closed.CloseCode);
        Assert.True(closed.InitiatedByServer);
        using var next = await ConnectAsync(server);
        await next.SendAsync("still here"u8.ToArray(), WebSocketMessageType.Text, true, CancellationToken.None);
        Assert.Equal("still here", (await ReceiveAsync(next)).Text);
    }

    [Fact]
    public async Task Handshake_MissingKey_Gets400AndWrongVersion426()
    {
        await using var server = TestServer.Start();
        Assert.StartsWith("HTTP/1.1 400 ", await RawHttpAsync(server.Port,
            "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n" +
                "\r\n"));
        var wrongVersion = await RawHttpAsync(server.Port,
            "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
                "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n");
        Assert.StartsWith("HTTP/1.1 426 ", wrongVersion);
        Assert.Contains("Sec-WebSocket-Version: 13", wrongVersion);
        var sample = await RawHttpAsync(server.Port,
            "GET / HTTP/1.1\r\nhost: x\r\nupgrade: WebSocket\r\nconnection: keep-alive, Upgrade\r\n" +
                "sec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\nsec-websocket-version: 13\r\n\r\n", untilEnd: false);
        Assert.StartsWith("HTTP/1.1 101 ", sample);
        Assert.Contains("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", sample);
    }

    [Fact]
    public async Task Handshake_PlainGet_ServesPageAndOtherPaths404()
    {
        await using var server = TestServer.Start();
        using var http = new HttpClient();
        var page = await http.GetAsync($"http://127.0.0.1:{server.Port}/").WaitAsync(Timeout);
        Assert.Equal(System.Net.HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("<p>test</p>", await page.Content.ReadAsStringAsync());
        var missing = await http.GetAsync($"http://127.0.0.1:{server.Port}/nope").WaitAsync(Timeout);
        Assert.Equal(System.Net.HttpStatusCode.NotFound, missing.StatusCode);
    }

    [Fact]
    public async Task Send_ClientThatStopsReading_IsDroppedWith1008WhileOthersKeepReceiving()
    {
        await using var server = TestServer.Start(echo: false, o =>
        {
            o.MaxMessageBytes = 32 * 1024;
            o.MaxQueuedBytesPerClient = 64 * 1024;
        });
        using var slow = await RawWebSocket.ConnectAsync(server.Port);
        using var fast = await ConnectAsync(server);
        await WaitUntil(() => server.Server.ClientCount == 2);
        var chunk = new string('z', 16 * 1024);
        var sent = 0;
        var received = 0;
        var sending = true;
        var reader = Task.Run(async () =>
        {
            while (Volatile.Read(ref sending) || received < Volatile.Read(ref sent))
            {
                if (received == Volatile.Read(ref sent))
                {
                    await Task.Delay(1);
                    continue;
                }
                var (type, text) = await ReceiveAsync(fast);
                Assert.True(
                    chunk.Length == text.Length,
                    $"{type} {fast.CloseStatus} {fast.CloseStatusDescription} after {received}");
                received++;
            }
        });
        // Broadcast until the slow client overflows: its socket buffers fill, then its 64 KiB queue. The cap (32 MB)
        // is far above what any kernel buffers for a client that never reads.
        while (server.Server.SlowClientsDropped == 0 && sent < 2000)
        {
            // At most two messages in flight to the fast client (32 KiB, under its 64 KiB bound): only the slow
            // client overflows.
            while (sent - Volatile.Read(ref received) >= 2 && !reader.IsCompleted)
                await Task.Delay(1);
            server.Server.SendText(WebSocketServer.AllClients, chunk);
            Interlocked.Increment(ref sent);
        }
        Volatile.Write(ref sending, false);
        await reader.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(sent, received);
        Assert.Equal(1, server.Server.SlowClientsDropped);
        // The fast client still gets messages after the drop.
        server.Server.SendText(WebSocketServer.AllClients, "after");
        Assert.Equal("after", (await ReceiveAsync(fast)).Text);
        // The slow client, reading at last, finds the data it had, then Close 1008.
        Assert.Equal(1008, await slow.ReceiveCloseCodeAsync(TimeSpan.FromSeconds(30)));
        await slow.SendFrameAsync(8, RawWebSocket.ClosePayload(1008));
        var closed = await server.WaitForAsync<ClientDisconnected>();
        Assert.Equal(1008, closed.CloseCode);
        Assert.Equal(1, server.Server.ClientCount);
    }

    [Fact]
    public void Options_QueueSmallerThanOneLargestMessage_Refused()
    {
        var e = Assert.Throws<WsCoreException>(() => TestServer.Start(
            echo: true, o => o.MaxMessageBytes = 8 * 1024 * 1024));
        Assert.Equal(FailureKind.InvalidInput, e.Kind);
        Assert.Contains("cannot hold one message of the largest size", e.Message);
    }

    [Fact]
    public async Task Send_FrameLargerThanTheQueueBound_GoesOutWhenTheBacklogIsEmpty()
    {
        // A broadcast of a message bigger than the queue bound to a client that reads: sent, not a "slow client".
        await using var server = TestServer.Start(echo: false, o =>
        {
            o.MaxMessageBytes = 1024;
            o.MaxQueuedBytesPerClient = 1024 + 10;
        });
        using var ws = await RawWebSocket.ConnectAsync(server.Port);
        await WaitUntil(() => server.Server.ClientCount == 1);
        var big = new byte[3 * 1024 * 1024];
        Assert.Equal(1, server.Server.Send(WebSocketServer.AllClients, MessageType.Binary, big));
        var (opcode, payload) = await ws.ReceiveFrameAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(2, opcode);
        Assert.Equal(big.Length, payload.Length);
    }

    [Fact]
    public async Task Stop_WithClients_SendsGoingAway1001()
    {
        var server = TestServer.Start();
        using var client = await ConnectAsync(server);
        using var raw = await RawWebSocket.ConnectAsync(server.Port);
        await WaitUntil(() => server.Server.ClientCount == 2);
        var receive = client.ReceiveAsync(new byte[100], CancellationToken.None);
        var stopping = server.DisposeAsync().AsTask();
        Assert.Equal(1001, await raw.ReceiveCloseCodeAsync(Timeout));
        await raw.SendFrameAsync(8, RawWebSocket.ClosePayload(1001));
        var result = await receive.WaitAsync(Timeout);
        Assert.Equal(WebSocketMessageType.Close, result.MessageType);
        Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, client.CloseStatus);
        await client.CloseOutputAsync(WebSocketCloseStatus.EndpointUnavailable, "", CancellationToken.None);
        await stopping.WaitAsync(Timeout);
    }

    [Fact]
    public async Task Stop_ConnectionThatNeverSendsItsHandshake_IsAbortedNotWaitedFor()
    {
        // With hour-long timeouts, only aborting the silent connection lets the stop finish.
        var server = TestServer.Start(configure: o =>
        {
            o.HandshakeTimeout = TimeSpan.FromHours(1);
            o.CloseTimeout = TimeSpan.FromHours(1);
        });
        using var silent = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await silent.ConnectAsync(System.Net.IPAddress.Loopback, server.Port);
        using var client = await ConnectAsync(server);
        var receive = client.ReceiveAsync(new byte[100], CancellationToken.None);
        var stopping = server.DisposeAsync().AsTask();
        Assert.Equal(WebSocketMessageType.Close, (await receive.WaitAsync(Timeout)).MessageType);
        await client.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "", CancellationToken.None);
        await stopping.WaitAsync(Timeout);
    }

    [Fact]
    public async Task Send_FiftyClientsEchoingConcurrently_EveryMessageComesBackInOrder()
    {
        await using var server = TestServer.Start(echo: true, o => o.MaxClients = 50);
        var clients = await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => ConnectAsync(server)));
        await Task.WhenAll(clients.Select(async (client, index) =>
        {
            var sending = Task.Run(async () =>
            {
                for (var i = 0; i < 200; i++)
                    await client.SendAsync(
                        Encoding.UTF8.GetBytes($"{index}:{i}"),
                        WebSocketMessageType.Text,
                        true,
                        CancellationToken.None);
            });
            for (var i = 0; i < 200; i++)
                Assert.Equal($"{index}:{i}", (await ReceiveAsync(client)).Text);
            await sending;
        })).WaitAsync(TimeSpan.FromSeconds(60));
        foreach (var client in clients)
            client.Dispose();
    }

    [Fact]
    public async Task Handshake_SentOneByteAtATime_Upgrades()
    {
        await using var server = TestServer.Start();
        using var socket = new Socket(
            AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp)
        { NoDelay = true };
        await socket.ConnectAsync(System.Net.IPAddress.Loopback, server.Port);
        var request = Encoding.ASCII.GetBytes("GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n" +
            "Connection: Upgrade\r\n" +
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
        foreach (var b in request)
            await socket.SendAsync(new[] { b }, SocketFlags.None);
        var buffer = new byte[1024];
        using var cts = new CancellationTokenSource(Timeout);
        var read = await socket.ReceiveAsync(buffer, SocketFlags.None, cts.Token);
        Assert.StartsWith("HTTP/1.1 101 ", Encoding.ASCII.GetString(buffer, 0, read));
    }

    [Fact]
    public async Task Handshake_HeadOverTheLimit_Gets431()
    {
        await using var server = TestServer.Start();
        var response = await RawHttpAsync(
            server.Port, "GET / HTTP/1.1\r\nHost: x\r\nX-Filler: " + new string('a', 10_000) + "\r\n\r\n");
        Assert.StartsWith("HTTP/1.1 431 ", response);
    }

    [Fact]
    public async Task Handshake_ClientOffersSubprotocols_ServerPicksItsFirstOffered()
    {
        await using var server = TestServer.Start(configure: o => o.Subprotocols = ["json", "chat"]);
        using var client = new ClientWebSocket();
        client.Options.AddSubProtocol("chat");
        client.Options.AddSubProtocol("mqtt");
        await client.ConnectAsync(server.Uri, CancellationToken.None).WaitAsync(Timeout);
        Assert.Equal("chat", client.SubProtocol);
        Assert.Equal("chat", (await server.WaitForAsync<ClientConnected>()).Subprotocol);
    }

    [Fact]
    public async Task KeepAlive_SilentClient_GetsPingedAndAnsweringClientStays()
    {
        await using var server = TestServer.Start(configure: o => o.PingInterval = TimeSpan.FromMilliseconds(200));
        using var raw = await RawWebSocket.ConnectAsync(server.Port);
        var ping = await raw.ReceiveFrameAsync(Timeout);
        Assert.Equal(9, ping.Opcode);
        await raw.SendFrameAsync(10, ping.Payload);
        ping = await raw.ReceiveFrameAsync(Timeout);
        Assert.Equal(9, ping.Opcode);
        // Now stay silent: the server drops the client after another interval.
        Assert.True(await raw.WaitForEndAsync(Timeout));
        var closed = await server.WaitForAsync<ClientDisconnected>();
        Assert.Equal(1006, closed.CloseCode);
    }

    [Fact]
    public async Task HandshakeTimeout_ConnectionThatNeverSendsItsRequest_IsDropped_OthersStay()
    {
        await using var server = TestServer.Start(configure: o => o.HandshakeTimeout = TimeSpan.FromMilliseconds(300));
        using var client = await ConnectAsync(server);
        using var silent = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await silent.ConnectAsync(System.Net.IPAddress.Loopback, server.Port);
        await silent.SendAsync("GET / HTTP/1.1\r\nHost: x\r\n"u8.ToArray(), SocketFlags.None);
        // Half a request head, then nothing: the server ends the connection once the handshake timeout passed.
        using var cts = new CancellationTokenSource(Timeout);
        var ended = false;
        try
        {
            ended = await silent.ReceiveAsync(new byte[256], SocketFlags.None, cts.Token) == 0;
        }
        catch (SocketException)
        {
            ended = true;
        }
        Assert.True(ended);
        // The upgraded client is past its handshake: it has no deadline and is still served.
        await client.SendAsync("still here"u8.ToArray(), WebSocketMessageType.Text, true, CancellationToken.None);
        Assert.Equal((WebSocketMessageType.Text, "still here"), await ReceiveAsync(client));
    }

    [Fact]
    public async Task CloseTimeout_ClientThatNeverAnswersTheServersClose_IsAbortedAfterTheTimeout()
    {
        await using var server = TestServer.Start(
            echo: false, configure: o => o.CloseTimeout = TimeSpan.FromMilliseconds(300));
        using var raw = await RawWebSocket.ConnectAsync(server.Port);
        var opened = await server.WaitForAsync<ClientConnected>();
        Assert.True(server.Server.CloseClient(
            opened.ClientId, WsCore.WebSockets.Protocol.CloseStatus.NormalClosure, "bye"));
        Assert.Equal(1000, await raw.ReceiveCloseCodeAsync(Timeout));
        // No Close back, and TCP left open: after the close timeout the server gives up and ends the connection.
        Assert.True(await raw.WaitForEndAsync(Timeout));
        var closed = await server.WaitForAsync<ClientDisconnected>();
        Assert.Equal(1000, closed.CloseCode);
        Assert.True(closed.InitiatedByServer);
        Assert.Equal(0, server.Server.ClientCount);
    }

    [Fact]
    public async Task Start_DualModeAny_AcceptsIPv4AndIPv6()
    {
        if (!Socket.OSSupportsIPv6)
            return;
        await using var server = TestServer.Start(configure: o => o.BindAddress = null);
        Assert.True(server.Server.IsDualMode);
        using var v4 = new ClientWebSocket();
        await v4.ConnectAsync(new Uri($"ws://127.0.0.1:{server.Port}/"), CancellationToken.None).WaitAsync(Timeout);
        using var v6 = new ClientWebSocket();
        await v6.ConnectAsync(new Uri($"ws://[::1]:{server.Port}/"), CancellationToken.None).WaitAsync(Timeout);
        var remotes = (await WaitFor(() => server.Events.OfType<ClientConnected>().ToList(), l => l.Count == 2))
            .Select(e => e.RemoteEndPoint.AddressFamily)
            .Order()
            .ToArray();
        Assert.Equal(new[] { AddressFamily.InterNetwork, AddressFamily.InterNetworkV6 }, remotes);
    }

    internal static async Task<string> RawHttpAsync(int port, string request, bool untilEnd = true)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(System.Net.IPAddress.Loopback, port);
        await socket.SendAsync(Encoding.ASCII.GetBytes(request), SocketFlags.None);
        var response = new StringBuilder();
        var buffer = new byte[4096];
        using var cts = new CancellationTokenSource(Timeout);
        while (true)
        {
            var read = await socket.ReceiveAsync(buffer, SocketFlags.None, cts.Token);
            if (read == 0)
                break;
            response.Append(Encoding.Latin1.GetString(buffer, 0, read));
            if (!untilEnd && response.ToString().Contains("\r\n\r\n", StringComparison.Ordinal))
                break;
        }
        return response.ToString();
    }

    internal static async Task WaitUntil(Func<bool> condition)
    {
        var end = DateTime.UtcNow + Timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > end)
                throw new TimeoutException("condition not met in time");
            await Task.Delay(10);
        }
    }

    private static async Task<T> WaitFor<T>(Func<T> probe, Func<T, bool> done)
    {
        var end = DateTime.UtcNow + Timeout;
        while (true)
        {
            var value = probe();
            if (done(value))
                return value;
            if (DateTime.UtcNow > end)
                throw new TimeoutException("condition not met in time");
            await Task.Delay(10);
        }
    }

    // Nobody reads the events while a client sends far more messages than the event queue holds: receiving pauses
    // (TCP pushes back), and once the events are read every message arrives, in the order sent. On Linux this is the
    // pump's pause and resume (ServerConnection.ResumeAfterPublishAsync), many times over with a queue of 4.
    [Fact]
    public async Task EventQueueFull_ReceivingPauses_ThenEveryMessageArrivesInOrder()
    {
        const int Count = 300;
        await using var server = new WebSocketServer(new WebSocketServerOptions
        {
            BindAddress = System.Net.IPAddress.Loopback,
            Port = 0,
            PingInterval = TimeSpan.Zero,
            EventQueueCapacity = 4,
        });
        server.Start();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        using var client = new ClientWebSocket();
        await client.ConnectAsync(new Uri($"ws://127.0.0.1:{server.LocalEndPoint.Port}/"), timeout.Token);
        for (var i = 0; i < Count; i++)
            await client.SendAsync(Encoding.UTF8.GetBytes($"m{i}"), WebSocketMessageType.Text, true, timeout.Token);

        var received = new List<string>();
        await foreach (var serverEvent in server.Events.ReadAllAsync(timeout.Token))
        {
            if (serverEvent is not MessageReceived message)
                continue;
            received.Add(Encoding.UTF8.GetString(message.Message.Payload.Span));
            message.Dispose();
            if (received.Count == Count)
                break;
        }
        Assert.Equal(Enumerable.Range(0, Count).Select(i => $"m{i}"), received);
    }

    [Fact]
    public async Task EchoToAClientThatReadsLate_FillsTheSocket_ThenEveryEchoArrivesWholeAndInOrder()
    {
        // The handler's echo writes small frames straight from the stack while the socket takes them; once the
        // client's window and the server's send buffer are full, the part the kernel did not take goes out
        // asynchronously and later echoes queue behind it. A client with a small receive buffer that reads nothing
        // until it has sent 12,000 messages (6.6 MB, more than the 4 MB a send buffer grows to by default) makes
        // that happen; then every echo must arrive whole, in order. Fails (times out) when a frame's remainder is
        // lost.
        const int Count = 12000;
        await using var server = TestServer.Start(echo: false, o =>
        {
            o.MaxQueuedBytesPerClient = 16 * 1024 * 1024;
            o.MessageHandler = (s, id, type, payload) => s.Send(id, type, payload);
            o.PublishMessageEvents = false;
        });
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        using var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (context, cancel) =>
            {
                var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = 4096 };
                await socket.ConnectAsync(context.DnsEndPoint, cancel);
                return new NetworkStream(socket, ownsSocket: true);
            },
        };
        using var invoker = new HttpMessageInvoker(handler);
        using var client = new ClientWebSocket();
        await client.ConnectAsync(server.Uri, invoker, timeout.Token);
        static string Message(int i) => $"echo {i:D5} " + new string((char)('a' + (i % 26)), 300 + (i % 200));
        for (var i = 0; i < Count; i++)
            await client.SendAsync(Encoding.UTF8.GetBytes(Message(i)), WebSocketMessageType.Text, true, timeout.Token);

        var buffer = new byte[4096];
        for (var i = 0; i < Count; i++)
        {
            var filled = 0;
            ValueWebSocketReceiveResult result;
            do
            {
                result = await client.ReceiveAsync(buffer.AsMemory(filled), timeout.Token);
                filled += result.Count;
            }
            while (!result.EndOfMessage);
            Assert.Equal(WebSocketMessageType.Text, result.MessageType);
            Assert.Equal(Message(i), Encoding.UTF8.GetString(buffer, 0, filled));
        }
        Assert.Equal(0, server.Server.SlowClientsDropped);
    }
}
