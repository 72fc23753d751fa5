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

    // Client ids: the current block [_idNext, _idEnd), and the next one once reserved (0: none yet).
    private int _idNext = 1;
    private int _idEnd = 1;
    private int _nextBlock;
    private bool _reserving;
    private bool _idWarned;

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

    /// <summary>True while this instance holds the counter lease (and so publishes the counter).</summary>
    public bool IsCounterLeader => Volatile.Read(ref _leader);

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
            options.ConnectTimeout);
        var node = new ClusterNode(options, backplane);
        if (!backplane.IsConnected)
        {
            options.Logger.Warning("cannot reach the cluster's Redis at {Redis}: serving alone (the cluster is " +
                "optional) until it answers", backplane.Description);
            return node;
        }
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

    /// <summary>
    /// The next client id (for <see cref="WebSocketServerOptions.ClientIds"/>): from a block reserved in Redis, the
    /// next block reserved in the background when half of this one is used.
    /// </summary>
    public int NextClientId()
    {
        lock (_idLock)
        {
            if (_idNext >= _idEnd)
            {
                if (_nextBlock != 0)
                {
                    (_idNext, _idEnd, _nextBlock) = (_nextBlock, _nextBlock + _options.IdBlockSize, 0);
                }
                else
                {
                    // No block from Redis (unreachable): keep counting on; unique here, maybe not across the cluster.
                    _idEnd = _idNext + 1;
                    if (!_idWarned)
                    {
                        _idWarned = true;
                        _log.Warning("no client ids reserved in Redis: counting on from {Id}; ids may repeat another " +
                            "instance's until Redis is back", _idNext);
                    }
                }
            }
            var id = _idNext++;
            if (!_reserving && _nextBlock == 0 && _idEnd - _idNext < _options.IdBlockSize / 2 && _backplane.IsConnected)
            {
                _reserving = true;
                _ = ReserveBlockAsync();
            }
            return id;
        }
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

    private async Task ReserveBlockAsync()
    {
        var floor = IdFloor();
        try
        {
            var start = await _backplane.ReserveIdsAsync(_options.IdBlockSize, floor);
            lock (_idLock)
            {
                if (_idNext >= _idEnd || _idEnd == 1)
                    (_idNext, _idEnd) = (start, start + _options.IdBlockSize);
                else
                    _nextBlock = start;
            }
        }
        catch (WsCoreException e)
        {
            _log.Debug("reserving client ids: {Error}", e.Message);
        }
        finally
        {
            lock (_idLock)
                _reserving = false;
        }
    }
}
