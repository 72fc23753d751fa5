using System.Collections.Concurrent;
using System.Diagnostics;
using Serilog;
using WsCore.WebSockets.Protocol;
using WsCore.WebSockets.Server;

namespace WsCore.Cluster;

/// <summary>
/// Makes one <see cref="WebSocketServer"/> an instance of a cluster of servers that act as one, through a
/// <see cref="IClusterBackplane"/> (Redis): broadcasts reach every client of every instance exactly once, the counter
/// is one sequence published by the instance holding a lease, client ids are unique across the cluster, any instance
/// lists and sends to every client, and <see cref="ClusterOptions.MaxClients"/> bounds the whole cluster.
/// </summary>
/// <remarks>
/// <para>Exactly once: an instance delivers its own broadcasts to its own clients at once and publishes them once;
/// every instance delivers what others published and skips its own. Redis pub/sub delivers each message at most once,
/// so nothing is doubled; what cannot be delivered (Redis unreachable) is counted and logged.</para>
/// <para>Lifecycle: <see cref="ConnectAsync"/> before the server listens (fails early, or serves alone with
/// <see cref="ClusterOptions.Optional"/>); hand <see cref="NextClientId"/> and the node (as
/// <see cref="IClientAdmission"/>) to the server's options; <see cref="StartAsync"/> once the server listens;
/// dispose before stopping the server (the instance leaves, so its slots and lease go back at once).</para>
/// <para>Thread-safety: every public member may be called from any thread.</para>
/// </remarks>
public sealed partial class ClusterNode : IClientAdmission, IAsyncDisposable
{
    private readonly ClusterOptions _options;
    private readonly IClusterBackplane _backplane;
    private readonly ILogger _log;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentDictionary<long, PendingRequest> _pending = new();
    private readonly Lock _idLock = new();
    private WebSocketServer? _server;
    private Task _loops = Task.CompletedTask;
    private bool _subscribed;
    private int _disposed;
    private long _nextRequestId;

    // Client ids (see "Ids without repeats" below): the current block [_idNext, _idEnd), and the next one once reserved
    // (0: none yet); whether a block ever came from Redis; what was logged about them.
    private int _idNext = 1;
    private int _idEnd = 1;
    private int _nextBlock;
    private bool _reserving;
    private bool _idsFromStore;
    private bool _aloneIdsLogged;
    private bool _outOfIdsLogged;
    private bool _settleLogged;

    private long _highestCounter;
    private long _leaseUntil;
    private bool _leader;
    private int _slotsHeld;
    private bool _admissionWarned;
    private int _otherInstances;
    private int _otherClients;

    // Cluster messages this instance could not publish (Redis unreachable), and publications that reached fewer
    // instances than were alive (one cut off or gone): both logged, never silently dropped.
    private long _undelivered;
    private long _undeliveredLogged;
    private long _undeliveredAtLoss;
    private long _missed;
    private long _missedLogged;
    private long _lastOutageLog;
    private long _lastPublishFailureLog;

    private ClusterNode(ClusterOptions options, IClusterBackplane backplane)
    {
        _options = options;
        _backplane = backplane;
        _log = options.Logger;
        _backplane.ConnectionChanged += OnConnectionChanged;
    }

    /// <summary>This instance's name in the cluster (HOST:PORT by default); empty before <see
    /// cref="StartAsync"/>.</summary>
    public string Instance { get; private set; } = "";

    /// <summary>The options the node was made with.</summary>
    public ClusterOptions Options => _options;

    /// <summary>True while Redis is reachable.</summary>
    public bool IsConnected => _backplane.IsConnected;

    /// <summary>Cluster messages this instance could not publish because Redis was unreachable.</summary>
    public long Undelivered => Interlocked.Read(ref _undelivered);

    /// <summary>
    /// Connects to the cluster's Redis and reserves the first client ids. Redis unreachable: a ConnectionFailed
    /// <see cref="WsCoreException"/>, or with <see cref="ClusterOptions.Optional"/> a warning and a node that joins
    /// once Redis answers.
    /// </summary>
    /// <param name="options">The cluster.</param>
    /// <param name="backplane">The store to use instead of Redis at <see cref="ClusterOptions.Address"/>
    /// (tests).</param>
    public static async Task<ClusterNode> ConnectAsync(ClusterOptions options, IClusterBackplane? backplane = null)
    {
        options.Validate();
        backplane ??= await RedisBackplane.ConnectAsync(options.Address, options.Name, "wsctl-serve", !options.Optional,
            options.ConnectTimeout, options.Logger);
        var node = new ClusterNode(options, backplane);
        if (!backplane.IsConnected)
        {
            options.Logger.Warning("cannot reach the cluster's Redis at {Redis}: serving alone (the cluster is " +
                "optional) until it answers", backplane.Description);
            return node;
        }
        // A starting instance has no block to count from: it waits out a settle here, before anything listens.
        await node.ReserveBlockAsync();
        return node;
    }

    /// <summary>
    /// Joins the cluster as <paramref name="instance"/> with <paramref name="server"/>'s clients: subscribes, says
    /// it is alive, and starts the heartbeat (and the counter, when <see cref="ClusterOptions.CounterInterval"/> is
    /// set).
    /// </summary>
    public async Task StartAsync(WebSocketServer server, string instance)
    {
        if (_server is not null)
            throw new InvalidOperationException("The node is already started.");
        if (System.Text.Encoding.UTF8.GetByteCount(instance) is 0 or > ClusterCodec.MaxStringBytes)
            throw WsCoreException.Invalid(InputField.ClusterInstance, "1 to 255 bytes");
        Instance = instance;
        _server = server;
        if (_backplane.IsConnected)
        {
            try
            {
                await JoinAsync();
            }
            catch (WsCoreException e)
            {
                _log.Warning("joining the cluster failed ({Error}); retrying with the heartbeat", e.Message);
            }
        }
        _loops = Task.WhenAll(HeartbeatLoopAsync(), _options.CounterInterval is { } interval
            ? CounterLoopAsync(interval) : Task.CompletedTask);
    }

    /// <summary>
    /// Sends a message to every client of the cluster: the others' through one publish, this instance's at once.
    /// Returns how many of this instance's clients it was queued for.
    /// </summary>
    public int Broadcast(MessageType type, ReadOnlySpan<byte> payload)
    {
        // Publish first: the other instances then fan out while this one does, instead of after it.
        Publish(null, ClusterCodec.EncodeBroadcast(Instance, type, payload), countMissed: true);
        return _server?.Send(WebSocketServer.AllClients, type, payload) ?? 0;
    }

    /// <summary>
    /// <see cref="Broadcast"/> for the control socket: returns how many clients of the cluster it went to, this
    /// instance's that it was queued for plus the other live instances' as counted in Redis.
    /// </summary>
    public async Task<int> BroadcastCountedAsync(MessageType type, ReadOnlyMemory<byte> payload)
    {
        var local = Broadcast(type, payload.Span);
        if (!_backplane.IsConnected)
            return local;
        try
        {
            return local + (await _backplane.LiveInstancesAsync()).Where(i => i.Key != Instance).Sum(i => i.Value);
        }
        catch (WsCoreException)
        {
            return local;
        }
    }

    /// <summary>A <see cref="MessageHandler"/> that relays every client's message to every client of the
    /// cluster.</summary>
    public void Relay(WebSocketServer server, int clientId, MessageType type, ReadOnlySpan<byte> payload) =>
        Broadcast(type, payload);

    /// <summary>
    /// Sends to one client wherever it is connected: here, or through the instance that has it. False when no
    /// instance answered that it has it within <see cref="ClusterOptions.RequestTimeout"/>.
    /// </summary>
    public async Task<bool> SendAsync(int clientId, MessageType type, ReadOnlyMemory<byte> payload)
    {
        if (_server is { } server && server.Send(clientId, type, payload.Span) > 0)
            return true;
        if (!_backplane.IsConnected || clientId <= 0)
            return false;
        var pending = await AskAsync(new ClusterMessage(ClusterMessageKind.Request, Instance)
        {
            Operation = ClusterRequestOperation.Send,
            ClientId = clientId,
            Type = type,
            Payload = payload,
        });
        return pending.Delivered;
    }

    /// <summary>
    /// Every client of the cluster with its instance, by id: this instance's, and those of every other instance that
    /// answered within <see cref="ClusterOptions.RequestTimeout"/> (instances that did not are logged).
    /// </summary>
    public async Task<IReadOnlyList<ClusterClient>> ListAsync()
    {
        var clients = new List<ClusterClient>(LocalClients());
        if (_backplane.IsConnected)
        {
            var pending = await AskAsync(new ClusterMessage(ClusterMessageKind.Request, Instance));
            clients.AddRange(pending.Clients);
        }
        else
        {
            _log.Warning("listing this instance's clients only: the cluster's Redis is unreachable");
        }
        return [.. clients.OrderBy(c => c.Id)];
    }

    // Ids without repeats. A client id is unique in the cluster because it comes from a block that Redis's ids key
    // handed to one instance only: a block starts above the key, and the key moves past it. Two things could break
    // that, and each has its rule:
    //
    // 1. An id from no block. While Redis is away an instance hands out only what it holds: the rest of its block and
    //    the next one (reserved when half the current one is used, so at least half a block). Once those are gone it
    //    has no id to give, and the server refuses the client (503, Retry-After) rather than counting on into ids
    //    another instance may hold. The one exception is an instance that never had a block (--cluster-optional with
    //    Redis down since it started): it serves alone, a server of its own, with ids from 1 (logged as such).
    //
    // 2. Redis forgetting the key (restarted without persistence, flushed, evicted) while instances still hold
    //    blocks: the next block would start at 1 again. So every heartbeat and reservation raises the key to the
    //    instance's floor (the highest id it holds, handed out or reserved: its blocks only go up, so the floor
    //    covers every id it has), and a store that holds nothing of the cluster hands out no block for a settle
    //    (IdSettle) that gives every instance still running the time to do that: after a restart, to reconnect
    //    (ReconnectWithin) and send a heartbeat (within a lease); after data lost while Redis kept running, one
    //    heartbeat (a lease, after which the cluster counts a silent instance as dead anyway). A block reserved after
    //    the settle starts above every floor raised, so no live instance holds any of it. During the settle, an
    //    instance goes on with the ids it holds and, when they run out, refuses clients as in 1; an instance that is
    //    starting has no block to count from, so it waits for the settle to end before it listens (ConnectAsync). A
    //    store new to the cluster looks the same as one that lost it, so the first instance of a new cluster waits
    //    too, unless Redis has been up longer than the settle.
    //
    // Not covered: an instance cut off from Redis (not a restart: a partition) for longer than the whole settle while
    // Redis lost its data raises its floor only when it is back, after blocks below it may have been handed out; and
    // the ids of an instance that served alone (the exception in 1). Those may repeat another instance's.

    /// <summary>
    /// The next client id (for <see cref="WebSocketServerOptions.ClientIds"/>), from a block reserved in Redis; the
    /// next block is reserved in the background when half of this one is used. 0 when this instance has no id left
    /// that no other instance can hold (Redis away or settling after it lost its data): the server then refuses the
    /// client.
    /// </summary>
    public int NextClientId()
    {
        int id;
        bool reserve;
        bool alone;
        lock (_idLock)
        {
            alone = !_idsFromStore;
            if (_idNext >= _idEnd && _nextBlock != 0)
                (_idNext, _idEnd, _nextBlock) = (_nextBlock, _nextBlock + _options.IdBlockSize, 0);
            if (_idNext < _idEnd)
                id = _idNext++;
            else if (alone)
            {
                // Serving alone: no block ever came, so this instance is a server of its own for now.
                id = _idNext++;
                _idEnd = _idNext;
            }
            else
                id = 0;
            reserve = !_reserving && _nextBlock == 0 && _idEnd - _idNext < _options.IdBlockSize / 2
                && _backplane.IsConnected;
            _reserving |= reserve;
        }
        // Outside the lock: the reservation's Redis call starts synchronously.
        if (reserve)
            _ = ReserveBlockAsync();
        if (id == 0)
            LogOutOfIds();
        else if (alone)
            LogAloneIds(id);
        return id;
    }

    /// <inheritdoc/>
    public string RefusalText =>
        $"cluster full: at most {_options.MaxClients} WebSocket clients in the cluster; try again later";

    /// <inheritdoc/>
    public async ValueTask<bool> TryAdmitAsync()
    {
        // Without a cluster limit the slots are still counted: they are the cluster's client count.
        var max = _options.MaxClients ?? int.MaxValue;
        // Before the instance has a name (it is joining), the first heartbeat reports what was admitted.
        if (_backplane.IsConnected && Instance.Length > 0)
        {
            try
            {
                if (!await _backplane.TryTakeSlotAsync(Instance, max, _options.Lease))
                    return false;
                Interlocked.Increment(ref _slotsHeld);
                return true;
            }
            catch (WsCoreException)
            {
            }
        }
        if (Instance.Length > 0 && !_admissionWarned)
        {
            _admissionWarned = true;
            _log.Warning("cannot count the cluster's clients (Redis unreachable): admitting up to this instance's " +
                "own client limit only");
        }
        Interlocked.Increment(ref _slotsHeld);
        return true;
    }

    /// <inheritdoc/>
    public void Release()
    {
        Interlocked.Decrement(ref _slotsHeld);
        if (!_backplane.IsConnected || Instance.Length == 0)
            return;
        // The heartbeat sets this instance's count anyway: a release lost with Redis is corrected within a third of a
        // lease.
        _backplane.ReleaseSlotAsync(Instance).ContinueWith(t => _ = t.Exception, TaskContinuationOptions.OnlyOnFaulted);
    }

    /// <summary>Stops the heartbeat and the counter and leaves the cluster (slots, liveness and lease go back at
    /// once).</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        await _stop.CancelAsync();
        await _loops;
        if (_backplane.IsConnected && Instance.Length > 0)
        {
            try
            {
                await _backplane.LeaveAsync(Instance);
            }
            catch (WsCoreException e)
            {
                _log.Debug("leaving the cluster: {Error}", e.Message);
            }
        }
        LogUndelivered(final: true);
        _backplane.ConnectionChanged -= OnConnectionChanged;
        await _backplane.DisposeAsync();
        _stop.Dispose();
    }

    private IEnumerable<ClusterClient> LocalClients() => (_server?.GetClients() ?? []).Select(c =>
        new ClusterClient(c.Id, Instance, c.RemoteEndPoint.ToString(), c.ConnectedAt, c.MessagesIn, c.MessagesOut));

    private async Task JoinAsync()
    {
        if (!_subscribed)
        {
            await _backplane.SubscribeAsync(Instance, OnMessage);
            _subscribed = true;
            await HeartbeatAsync();
            _log.Information("joined cluster {Name} on {Redis} as {Instance} ({Others} other instance(s))",
                _options.Name, _backplane.Description, Instance, Volatile.Read(ref _otherInstances));
        }
    }

    // The highest id this instance holds (handed out or reserved): no block reserved later may start below it.
    private int IdFloor()
    {
        lock (_idLock)
            return Math.Max(_idEnd, _nextBlock == 0 ? 0 : _nextBlock + _options.IdBlockSize) - 1;
    }

    // How long blocks are held back when Redis holds nothing of the cluster (see "Ids without repeats").
    private IdSettle Settle => new(_backplane.ReconnectWithin + _options.Lease, _options.Lease);

    // Reserves the next block, waiting out a settle; gives up (logged) when Redis fails or the node stops, and a
    // later id or heartbeat starts it again.
    private async Task ReserveBlockAsync()
    {
        try
        {
            while (true)
            {
                var reservation = await _backplane.ReserveIdsAsync(_options.IdBlockSize, IdFloor(), Settle);
                if (reservation.First > 0)
                {
                    InstallBlock(reservation.First);
                    return;
                }
                if (!_settleLogged)
                {
                    _settleLogged = true;
                    _log.Information("the cluster's Redis holds no client ids of cluster {Name} (new, restarted " +
                        "empty or flushed): blocks wait {Seconds:0.#} s for running instances to re-register theirs",
                        _options.Name, reservation.HeldBackFor.TotalSeconds);
                }
                await Task.Delay(reservation.HeldBackFor, _stop.Token);
            }
        }
        catch (WsCoreException e)
        {
            _log.Debug("reserving client ids: {Error}", e.Message);
        }
        catch (OperationCanceledException)
        {
        }
        finally
        {
            lock (_idLock)
                _reserving = false;
        }
    }

    private void InstallBlock(int start)
    {
        lock (_idLock)
        {
            // The first block from Redis also replaces what an instance serving alone counted (its floor went into the
            // reservation, so the block starts above it).
            if (_idNext >= _idEnd || !_idsFromStore)
                (_idNext, _idEnd) = (start, start + _options.IdBlockSize);
            else
                _nextBlock = start;
            _idsFromStore = true;
            _outOfIdsLogged = false;
            _settleLogged = false;
        }
    }

    // Starts a reservation when this instance is short of ids and none is under way (after Redis came back, or a
    // settle ended, with no client asking meanwhile).
    private void TopUpIds()
    {
        lock (_idLock)
        {
            if (_reserving || _nextBlock != 0 || (_idsFromStore && _idEnd - _idNext >= _options.IdBlockSize / 2))
                return;
            _reserving = true;
        }
        _ = ReserveBlockAsync();
    }

    private void LogOutOfIds()
    {
        lock (_idLock)
        {
            if (_outOfIdsLogged)
                return;
            _outOfIdsLogged = true;
        }
        _log.Warning("no client ids left on this instance: new clients are refused (503) until {Until}",
            _backplane.IsConnected ? "the next block of ids comes from the cluster's Redis"
                : "the cluster's Redis answers again");
    }

    private void LogAloneIds(int id)
    {
        lock (_idLock)
        {
            if (_aloneIdsLogged)
                return;
            _aloneIdsLogged = true;
        }
        _log.Warning("no client ids reserved in Redis: this instance counts its own from {Id} while it serves alone; " +
            "they may repeat another instance's", id);
    }
}
