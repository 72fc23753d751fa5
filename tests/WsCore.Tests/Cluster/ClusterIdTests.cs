using System.Net;
using Serilog.Events;
using WsCore.Cluster;
using WsCore.Tests.Support;
using WsCore.WebSockets.Protocol;
using WsCore.WebSockets.Server;

namespace WsCore.Tests.Cluster;

/// <summary>
/// Client ids across a cluster when its Redis goes away and comes back empty: in-process nodes against a
/// private redis-server, handing out ids the way a server accepting clients does.
/// </summary>
public class ClusterIdTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private static string NewClusterName() => "ids" + Guid.NewGuid().ToString("N")[..8];

    /// <summary>
    /// The settle, at the store: a Redis that holds nothing of the cluster (here: just started, then flushed) holds
    /// blocks back while floors are raised, and the first block after it starts above every floor raised.
    /// </summary>
    [Fact]
    public async Task ReserveIds_StoreWithoutTheClustersState_HeldBackWhileFloorsAreRaised_ThenAboveThem()
    {
        await using var redis = await RedisServer.StartNewAsync();
        var name = NewClusterName();
        await using var a = await RedisBackplane.ConnectAsync(
            ClusterAddress.Parse(redis.Url), name, "test-a", mustConnect: true, TimeSpan.FromSeconds(5));
        await using var b = await RedisBackplane.ConnectAsync(
            ClusterAddress.Parse(redis.Url), name, "test-b", mustConnect: true, TimeSpan.FromSeconds(5));
        var settle = new IdSettle(AfterStoreStart: TimeSpan.FromSeconds(3), AfterFound: TimeSpan.FromSeconds(1));

        // Redis started a moment ago: blocks wait for what is left of 3 s from its start.
        var early = await a.ReserveIdsAsync(10, 0, settle);
        Assert.Equal(0, early.First);
        Assert.InRange(early.HeldBackFor, TimeSpan.FromMilliseconds(1), TimeSpan.FromSeconds(3));
        // Meanwhile B, running since before, raises the last id to the highest id it holds.
        await b.HeartbeatAsync("b", 0, TimeSpan.FromSeconds(5), idFloor: 500, counterFloor: 0, settle);
        Assert.Equal(501, await ReserveWhenSettledAsync(a, 10, floor: 0, settle));

        // Flushed while Redis runs: held back again (about AfterFound); A's own floor counts at once, B's heartbeat
        // within the settle counts too.
        await redis.CliAsync("FLUSHALL");
        var flushed = await a.ReserveIdsAsync(10, 510, settle);
        Assert.Equal(0, flushed.First);
        Assert.InRange(flushed.HeldBackFor, TimeSpan.FromMilliseconds(1), TimeSpan.FromSeconds(1));
        await b.HeartbeatAsync("b", 0, TimeSpan.FromSeconds(5), idFloor: 700, counterFloor: 0, settle);
        Assert.Equal(701, await ReserveWhenSettledAsync(a, 10, floor: 510, settle));
        Assert.Equal(711, await ReserveWhenSettledAsync(b, 10, floor: 700, settle));
    }

    private static async Task<int> ReserveWhenSettledAsync(IClusterBackplane backplane, int count, int floor,
        IdSettle settle)
    {
        using var deadline = new CancellationTokenSource(Timeout);
        while (true)
        {
            var reservation = await backplane.ReserveIdsAsync(count, floor, settle);
            if (reservation.First > 0)
                return reservation.First;
            await Task.Delay(reservation.HeldBackFor, deadline.Token);
        }
    }

    /// <summary>
    /// Three instances hand out ids as fast as they can (small blocks, so they reserve all the time) while Redis is
    /// killed, stays away until every instance has run out of ids, and comes back empty. No id is ever given twice,
    /// and every instance hands out ids again once the settle is over.
    /// </summary>
    [Fact]
    public async Task Cluster_RedisRestartedEmptyWhileInstancesHandOutIdsAsFastAsTheyCan_NoIdIsGivenTwice()
    {
        await using var redis = await RedisServer.StartNewAsync();
        var logs = new LogLines();
        var options = new ClusterOptions
        {
            Address = ClusterAddress.Parse(redis.Url),
            Name = NewClusterName(),
            Lease = TimeSpan.FromSeconds(1),
            IdBlockSize = 20,
            Logger = logs.Logger,
        };
        var instances = new List<IdHandingInstance>();
        try
        {
            for (var i = 0; i < 3; i++)
                instances.Add(await IdHandingInstance.StartAsync(options, $"n{i}"));

            await WaitUntilAsync(() => instances.All(i => i.Given >= 200), "every instance gave 200 ids");
            await redis.StopAsync();
            await WaitUntilAsync(() => instances.All(i => !i.Node.IsConnected), "every instance lost Redis");
            // More asked than any instance holds (two blocks of 20 at most): every one has run out meanwhile.
            var askedAtLoss = instances.Select(i => i.Asked).ToList();
            await WaitUntilAsync(() => instances.Select((i, n) => i.Asked > askedAtLoss[n] + 100).All(r => r),
                "every instance was asked for 100 more ids");
            await redis.StartAsync();
            var givenAtRestart = instances.Select(i => i.Given).ToList();
            await WaitUntilAsync(() => instances.Select((i, n) => i.Given >= givenAtRestart[n] + 200).All(g => g),
                "every instance gave 200 more ids after the restart");
        }
        finally
        {
            foreach (var instance in instances)
                await instance.DisposeAsync();
        }

        var owners = instances.SelectMany(i => i.Ids.Select(id => (Id: id, i.Name))).ToList();
        var repeated = owners.GroupBy(o => o.Id).Where(g => g.Count() > 1)
            .Select(g => $"{g.Key} ({string.Join(", ", g.Select(o => o.Name))})").Take(10).ToList();
        Assert.True(repeated.Count == 0, $"ids given twice: {string.Join("; ", repeated)}");
        Assert.Contains(logs.Lines, l => l.Text.Contains("blocks wait", StringComparison.Ordinal));
    }

    private static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        using var deadline = new CancellationTokenSource(Timeout);
        while (!condition())
        {
            try
            {
                await Task.Delay(20, deadline.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"not within {Timeout.TotalSeconds} s: {what}");
            }
        }
    }

    /// <summary>
    /// A cluster node with a server of its own, and a loop that takes ids as a server accepting clients without
    /// pause would: the next one at once, or after a millisecond when there was none to give.
    /// </summary>
    private sealed class IdHandingInstance : IAsyncDisposable
    {
        private readonly WebSocketServer _server;
        private readonly CancellationTokenSource _stop = new();
        private readonly List<int> _ids = [];
        private Task _loop = Task.CompletedTask;
        private int _refused;

        private IdHandingInstance(string name, ClusterNode node, WebSocketServer server)
        {
            Name = name;
            Node = node;
            _server = server;
        }

        public string Name { get; }

        public ClusterNode Node { get; }

        public int Given
        {
            get
            {
                lock (_ids)
                    return _ids.Count;
            }
        }

        public int Asked => Given + Volatile.Read(ref _refused);

        public IReadOnlyList<int> Ids
        {
            get
            {
                lock (_ids)
                    return [.. _ids];
            }
        }

        public static async Task<IdHandingInstance> StartAsync(ClusterOptions options, string name)
        {
            var server = new WebSocketServer(new WebSocketServerOptions { BindAddress = IPAddress.Loopback, Port = 0 });
            server.Start();
            var node = await ClusterNode.ConnectAsync(options);
            await node.StartAsync(server, name);
            var instance = new IdHandingInstance(name, node, server);
            instance._loop = Task.Run(instance.HandOutAsync);
            return instance;
        }

        private async Task HandOutAsync()
        {
            while (!_stop.IsCancellationRequested)
            {
                var id = Node.NextClientId();
                if (id > 0)
                {
                    lock (_ids)
                        _ids.Add(id);
                    continue;
                }
                Interlocked.Increment(ref _refused);
                try
                {
                    await Task.Delay(1, _stop.Token);
                }
                catch (OperationCanceledException)
                {
                }
            }
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            await _loop;
            await Node.DisposeAsync();
            await _server.DisposeAsync();
            _stop.Dispose();
        }
    }

    /// <summary>
    /// A store whose second id reservation holds its caller's thread inside the call (as a synchronous part of a
    /// client library may): whatever lock the caller holds then stays held.
    /// </summary>
    private sealed class SlowReservingBackplane : IClusterBackplane
    {
        private readonly ManualResetEventSlim _release = new();
        private int _reservations;

        public TaskCompletionSource SecondReservationEntered { get; } =
            new(TaskCreationOptions.RunContinuationsAsynchronously);

        public string Description => "scripted";
        public bool IsConnected => true;
        public TimeSpan ReconnectWithin => TimeSpan.FromSeconds(1);

        public event Action<bool, string>? ConnectionChanged
        {
            add { }
            remove { }
        }

        public void Release() => _release.Set();

        public Task<IdReservation> ReserveIdsAsync(int count, int floor, IdSettle settle)
        {
            if (Interlocked.Increment(ref _reservations) == 2)
            {
                SecondReservationEntered.SetResult();
                _release.Wait(Timeout);
            }
            return Task.FromResult(new IdReservation(floor + 1, TimeSpan.Zero));
        }

        public Task SubscribeAsync(string instance, Action<ReadOnlyMemory<byte>> onMessage) => Task.CompletedTask;
        public Task<long> PublishAsync(string? toInstance, byte[] message) => Task.FromResult(1L);
        public Task<IReadOnlyDictionary<string, int>> HeartbeatAsync(string instance, int clients, TimeSpan ttl,
            int idFloor, long counterFloor, IdSettle settle) => LiveInstancesAsync();
        public Task<IReadOnlyDictionary<string, int>> LiveInstancesAsync() =>
            Task.FromResult<IReadOnlyDictionary<string, int>>(new Dictionary<string, int>());
        public Task<bool> TryTakeSlotAsync(string instance, int max, TimeSpan ttl) => Task.FromResult(true);
        public Task ReleaseSlotAsync(string instance) => Task.CompletedTask;
        public Task<bool> TryHoldLeaseAsync(string instance, TimeSpan lease) => Task.FromResult(false);
        public Task<long> NextCounterAsync(long floor) => Task.FromResult(floor + 1);
        public Task LeaveAsync(string instance) => Task.CompletedTask;
        public ValueTask DisposeAsync()
        {
            _release.Set();
            return ValueTask.CompletedTask;
        }
    }

    [Fact]
    public async Task NextClientId_WhileAStoreCallForTheNextBlockIsUnderWay_OtherCallersAreNotHeldUp()
    {
        var backplane = new SlowReservingBackplane();
        var options = new ClusterOptions { Address = ClusterAddress.Parse("redis://127.0.0.1:1"), IdBlockSize = 10 };
        await using var node = await ClusterNode.ConnectAsync(options, backplane);
        for (var i = 1; i <= 5; i++)
            Assert.Equal(i, node.NextClientId());

        // The sixth leaves fewer than half a block: it starts the next reservation, which holds its thread.
        var sixth = Task.Run(node.NextClientId);
        await backplane.SecondReservationEntered.Task.WaitAsync(Timeout);
        // Another client accepted meanwhile gets its id at once: no lock is held across the store call.
        var seventh = Task.Run(node.NextClientId);
        Assert.Equal(7, await seventh.WaitAsync(TimeSpan.FromSeconds(10)));
        backplane.Release();
        Assert.Equal(6, await sixth.WaitAsync(Timeout));
    }

    /// <summary>
    /// A publish that fails on its way (Redis paused past the command timeout) is observed: counted as undelivered,
    /// and said in one short warning line; the library's diagnostic dump is only in the debug event.
    /// </summary>
    [Fact]
    public async Task Broadcast_PublishTimesOut_OneShortWarningLine_DumpOnlyAtDebug_CountedUndelivered()
    {
        await using var redis = await RedisServer.StartNewAsync();
        var logs = new LogLines();
        var options = new ClusterOptions
        {
            Address = ClusterAddress.Parse(redis.Url),
            Name = NewClusterName(),
            Lease = TimeSpan.FromSeconds(1),
            Logger = logs.Logger,
        };
        await using var server = new WebSocketServer(
            new WebSocketServerOptions { BindAddress = IPAddress.Loopback, Port = 0 });
        server.Start();
        await using var node = await ClusterNode.ConnectAsync(options);
        await node.StartAsync(server, "paused");

        await redis.CliAsync("CLIENT", "PAUSE", "5000", "ALL");
        node.Broadcast(MessageType.Text, "while Redis does not answer"u8);
        var warning = await logs.WaitForAsync(
            l => l.Text.StartsWith("a cluster message could not be published: ", StringComparison.Ordinal), Timeout);

        Assert.Equal(LogEventLevel.Warning, warning.Level);
        Assert.Null(warning.Exception);
        Assert.DoesNotContain('\n', warning.Text);
        Assert.Contains("PUBLISH", warning.Text);
        var debug = Assert.Single(logs.Lines, l => l.Text == "cluster publish failed");
        Assert.Equal(LogEventLevel.Debug, debug.Level);
        Assert.NotNull(debug.Exception);
        Assert.Equal(1, node.Undelivered);
    }
}
