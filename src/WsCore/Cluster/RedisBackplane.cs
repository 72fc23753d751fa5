using System.Diagnostics;
using StackExchange.Redis;

namespace WsCore.Cluster;

/// <summary>
/// <see cref="IClusterBackplane"/> on Redis through StackExchange.Redis: pub/sub for messages, one multiplexed
/// connection, and small Lua scripts so that each read-check-write on the shared state is atomic. Every key of the
/// cluster NAME starts with <c>wsctl:{NAME}:</c> (the braces keep them in one hash slot).
/// </summary>
/// <remarks>
/// <para>Keys: <c>instances</c> (sorted set: instance → expiry in Redis's own ms clock), <c>slots</c> (hash: instance →
/// clients), <c>counter</c> and <c>ids</c> (integers), <c>ids-settled-at</c> (when id blocks may be handed out; see
/// <see cref="IdSettle"/>), <c>counter-lease</c> (the holder, with PX). Channels:
/// <c>bus</c>, and <c>to:INSTANCE</c> for replies.</para>
/// <para>While Redis is unreachable, commands fail at once (BacklogPolicy.FailFast) instead of queueing: a broadcast
/// delivered minutes late would be worse than one counted as lost. Reconnection is the library's, with exponential
/// backoff from 250 ms to 2 s.</para>
/// </remarks>
public sealed class RedisBackplane : IClusterBackplane
{
    // Expired instances leave both the liveness set and the slot counts; Redis's TIME is the one clock (instances'
    // clocks may differ). Shared by the heartbeat and the slot taking.
    private const string ExpireDead = """
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        local dead = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now)
        for _, id in ipairs(dead) do redis.call('HDEL', KEYS[2], id) end
        redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
        """;

    // When client-id blocks may be handed out again (KEYS: ids-settled-at), in Redis's ms clock. The key's absence
    // means Redis holds nothing of the cluster: new, restarted empty, flushed or evicted. Running instances may then
    // hold ids from blocks it forgot, so blocks wait until all of them can have raised the last id (their
    // heartbeats): from Redis's start for a restart (uptime_in_seconds is whole seconds, rounded down: the start
    // taken is the latest it can be), from now for state lost while Redis kept running.
    private const string IdsSettledAtFunction = """
        local function ids_settled_at(key, now, after_start, after_found)
          local at = redis.call('GET', key)
          if at then return tonumber(at) end
          local uptime = tonumber(string.match(redis.call('INFO', 'server'), 'uptime_in_seconds:(%d+)')) or 0
          at = math.max(now - uptime * 1000 + after_start, now + after_found)
          redis.call('SET', key, at)
          return at
        end

        """;

    private const string HeartbeatScript = IdsSettledAtFunction + ExpireDead + """

        redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
        redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
        for i = 3, 4 do
          if tonumber(redis.call('GET', KEYS[i]) or '0') < tonumber(ARGV[i + 1]) then
            redis.call('SET', KEYS[i], ARGV[i + 1])
          end
        end
        ids_settled_at(KEYS[5], now, tonumber(ARGV[6]), tonumber(ARGV[7]))
        """ + ListLive;

    private const string ListLive = """

        local live = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. now, '+inf')
        local result = {}
        for _, id in ipairs(live) do
          table.insert(result, id)
          table.insert(result, tonumber(redis.call('HGET', KEYS[2], id) or '0'))
        end
        return result
        """;

    private const string LiveScript = """
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        """ + ListLive;

    private const string TakeSlotScript = ExpireDead + """

        local total = 0
        for _, v in ipairs(redis.call('HVALS', KEYS[2])) do total = total + tonumber(v) end
        if total >= tonumber(ARGV[3]) then return 0 end
        redis.call('HINCRBY', KEYS[2], ARGV[1], 1)
        redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
        return 1
        """;

    private const string ReleaseSlotScript = """
        if redis.call('HINCRBY', KEYS[1], ARGV[1], -1) < 0 then redis.call('HSET', KEYS[1], ARGV[1], 0) end
        return 1
        """;

    private const string LeaseScript = """
        local holder = redis.call('GET', KEYS[1])
        if holder == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end
        if not holder then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1 end
        return 0
        """;

    private const string CounterScript = """
        local v = redis.call('INCR', KEYS[1])
        if v <= tonumber(ARGV[1]) then v = tonumber(ARGV[1]) + 1 redis.call('SET', KEYS[1], v) end
        return v
        """;

    // Returns {first id, 0}, or {0, ms blocks are held back} while the ids settle (the floor is raised either way).
    private const string ReserveIdsScript = IdsSettledAtFunction + """
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        local settled = ids_settled_at(KEYS[2], now, tonumber(ARGV[3]), tonumber(ARGV[4]))
        local current = tonumber(redis.call('GET', KEYS[1]) or '0')
        if current < tonumber(ARGV[2]) then current = tonumber(ARGV[2]) end
        if now < settled then
          redis.call('SET', KEYS[1], current)
          return {0, settled - now}
        end
        redis.call('SET', KEYS[1], current + tonumber(ARGV[1]))
        return {current + 1, 0}
        """;

    private const string LeaveScript = """
        redis.call('ZREM', KEYS[1], ARGV[1])
        redis.call('HDEL', KEYS[2], ARGV[1])
        if redis.call('GET', KEYS[3]) == ARGV[1] then redis.call('DEL', KEYS[3]) end
        return 1
        """;

    // Reconnection: a lost connection is tried again on the library's heartbeat, once the backoff's wait (random,
    // from the first wait up to one growing 10 % per attempt, at most the longest) has passed since the last try.
    private static readonly TimeSpan FirstReconnectWait = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan LongestReconnectWait = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan ReconnectCheckInterval = TimeSpan.FromSeconds(1);

    private readonly ConnectionMultiplexer _redis;
    private readonly IDatabase _db;
    private readonly string _prefix;
    private readonly RedisKey _instances;
    private readonly RedisKey _slots;
    private readonly RedisKey _counter;
    private readonly RedisKey _lease;
    private readonly RedisKey _ids;
    private readonly RedisKey _idsSettledAt;
    private readonly RedisChannel _bus;
    private readonly List<ChannelMessageQueue> _queues = [];
    private long _lostAt;
    private readonly Serilog.ILogger _log;

    private RedisBackplane(ConnectionMultiplexer redis, ClusterAddress address, string name, Serilog.ILogger? log)
    {
        _redis = redis;
        _log = log ?? Serilog.Core.Logger.None;
        Description = address.ToString();
        _db = redis.GetDatabase(address.Database);
        _prefix = $"wsctl:{{{name}}}:";
        _instances = _prefix + "instances";
        _slots = _prefix + "slots";
        _counter = _prefix + "counter";
        _lease = _prefix + "counter-lease";
        _ids = _prefix + "ids";
        _idsSettledAt = _prefix + "ids-settled-at";
        _bus = RedisChannel.Literal(_prefix + "bus");
        redis.ConnectionFailed += OnConnectionFailed;
        redis.ConnectionRestored += OnConnectionRestored;
    }

    private static T? Inner<T>(Exception e) where T : Exception
    {
        for (Exception? inner = e; inner is not null; inner = inner.InnerException)
            if (inner is T found)
                return found;
        return null;
    }

    /// <inheritdoc/>
    public string Description { get; }

    /// <inheritdoc/>
    public bool IsConnected => _redis.IsConnected;

    /// <inheritdoc/>
    public event Action<bool, string>? ConnectionChanged;

    /// <inheritdoc/>
    public TimeSpan ReconnectWithin => LongestReconnectWait + ReconnectCheckInterval;

    /// <summary>
    /// Connects to Redis. With <paramref name="mustConnect"/>, a Redis that does not answer within
    /// <paramref name="timeout"/> is a ConnectionFailed <see cref="WsCoreException"/>; without, the backplane is
    /// returned unconnected and keeps trying in the background. A refused login (ConnectionFailed) or certificate
    /// (Tls) fails either way: waiting does not mend it. <paramref name="log"/> gets the library's own diagnostics of
    /// a lost connection (debug level); the one-line reason goes to <see cref="ConnectionChanged"/>.
    /// </summary>
    public static async Task<RedisBackplane> ConnectAsync(ClusterAddress address, string clusterName, string clientName,
        bool mustConnect, TimeSpan timeout, Serilog.ILogger? log = null)
    {
        var config = new ConfigurationOptions
        {
            EndPoints = { address.EndPoint },
            DefaultDatabase = address.Database,
            AbortOnConnectFail = true,
            ConnectTimeout = (int)timeout.TotalMilliseconds,
            ConnectRetry = 1,
            AsyncTimeout = 2000,
            SyncTimeout = 2000,
            KeepAlive = 5,
            ClientName = clientName,
            ReconnectRetryPolicy = new ExponentialRetry(
                (int)FirstReconnectWait.TotalMilliseconds, (int)LongestReconnectWait.TotalMilliseconds),
            HeartbeatInterval = ReconnectCheckInterval,
            BacklogPolicy = BacklogPolicy.FailFast,
            User = address.User,
            Password = address.Password,
            Ssl = address.Tls,
            SslHost = address.Tls ? address.Host : null,
        };
        try
        {
            var redis = await ConnectionMultiplexer.ConnectAsync(config);
            return new RedisBackplane(redis, address, clusterName, log);
        }
        catch (RedisConnectionException e)
            when (!mustConnect && e.FailureType != ConnectionFailureType.AuthenticationFailure)
        {
            // Unreachable, and that may pass: connect in the background instead. A refused login or certificate
            // will not pass by waiting, so it fails below even then.
            config.AbortOnConnectFail = false;
            return new RedisBackplane(await ConnectionMultiplexer.ConnectAsync(config), address, clusterName, log);
        }
        catch (RedisConnectionException e) when (e.FailureType == ConnectionFailureType.AuthenticationFailure)
        {
            // The library reports a refused TLS handshake and a refused login the same way; the inner exception
            // tells them apart.
            if (Inner<System.Security.Authentication.AuthenticationException>(e) is { } tls)
                throw new WsCoreException(FailureKind.Tls,
                    $"TLS with the cluster's Redis at {address} failed: {tls.Message}",
                    "the server's certificate must be valid for the host and signed by a trusted root " +
                    "(SSL_CERT_FILE names extra roots)", e)
                { Field = InputField.ClusterAddress };
            throw new WsCoreException(FailureKind.ConnectionFailed,
                $"the cluster's Redis at {address} refused the login" +
                (address.Password is null ? " (it asks for a password; none was given)" : " (wrong user or password)"),
                "give the password Redis expects (requirepass, or the ACL user's)", e)
            { Field = InputField.ClusterAddress };
        }
        catch (RedisConnectionException e)
        {
            // The library's text is advice for its own API (abortConnect=false); it stays in the inner exception (-v).
            // What went wrong is found out the plain way: the name, then a TCP connection.
            throw new WsCoreException(FailureKind.ConnectionFailed,
                $"cannot reach the cluster's Redis at {address}: {await DiagnoseAsync(address, timeout)}",
                "start redis-server there, check the address, or serve alone until it is up",
                e)
            { HintField = InputField.ClusterOptional };
        }
    }

    // Why no connection to Redis could be made, in one phrase: the name did not resolve, the port refused, nothing
    // answered, or something answered TCP but not as Redis within the timeout.
    private static async Task<string> DiagnoseAsync(ClusterAddress address, TimeSpan timeout)
    {
        using var limit = new CancellationTokenSource(timeout);
        System.Net.IPAddress[] addresses;
        try
        {
            addresses = System.Net.IPAddress.TryParse(address.Host, out var literal)
                ? [literal]
                : await System.Net.Dns.GetHostAddressesAsync(address.Host, limit.Token);
        }
        catch (Exception e) when (e is System.Net.Sockets.SocketException or OperationCanceledException)
        {
            return $"the name {address.Host} does not resolve";
        }
        using var socket = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream,
            System.Net.Sockets.ProtocolType.Tcp);
        try
        {
            await socket.ConnectAsync(addresses, address.Port, limit.Token);
            return $"port {address.Port} accepts connections but did not answer as Redis within " +
                $"{timeout.TotalSeconds:0.#} s";
        }
        catch (System.Net.Sockets.SocketException e)
            when (e.SocketErrorCode == System.Net.Sockets.SocketError.ConnectionRefused)
        {
            return $"connection refused on port {address.Port} (nothing listens there)";
        }
        catch (System.Net.Sockets.SocketException e)
        {
            return $"{e.Message.TrimEnd('.')} (port {address.Port})";
        }
        catch (OperationCanceledException)
        {
            return $"no answer on port {address.Port} within {timeout.TotalSeconds:0.#} s";
        }
    }

    /// <inheritdoc/>
    public async Task SubscribeAsync(string instance, Action<ReadOnlyMemory<byte>> onMessage)
    {
        var subscriber = _redis.GetSubscriber();
        foreach (var channel in new[] { _bus, RedisChannel.Literal(_prefix + "to:" + instance) })
        {
            var queue = await Run(() => subscriber.SubscribeAsync(channel));
            // One handler call at a time per channel, in arrival order (unlike the callback overload).
            queue.OnMessage(message => onMessage((byte[])message.Message!));
            lock (_queues)
                _queues.Add(queue);
        }
    }

    /// <inheritdoc/>
    public Task<long> PublishAsync(string? toInstance, byte[] message) => Run(() => _redis.GetSubscriber().PublishAsync(
        toInstance is null ? _bus : RedisChannel.Literal(_prefix + "to:" + toInstance), message));

    /// <inheritdoc/>
    public async Task<IReadOnlyDictionary<string, int>> HeartbeatAsync(string instance, int clients, TimeSpan ttl,
        int idFloor, long counterFloor, IdSettle settle)
    {
        return Pairs((RedisResult[])(await Run(() => _db.ScriptEvaluateAsync(HeartbeatScript,
            [_instances, _slots, _ids, _counter, _idsSettledAt],
            [instance, (long)ttl.TotalMilliseconds, clients, idFloor, counterFloor,
             (long)settle.AfterStoreStart.TotalMilliseconds, (long)settle.AfterFound.TotalMilliseconds])))!);
    }

    // The live instances' list the scripts return: instance, slots, instance, slots…
    private static Dictionary<string, int> Pairs(RedisResult[] result)
    {
        var live = new Dictionary<string, int>(result.Length / 2);
        for (var i = 0; i + 1 < result.Length; i += 2)
            live[(string)result[i]!] = (int)result[i + 1];
        return live;
    }

    /// <inheritdoc/>
    public async Task<IReadOnlyDictionary<string, int>> LiveInstancesAsync() =>
        Pairs((RedisResult[])(await Run(() => _db.ScriptEvaluateAsync(LiveScript, [_instances, _slots])))!);

    /// <inheritdoc/>
    public async Task<bool> TryTakeSlotAsync(string instance, int max, TimeSpan ttl) =>
        (int)await Run(() => _db.ScriptEvaluateAsync(TakeSlotScript, [_instances, _slots],
            [instance, (long)ttl.TotalMilliseconds, max])) == 1;

    /// <inheritdoc/>
    public Task ReleaseSlotAsync(string instance) =>
        Run(() => _db.ScriptEvaluateAsync(ReleaseSlotScript, [_slots], [instance]));

    /// <inheritdoc/>
    public async Task<bool> TryHoldLeaseAsync(string instance, TimeSpan lease) =>
        (int)await Run(() => _db.ScriptEvaluateAsync(LeaseScript, [_lease],
            [instance, (long)lease.TotalMilliseconds])) == 1;

    /// <inheritdoc/>
    public async Task<long> NextCounterAsync(long floor) =>
        (long)await Run(() => _db.ScriptEvaluateAsync(CounterScript, [_counter], [floor]));

    /// <inheritdoc/>
    public async Task<IdReservation> ReserveIdsAsync(int count, int floor, IdSettle settle)
    {
        var result = (RedisResult[])(await Run(() => _db.ScriptEvaluateAsync(ReserveIdsScript, [_ids, _idsSettledAt],
            [count, floor, (long)settle.AfterStoreStart.TotalMilliseconds,
             (long)settle.AfterFound.TotalMilliseconds])))!;
        return new IdReservation((int)result[0], TimeSpan.FromMilliseconds((long)result[1]));
    }

    /// <inheritdoc/>
    public Task LeaveAsync(string instance) =>
        Run(() => _db.ScriptEvaluateAsync(LeaveScript, [_instances, _slots, _lease], [instance]));

    /// <summary>Unsubscribes and closes the connection.</summary>
    public async ValueTask DisposeAsync()
    {
        _redis.ConnectionFailed -= OnConnectionFailed;
        _redis.ConnectionRestored -= OnConnectionRestored;
        await _redis.CloseAsync(allowCommandsToComplete: false);
        await _redis.DisposeAsync();
    }

    private void OnConnectionFailed(object? sender, ConnectionFailedEventArgs e)
    {
        // Raised per connection (interactive and subscription): report the first only. The reason is the failure's
        // kind in words; the library's diagnostic text (buffers, states, timings) is for -v.
        if (Interlocked.CompareExchange(ref _lostAt, Stopwatch.GetTimestamp(), 0) == 0)
        {
            _log.Debug("Redis connection failed: {Detail}", e.Exception?.Message ?? e.FailureType.ToString());
            ConnectionChanged?.Invoke(false, e.FailureType switch
            {
                ConnectionFailureType.SocketClosed => "the connection was closed",
                ConnectionFailureType.SocketFailure => "the connection failed",
                ConnectionFailureType.UnableToConnect => "it does not accept connections",
                ConnectionFailureType.AuthenticationFailure => "it refused the login",
                ConnectionFailureType.Loading => "it is loading its data",
                _ => JsonWords(e.FailureType.ToString()),
            });
        }
    }

    private void OnConnectionRestored(object? sender, ConnectionFailedEventArgs e)
    {
        // Back when every connection is: commands and subscriptions both work again.
        if (!_redis.IsConnected)
            return;
        var lostAt = Interlocked.Exchange(ref _lostAt, 0);
        if (lostAt != 0)
            ConnectionChanged?.Invoke(true, $"{Stopwatch.GetElapsedTime(lostAt).TotalSeconds:0.0} s");
    }

    private static string FirstLine(string text)
    {
        var end = text.IndexOfAny(['\r', '\n']);
        return end < 0 ? text : text[..end];
    }

    // InternalFailure as "internal failure".
    private static string JsonWords(string name) =>
        string.Concat(name.Select((c, i) => char.IsUpper(c) && i > 0 ? " " + char.ToLowerInvariant(c)
            : char.ToLowerInvariant(c).ToString()));

    // Every Redis failure becomes the one error type WsCore throws.
    private static async Task<T> Run<T>(Func<Task<T>> operation)
    {
        try
        {
            return await operation();
        }
        catch (Exception e) when (e is RedisException or TimeoutException or ObjectDisposedException)
        {
            throw new WsCoreException(FailureKind.ConnectionEnded, "Redis: " + FirstLine(e.Message), null, e);
        }
    }
}
