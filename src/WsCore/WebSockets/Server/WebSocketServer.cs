using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading.Channels;
using Serilog;
using Serilog.Events;
using WsCore.WebSockets.Protocol;

namespace WsCore.WebSockets.Server;

/// <summary>
/// A WebSocket server (RFC 6455) on one TCP port: the workstation counterpart of the ESP32 firmware's server. It
/// accepts up to <see cref="WebSocketServerOptions.MaxClients"/> clients (one more gets 503), serves an optional page
/// to plain GET requests, delivers what clients send through <see cref="Events"/> (the firmware's
/// <c>ws_get_recv_queue()</c>), and sends with <see cref="Send"/> (the firmware's <c>ws_send()</c>; id
/// <see cref="AllClients"/> = -1 broadcasts).
/// </summary>
/// <remarks>
/// <para>Thread-safety: <see cref="Send"/>, <see cref="SendText"/>, <see cref="CloseClient"/> and the properties may be
/// called from any thread at any time. <see cref="Events"/> has one intended reader.</para>
/// <para>Each client has one writer task draining a bounded queue in batches; a send to one client with nothing queued
/// is written from the caller's thread instead. A broadcast encodes its frame once into a pooled, reference-counted
/// buffer shared by all queues.</para>
/// </remarks>
public sealed class WebSocketServer : IAsyncDisposable
{
    /// <summary>The client id meaning "every client" (the firmware's index -1).</summary>
    public const int AllClients = -1;

    private readonly Channel<ServerEvent> _events;
    private readonly Lock _clientsLock = new();
    private readonly CancellationTokenSource _stopping = new();
    // Every accepted connection (handshaking, serving a page, or a registered client) until it has ended.
    private readonly HashSet<ServerConnection> _connections = [];
    // Completed once StopAsync waits for the connections and the last one has ended.
    private readonly TaskCompletionSource _connectionsEnded = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private bool _waitingForConnections;
    // The registered clients by id, changed under _clientsLock. A lookup by id (Send to one client, once per echoed
    // message) takes no lock: ConcurrentDictionary's reads are lock-free. Readers that walk all clients (broadcast,
    // keep-alive) use a snapshot array built when first needed after a change: a storm of connects then costs O(1)
    // each instead of copying an ever longer array per connect (garbage quadratic in the number of clients).
    private readonly ConcurrentDictionary<int, ServerConnection> _clients = new();
    private int _clientCount;
    private ServerConnection[]? _clientsSnapshot = [];
    private int _nextId;
    private Socket? _listener;
    private Task _acceptLoop = Task.CompletedTask;
    private Task _housekeeping = Task.CompletedTask;
    // Housekeeping outlives _stopping: the close timeouts of the clients being closed still run on it.
    private readonly CancellationTokenSource _housekeepingStop = new();
    private long _slowClientsDropped;
    private long _clientsRefused;
    // Connections still in their handshake, oldest first (see AdmitPending).
    private readonly LinkedList<ServerConnection> _pending = new();
    private long _pendingEvicted;
    private int _stopped;

    /// <summary>Creates a server; nothing listens until <see cref="Start"/>.</summary>
    public WebSocketServer(WebSocketServerOptions options)
    {
        Options = options;
        options.Validate();
        _events = Channel.CreateBounded<ServerEvent>(new BoundedChannelOptions(options.EventQueueCapacity)
        {
            FullMode = BoundedChannelFullMode.Wait,
            SingleReader = true,
        });
    }

    /// <summary>The options the server was created with (do not change them after <see cref="Start"/>).</summary>
    public WebSocketServerOptions Options { get; }

    /// <summary>
    /// The bound address and port (the real port when 0 was asked for). Valid after <see cref="Start"/>.
    /// </summary>
    public IPEndPoint LocalEndPoint { get; private set; } = new(IPAddress.None, 0);

    /// <summary>True when the listening socket takes IPv4 and IPv6 (bound to <c>[::]</c> in dual mode).</summary>
    public bool IsDualMode { get; private set; }

    /// <summary>
    /// Opens, messages and closes, in order per client. Read it continuously: when
    /// <see cref="WebSocketServerOptions.EventQueueCapacity"/> events wait, receiving pauses. Completes after
    /// <see cref="StopAsync"/>.
    /// </summary>
    public ChannelReader<ServerEvent> Events => _events.Reader;

    /// <summary>How many WebSocket clients are connected.</summary>
    public int ClientCount
    {
        get
        {
            return Volatile.Read(ref _clientCount);
        }
    }

    /// <summary>The ids of the connected clients.</summary>
    public IReadOnlyList<int> ClientIds => ClientsSnapshot().Select(c => c.Id).Order().ToArray();

    /// <summary>How many clients were closed for not reading fast enough (1008).</summary>
    public long SlowClientsDropped => Interlocked.Read(ref _slowClientsDropped);

    /// <summary>How many upgrade requests were refused with 503 because the server was full.</summary>
    public long ClientsRefused => Interlocked.Read(ref _clientsRefused);

    /// <summary>
    /// Binds and starts accepting. Throws <see cref="WsCoreException"/> (ConnectionFailed) when the port is taken.
    /// </summary>
    public void Start()
    {
        if (_listener is not null)
            throw new InvalidOperationException("The server is already started.");
        _listener = Bind();
        LocalEndPoint = (IPEndPoint)_listener.LocalEndPoint!;
        Options.Logger.Debug("listening on {EndPoint} (dual mode: {DualMode})", LocalEndPoint, IsDualMode);
        _acceptLoop = AcceptLoopAsync(_listener);
        _housekeeping = StartHousekeeping();
    }

    /// <summary>
    /// Queues a message for one client, or for every client with <see cref="AllClients"/>. Returns how many clients
    /// it was queued for (0 when the id is unknown). Never blocks: a client whose queue is full is closed with 1008.
    /// </summary>
    /// <param name="clientId">A client id from <see cref="ClientConnected"/>, or <see cref="AllClients"/>.</param>
    /// <param name="type">Text or binary. Text must be valid UTF-8 (not checked here).</param>
    /// <param name="payload">The message; copied before this returns.</param>
    public int Send(int clientId, MessageType type, ReadOnlySpan<byte> payload)
    {
        if (clientId != AllClients)
        {
            if (!_clients.TryGetValue(clientId, out var client))
                return 0;
            return client.SendMessage(type == MessageType.Text ? Opcode.Text : Opcode.Binary, payload) ? 1 : 0;
        }
        var clients = ClientsSnapshot();
        if (clients.Length == 0)
            return 0;
        // Encoded once; every queue takes a reference to the same pooled buffer.
        var frame = OutgoingFrame.Create(type == MessageType.Text ? Opcode.Text : Opcode.Binary, payload);
        var queued = 0;
        try
        {
            foreach (var client in clients)
            {
                // A compressing client gets its own frame: its compressor's window is its own (context takeover).
                var sent = client.Compresses
                    ? client.EnqueueCompressed(frame.Opcode, payload, mayWriteInline: false)
                    : client.Enqueue(frame, mayWriteInline: false);
                if (sent)
                    queued++;
            }
        }
        finally
        {
            frame.Release();
        }
        return queued;
    }

    private ServerConnection[] ClientsSnapshot()
    {
        if (Volatile.Read(ref _clientsSnapshot) is { } snapshot)
            return snapshot;
        lock (_clientsLock)
            return _clientsSnapshot ??= [.. _clients.Values];
    }

    /// <summary>A snapshot of the connected clients, by id, with their message counts.</summary>
    public IReadOnlyList<ClientInfo> GetClients() => ClientsSnapshot().OrderBy(c => c.Id)
        .Select(c => new ClientInfo(c.Id, c.RemoteEndPoint, c.ConnectedAt, c.MessagesIn, c.MessagesOut)).ToArray();

    /// <summary>Sends a text message (see <see cref="Send"/>).</summary>
    public int SendText(int clientId, string text) => Send(clientId, MessageType.Text, Encoding.UTF8.GetBytes(text));

    /// <summary>Starts the close handshake with one client. False when no such client is open.</summary>
    public bool CloseClient(int clientId, ushort code = CloseStatus.NormalClosure, string reason = "")
    {
        return _clients.TryGetValue(clientId, out var client) && client.BeginClose(code, reason);
    }

    /// <summary>
    /// Graceful shutdown: stops accepting, sends Close 1001 to every client, waits up to
    /// <see cref="WebSocketServerOptions.CloseTimeout"/> for them to answer, aborts the rest, then completes
    /// <see cref="Events"/>.
    /// </summary>
    public async Task StopAsync()
    {
        if (Interlocked.Exchange(ref _stopped, 1) != 0)
            return;
        _stopping.Cancel();
        _listener?.Dispose();
        try
        {
            await _acceptLoop;
        }
        catch (OperationCanceledException)
        {
        }
        // No connection is added after the accept loop: the last one to end from here on completes the wait.
        ServerConnection[] pending;
        lock (_connections)
        {
            pending = [.. _connections];
            _waitingForConnections = true;
            if (pending.Length == 0)
                _connectionsEnded.TrySetResult();
        }
        // Registered clients get Close 1001 (§7.4.1); connections still handshaking or serving a page are aborted.
        foreach (var connection in pending)
            connection.BeginClose(CloseStatus.GoingAway, "server shutting down");
        var all = _connectionsEnded.Task;
        if (await Task.WhenAny(all, Task.Delay(Options.CloseTimeout + TimeSpan.FromSeconds(1))) != all)
        {
            Options.Logger.Warning("some clients did not close in time; aborting them");
            foreach (var connection in pending)
                connection.Abort();
            await Task.WhenAny(all, Task.Delay(TimeSpan.FromSeconds(1)));
        }
        _housekeepingStop.Cancel();
        await _housekeeping;
        _events.Writer.TryComplete();
    }

    /// <summary>Same as <see cref="StopAsync"/>.</summary>
    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _stopping.Dispose();
        _housekeepingStop.Dispose();
    }

    internal Registration TryRegister(ServerConnection connection)
    {
        lock (_clientsLock)
        {
            if (_clientCount >= Options.MaxClients || _stopping.IsCancellationRequested)
            {
                Interlocked.Increment(ref _clientsRefused);
                return Registration.Full;
            }
            var id = Options.ClientIds?.Invoke() ?? ++_nextId;
            if (id <= 0)
            {
                Interlocked.Increment(ref _clientsRefused);
                return Registration.NoClientId;
            }
            connection.Id = id;
            if (!_clients.TryAdd(id, connection))
                throw new InvalidOperationException($"Client id {id} is already in use.");
            Volatile.Write(ref _clientCount, _clientCount + 1);
            _clientsSnapshot = null;
            return Registration.Registered;
        }
    }

    internal async ValueTask OnClientOpenedAsync(ServerConnection connection, string path, string? subprotocol)
    {
        // Checked first: with four or more values Serilog takes a params array, built (and the numbers boxed) even
        // when the level is off, once per connect and close of every client.
        if (Options.Logger.IsEnabled(LogEventLevel.Information))
        {
            Options.Logger.Information("client {Client} connected from {Remote} ({Count}/{Max})",
                connection.Id, connection.RemoteEndPoint, ClientCount, Options.MaxClients);
        }
        await PublishAsync(new ClientConnected(connection.Id, connection.RemoteEndPoint, path, subprotocol));
    }

    internal async ValueTask OnClientClosedAsync(
        ServerConnection connection, ushort code, string reason, bool byServer, bool publish)
    {
        lock (_clientsLock)
        {
            if (_clients.TryRemove(connection.Id, out _))
            {
                Volatile.Write(ref _clientCount, _clientCount - 1);
                _clientsSnapshot = null;
            }
        }
        if (Options.Logger.IsEnabled(LogEventLevel.Information))
        {
            Options.Logger.Information(
                "client {Client} ({Remote}) closed: {Code} {Description}{Reason}",
                connection.Id,
                connection.RemoteEndPoint,
                code,
                CloseStatus.Describe(code),
                reason.Length > 0 ? $" ({reason})" : "");
        }
        if (publish)
            await PublishAsync(new ClientDisconnected(
                connection.Id, connection.RemoteEndPoint, code, reason, byServer));
    }

    /// <summary>
    /// Counts a new connection among those still in their handshake. At the bound, the oldest pending one is closed
    /// to make room: a flood of connections that send half a request head and stop (slowloris) then costs at most
    /// <see cref="WebSocketServerOptions.MaxPendingHandshakes"/> sockets and buffers, and a real client arriving
    /// during the flood still gets through (it sends its head at once).
    /// </summary>
    private void AdmitPending(ServerConnection connection)
    {
        ServerConnection? evicted = null;
        lock (_pending)
        {
            connection.PendingNode = _pending.AddLast(connection);
            if (_pending.Count > Options.MaxPendingHandshakes)
            {
                evicted = _pending.First!.Value;
                _pending.RemoveFirst();
                evicted.PendingNode = null;
            }
        }
        if (evicted is null)
            return;
        var total = Interlocked.Increment(ref _pendingEvicted);
        // Once per thousand, not per connection: a flood must not flood the log too.
        if (total == 1 || total % 1000 == 0)
            Options.Logger.Warning(
                "{Max} connections are in their handshake: closing the oldest ({Remote}; {Total} so far)",
                Options.MaxPendingHandshakes,
                evicted.RemoteEndPoint,
                total);
        evicted.Abort();
    }

    /// <summary>
    /// The connection's handshake is over (upgraded, answered, or failed): it no longer counts as pending.
    /// </summary>
    internal void OnHandshakeEnded(ServerConnection connection)
    {
        lock (_pending)
        {
            if (connection.PendingNode is { } node)
            {
                _pending.Remove(node);
                connection.PendingNode = null;
            }
        }
    }

    /// <summary>Connections closed because too many were in their handshake at once.</summary>
    public long PendingHandshakesEvicted => Interlocked.Read(ref _pendingEvicted);

    internal void OnOriginRefused(ServerConnection connection, string origin, string? host, OriginVerdict verdict) =>
        Options.Logger.Warning(
            "refused {Remote}: origin {Origin} is not allowed (403): {Why}{Hint}",
            connection.RemoteEndPoint,
            origin,
            verdict switch
            {
                OriginVerdict.Null => "a sandboxed page or a file (null)",
                OriginVerdict.Invalid => "not an http(s)://host[:port] origin",
                _ when host is not null && OriginUrlHost(origin) is { } pageHost
                    && host.StartsWith(pageHost, StringComparison.OrdinalIgnoreCase) =>
                    $"its own name {host} is not one this server answers to (a DNS-rebinding page looks like this)",
                _ => "a page elsewhere",
            },
            Options.Origins?.RefusalHint is { } hint
                ? "; " + hint.Replace("ORIGIN", origin, StringComparison.Ordinal)
                : "");

    private static string? OriginUrlHost(string origin) =>
        Uri.TryCreate(origin, UriKind.Absolute, out var uri) ? uri.Host : null;

    internal void OnConnectionEnded(ServerConnection connection)
    {
        lock (_connections)
        {
            if (_connections.Remove(connection) && _waitingForConnections && _connections.Count == 0)
                _connectionsEnded.TrySetResult();
        }
    }

    internal void OnSlowClientDropped(ServerConnection connection, int queuedBytes)
    {
        var total = Interlocked.Increment(ref _slowClientsDropped);
        Options.Logger.Warning(
            "client {Client} ({Remote}) too slow: {Queued} bytes queued, limit {Limit}; closing with 1008 ({Total} " +
                "dropped so far)",
            connection.Id,
            connection.RemoteEndPoint,
            queuedBytes,
            Options.MaxQueuedBytesPerClient,
            total);
    }

    internal async ValueTask PublishAsync(ServerEvent serverEvent)
    {
        try
        {
            await _events.Writer.WriteAsync(serverEvent);
        }
        catch (ChannelClosedException)
        {
            (serverEvent as IDisposable)?.Dispose();
        }
    }

    private Socket Bind()
    {
        var address = Options.BindAddress;
        var wantDual = address is null || address.Equals(IPAddress.IPv6Any);
        if (wantDual && !Socket.OSSupportsIPv6)
        {
            address = IPAddress.Any;
            wantDual = false;
        }
        address ??= IPAddress.IPv6Any;
        var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (wantDual)
                socket.DualMode = true;
            IsDualMode = wantDual;
            AllowRebindDuringTimeWait(socket);
            socket.Bind(new IPEndPoint(address, Options.Port));
            socket.Listen(512);
            return socket;
        }
        catch (SocketException e)
        {
            socket.Dispose();
            // A port in use is the port's fault; any other refusal (an address not on this host) is the address's.
            var inUse = e.SocketErrorCode == SocketError.AddressAlreadyInUse;
            throw new WsCoreException(FailureKind.ConnectionFailed,
                $"cannot listen on {new IPEndPoint(address, Options.Port)}: {e.Message}",
                inUse ? "another program (another server?) listens on that port: stop it, or pick another port" : null,
                e)
            {
                Field = inUse ? InputField.ListenPort : null,
            };
        }
    }

    /// <summary>
    /// Lets a restarted server bind while its old connections sit in TIME_WAIT, without letting a second server
    /// share the port. .NET's ReuseAddress also sets SO_REUSEPORT on Linux, with which a second server binds beside
    /// the first and the kernel splits new clients between them; so SO_REUSEADDR alone is set there. Windows' own
    /// SO_REUSEADDR would allow taking the port over: there the port is held exclusively instead.
    /// </summary>
    private static void AllowRebindDuringTimeWait(Socket socket)
    {
        if (OperatingSystem.IsLinux())
        {
            const int solSocket = 1, soReuseAddr = 2; // <asm-generic/socket.h>
            socket.SetRawSocketOption(solSocket, soReuseAddr, BitConverter.GetBytes(1));
        }
        else if (OperatingSystem.IsWindows())
            socket.ExclusiveAddressUse = true;
        else
            socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
    }

    private async Task AcceptLoopAsync(Socket listener)
    {
        while (!_stopping.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await listener.AcceptAsync(_stopping.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
            {
                break;
            }
            catch (SocketException e)
            {
                // E.g. EMFILE under load: log, and keep accepting.
                Options.Logger.Warning("accept failed: {Error}", e.SocketErrorCode);
                continue;
            }
            socket.NoDelay = true;
            var remote = (IPEndPoint)socket.RemoteEndPoint!;
            if (remote.Address.IsIPv4MappedToIPv6)
                remote = new IPEndPoint(remote.Address.MapToIPv4(), remote.Port);
            var connection = new ServerConnection(this, socket, remote);
            AdmitPending(connection);
            // Added before it runs, so a connection that ends at once is removed.
            lock (_connections)
                _connections.Add(connection);
            _ = connection.RunAsync();
        }
    }

    // One thread for every connection's timeouts and keep-alive (§5.5.2): a timer per connection would cost more than
    // the rest of an idle connection. A thread of its own, not a pool timer: a pool worker woken for each tick then
    // spins on its CPU for a while looking for more work (the runtime's UnfairSemaphoreSpinLimit, which the pool
    // needs for broadcast's bursts), and that CPU is the serving thread's: 1.5% of serve's CPU in the paced echo bench
    // (perf, by thread). The thread sleeps in the kernel between ticks.
    private Task StartHousekeeping()
    {
        var ping = Options.PingInterval;
        // Ticks several times per shortest interval, so timeouts and pings fire close to on time.
        var shortest = new[] { Options.HandshakeTimeout, Options.CloseTimeout,
            ping > TimeSpan.Zero ? ping : TimeSpan.MaxValue }.Min();
        var period = TimeSpan.FromMilliseconds(Math.Clamp(shortest.TotalMilliseconds / 8, 10, 1000));
        var ended = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var stop = _housekeepingStop.Token.WaitHandle;
        var thread = new Thread(() =>
        {
            try
            {
                while (!stop.WaitOne(period))
                    Housekeep(Environment.TickCount64, (long)ping.TotalMilliseconds);
                ended.SetResult();
            }
            catch (Exception e)
            {
                ended.SetException(e); // seen by StopAsync, as an exception of the timer loop was
            }
        })
        {
            IsBackground = true,
            Name = "wsctl housekeeping",
        };
        thread.Start();
        return ended.Task;
    }

    private void Housekeep(long now, long pingIntervalMs)
    {
        lock (_connections)
        {
            foreach (var connection in _connections)
                connection.CheckDeadline(now);
        }
        if (pingIntervalMs > 0)
        {
            foreach (var client in ClientsSnapshot())
                client.CheckAlive(now, pingIntervalMs);
        }
    }
}

/// <summary>Whether a client that passed the handshake was registered, and if not, why.</summary>
internal enum Registration
{
    /// <summary>Registered, with an id.</summary>
    Registered,
    /// <summary>The server holds <see cref="WebSocketServerOptions.MaxClients"/> clients, or is stopping.</summary>
    Full,
    /// <summary><see cref="WebSocketServerOptions.ClientIds"/> had no id to give.</summary>
    NoClientId,
}
