using System.Buffers.Binary;
using WsCore.Bench;
using WsCore.Tests.Support;
using WsCore.WebSockets.Server;

namespace WsCore.Tests.Bench;

/// <summary>
/// The load generator in process against an in-process server that misbehaves on purpose: answers changed in
/// transit, messages nobody asked for, a run stopped early, progress while it runs.
/// </summary>
public sealed class LoadGeneratorTests
{
    private static BenchOptions Echo(TestServer server, TimeSpan duration) =>
        new(server.Uri, BenchMode.Echo, Clients: 2, MessageBytes: 32, duration);

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task EchoJson_WithAndWithoutCompression_AnsweredAndWireBytesCounted(bool compress)
    {
        await using var server = TestServer.Start(echo: false, o =>
        {
            o.Compression = true;
            o.MessageHandler = (s, id, type, payload) => s.Send(id, type, payload);
            o.PublishMessageEvents = false;
        });
        var options = new BenchOptions(server.Uri, BenchMode.Echo, 2, 256, TimeSpan.FromMilliseconds(500))
        {
            Compression = compress,
            JsonPayload = true,
        };

        var result = await LoadGenerator.RunAsync(options);

        Assert.True(result.MessagesReceived > 10, $"{result.MessagesReceived} answered");
        Assert.Equal(0, result.Errors);
        Assert.Equal(compress ? "permessage-deflate" : null, result.Compression);
        var perRoundTrip = (double)(result.WireBytesSent + result.WireBytesReceived) / result.MessagesReceived;
        // Uncompressed: 256 bytes each way plus headers (8 masked, 4 not); compressed with context takeover the JSON
        // counter's repeated fields shrink to a few dozen bytes.
        if (compress)
            Assert.InRange(perRoundTrip, 10, 120);
        else
            Assert.InRange(perRoundTrip, 524, 530);
    }

    [Fact]
    public async Task Echo_ServerChangesTheLastByte_EveryAnswerAnErrorNoneCountedReceived()
    {
        await using var server = TestServer.Start(echo: false, o => o.MessageHandler = (s, id, type, payload) =>
        {
            var changed = payload.ToArray();
            changed[^1] ^= 0xFF;
            s.Send(id, type, changed);
        });

        var result = await LoadGenerator.RunAsync(Echo(server, TimeSpan.FromMilliseconds(300)));

        Assert.True(result.MessagesSent > 0);
        Assert.Equal(0, result.MessagesReceived);
        Assert.Equal(result.MessagesSent, result.Errors);
        Assert.Equal(0, result.Lost);
        Assert.Contains(result.ErrorSamples, e => e.Contains("corrupted", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Echo_ServerAlsoSendsTextAndAnotherClientsMessage_BothSkippedAsUnsolicited()
    {
        await using var server = TestServer.Start(echo: false, o => o.MessageHandler = (s, id, type, payload) =>
        {
            s.SendText(id, "{\"type\":\"message\",\"data\":{\"sensor\":\"counter\",\"value\":1}}");
            // Same kind and length, another connection's tag (the high half of the sequence number): not ours.
            var foreign = payload.ToArray();
            BinaryPrimitives.WriteInt64LittleEndian(
                foreign, BinaryPrimitives.ReadInt64LittleEndian(foreign) ^ (1L << 40));
            s.Send(id, type, foreign);
            s.Send(id, type, payload);
        });

        var result = await LoadGenerator.RunAsync(Echo(server, TimeSpan.FromMilliseconds(300)));

        Assert.True(result.MessagesReceived > 0);
        Assert.Equal(result.MessagesSent, result.MessagesReceived);
        Assert.Equal(2 * result.MessagesReceived, result.Unsolicited);
        Assert.Equal(0, result.Errors);
        Assert.Equal(0, result.Lost);
    }

    [Fact]
    public async Task Ping_ProgressWatched_ReportsCountsAndAMedianWhileRunning()
    {
        await using var server = TestServer.Start(echo: false);
        var reports = new List<BenchProgress>();
        var progress = new Collect(p =>
        {
            lock (reports)
                reports.Add(p);
        });
        var options = new BenchOptions(
            server.Uri,
            BenchMode.Ping,
            1,
            16,
            TimeSpan.FromSeconds(1))
        { ProgressInterval = TimeSpan.FromMilliseconds(100) };

        var result = await LoadGenerator.RunAsync(options, progress: progress);

        Assert.Equal(0, result.Errors);
        lock (reports)
        {
            Assert.NotEmpty(reports);
            Assert.All(reports, r => Assert.Equal(BenchMode.Ping, r.Mode));
            Assert.Contains(reports, r => r.Count > 0 && r.P50Microseconds > 0);
            Assert.True(reports.Zip(reports.Skip(1)).All(p => p.First.Count <= p.Second.Count), "counts only grow");
        }
    }

    [Fact]
    public async Task Ping_CancelledWhileMeasuring_PartialResultsMarkedInterrupted()
    {
        await using var server = TestServer.Start(echo: false);
        using var interrupt = new CancellationTokenSource();
        var progress = new Collect(p =>
        {
            if (p.Count > 0)
                interrupt.Cancel();
        });
        var options = new BenchOptions(
            server.Uri,
            BenchMode.Ping,
            2,
            32,
            TimeSpan.FromMinutes(5))
        { ProgressInterval = TimeSpan.FromMilliseconds(50) };

        var result = await LoadGenerator.RunAsync(
            options, cancel: interrupt.Token, progress: progress).WaitAsync(TimeSpan.FromMinutes(1));

        Assert.True(result.Interrupted);
        Assert.Equal(2, result.Connected);
        Assert.True(result.MessagesReceived > 0);
        Assert.Equal(0, result.Lost);
        Assert.Equal(0, result.Errors);
    }

    [Fact]
    public async Task Ping_SizeAbove125_InvalidInputBeforeConnecting()
    {
        var options = new BenchOptions(new Uri("ws://127.0.0.1:9/"), BenchMode.Ping, 1, 126, TimeSpan.FromSeconds(1));

        var error = await Assert.ThrowsAsync<WsCoreException>(() => LoadGenerator.RunAsync(options));

        Assert.Equal(FailureKind.InvalidInput, error.Kind);
        Assert.Contains("125", error.Message);
    }

    /// <summary>Calls back on the reporting thread itself (Progress&lt;T&gt; would post to a context).</summary>
    private sealed class Collect(Action<BenchProgress> report) : IProgress<BenchProgress>
    {
        public void Report(BenchProgress value) => report(value);
    }

    [Fact]
    public async Task Echo_AlsoTargets_ConnectionsSpreadOverTheServersInTurns()
    {
        await using var first = TestServer.Start();
        await using var second = TestServer.Start();
        await using var third = TestServer.Start();
        var duration = TimeSpan.FromMilliseconds(300);
        var options = new BenchOptions(first.Uri, BenchMode.Echo, Clients: 7, MessageBytes: 32, duration)
        {
            AlsoTargets = [second.Uri, third.Uri],
            ProgressInterval = TimeSpan.FromMilliseconds(50),
        };
        var connectedAt = new List<int>();
        var result = await LoadGenerator.RunAsync(options, progress: new Progress<BenchProgress>(_ =>
        {
            lock (connectedAt)
                if (connectedAt.Count == 0)
                    connectedAt.AddRange([.. new[] { first, second, third }.Select(s => s.Server.ClientCount)]);
        }));

        Assert.Equal(0, result.Errors);
        Assert.True(result.MessagesReceived > 0);
        Assert.Equal([3, 2, 2], connectedAt);
    }

    [Fact]
    public async Task Broadcast_AlsoTargets_LatencyOfEachServersClients()
    {
        // Two servers that act as one (the first relays every message to its own clients and the second's), as
        // serve --cluster does through Redis.
        await using var second = TestServer.Start(echo: false);
        await using var first = TestServer.Start(echo: false, o => o.MessageHandler = (s, id, type, payload) =>
        {
            s.Send(WebSocketServer.AllClients, type, payload);
            second.Server.Send(WebSocketServer.AllClients, type, payload);
        });
        var options = new BenchOptions(first.Uri, BenchMode.Broadcast, Clients: 5, MessageBytes: 32,
            TimeSpan.FromMilliseconds(400))
        {
            AlsoTargets = [second.Uri],
            Rate = 50,
        };

        var result = await LoadGenerator.RunAsync(options).WaitAsync(TimeSpan.FromMinutes(1));

        Assert.Equal((0, 0L), (result.Errors, result.Lost));
        Assert.Equal(2, result.LatencyByServer.Count);
        // Connections go to the servers in turns: 3 to the first (the sender among them), 2 to the second.
        Assert.Equal(result.MessagesSent * 3, result.LatencyByServer[0].Count);
        Assert.Equal(result.MessagesSent * 2, result.LatencyByServer[1].Count);
        Assert.Equal(result.Latency.Count, result.LatencyByServer.Sum(l => l.Count));
        Assert.All(result.LatencyByServer, l => Assert.True(l.P50 > 0 && l.P99 >= l.P50));
    }

    [Fact]
    public async Task Broadcast_AlsoTargetsHandshakesCompleteFirst_SenderIsStillAClientOfTheTarget()
    {
        // The target relays to every client of both servers; the other relays nothing. The target admits its
        // clients only once both of the other's are connected, so the other's handshakes complete first.
        await using var other = TestServer.Start(echo: false);
        await using var target = TestServer.Start(echo: false, o =>
        {
            o.MessageHandler = (s, id, type, payload) =>
            {
                s.Send(WebSocketServer.AllClients, type, payload);
                other.Server.Send(WebSocketServer.AllClients, type, payload);
            };
            o.Admission = new AdmitOnce(() => other.Server.ClientCount == 2);
        });
        var options = new BenchOptions(target.Uri, BenchMode.Broadcast, Clients: 4, MessageBytes: 32,
            TimeSpan.FromMilliseconds(200))
        {
            AlsoTargets = [other.Uri],
            Rate = 50,
        };

        var result = await LoadGenerator.RunAsync(options).WaitAsync(TimeSpan.FromMinutes(1));

        Assert.Equal((4, 0L, 0L), (result.Connected, result.Errors, result.Lost));
        Assert.True(result.MessagesSent > 0);
        Assert.Equal(result.MessagesSent * 4, result.MessagesReceived);
    }

    /// <summary>Admits a client once <paramref name="ready"/> holds (within 30 s; refused past it).</summary>
    private sealed class AdmitOnce(Func<bool> ready) : IClientAdmission
    {
        public string RefusalText => "the test's condition never held";

        public async ValueTask<bool> TryAdmitAsync()
        {
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
            while (!ready())
            {
                if (DateTime.UtcNow > deadline)
                    return false;
                await Task.Delay(10);
            }
            return true;
        }

        public void Release()
        {
        }
    }

    [Fact]
    public async Task Broadcast_OneServer_NoLatencyByServer()
    {
        await using var server = TestServer.Start(echo: false, o => o.MessageHandler = (s, id, type, payload) =>
            s.Send(WebSocketServer.AllClients, type, payload));
        var options = new BenchOptions(server.Uri, BenchMode.Broadcast, Clients: 2, MessageBytes: 32,
            TimeSpan.FromMilliseconds(200))
        { Rate = 50 };

        var result = await LoadGenerator.RunAsync(options).WaitAsync(TimeSpan.FromMinutes(1));

        Assert.True(result.MessagesReceived > 0);
        Assert.Empty(result.LatencyByServer);
    }
}
