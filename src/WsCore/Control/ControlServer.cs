using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using Serilog;

namespace WsCore.Control;

/// <summary>
/// Serves control requests on a Unix domain socket: directory 0700, socket 0600, removed on dispose, and when the
/// process exits without disposing it (<see cref="Environment.Exit"/>, a second SIGTERM). A socket file left by a
/// server that could not remove it (killed, crashed) is replaced: only a socket nobody listens on, which connecting to
/// proves (ECONNREFUSED); a live one means another server owns this port, which is refused, and anything else at the
/// path (a directory, a link, a file with data, a socket that cannot be probed) is left alone and refused. Requests
/// on one connection are answered in order, one JSON line each; a request the handler fails on is answered with an
/// error line, and the connection goes on.
/// </summary>
/// <remarks>
/// <see cref="DisposeAsync"/> returns once every connection has ended, a handler call under way included, so the
/// handler's owner may tear it down afterwards.
/// </remarks>
[UnsupportedOSPlatform("windows")]
public sealed class ControlServer : IAsyncDisposable
{
    private const UnixFileMode DirectoryMode = UnixFileMode.UserRead | UnixFileMode.UserWrite
        | UnixFileMode.UserExecute;
    private const UnixFileMode SocketMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private static readonly TimeSpan AnswerGraceWhenStopping = TimeSpan.FromSeconds(1);

    private readonly Socket _listener;
    private readonly IControlHandler _handler;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _acceptLoop;
    // The connections being served: dispose waits for them (a handler call may be under way in one).
    private readonly HashSet<Task> _connections = [];
    private int _disposed;

    private ControlServer(string path, Socket listener, IControlHandler handler, ILogger logger)
    {
        SocketPath = path;
        _listener = listener;
        _handler = handler;
        _logger = logger;
        AppDomain.CurrentDomain.ProcessExit += RemoveSocketAtExit;
        _acceptLoop = AcceptLoopAsync();
    }

    /// <summary>The socket's path.</summary>
    public string SocketPath { get; }

    /// <summary>
    /// Starts the control socket of the server on <paramref name="port"/>: the plain path
    /// (<see cref="ControlSocketPath.For"/>), or this namespace's (<see cref="ControlSocketPath.ForNamespace"/>) when
    /// a live server of another network namespace holds the plain one.
    /// </summary>
    /// <exception cref="WsCoreException">A live server of this namespace (or of one that cannot be told) holds the
    /// path, or the directory is not the user's own.</exception>
    public static async Task<ControlServer> StartAsync(int port, IControlHandler handler, ILogger? logger = null,
        string? runtimeDirectory = null)
    {
        var plain = ControlSocketPath.For(port, runtimeDirectory);
        if (ControlSocketPath.OwnNetworkNamespace() is { } own
            && await LiveServerNamespaceAsync(plain) is { } other && other != own)
        {
            (logger ?? Serilog.Core.Logger.None).Debug(
                "The control socket {Path} is a serve's of network namespace {Other}; this one's is {Own}",
                plain, other, own);
            return await StartAsync(ControlSocketPath.ForNamespace(port, own, runtimeDirectory), handler, logger);
        }
        return await StartAsync(plain, handler, logger);
    }

    // The network namespace of the server listening at path, or null when none listens (or it cannot be told).
    private static async Task<string?> LiveServerNamespaceAsync(string path)
    {
        if (!File.Exists(path))
            return null;
        using var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await probe.ConnectAsync(new UnixDomainSocketEndPoint(path));
            return ControlSocketPath.PeerNetworkNamespace(probe);
        }
        catch (SocketException)
        {
            return null;
        }
    }

    /// <summary>Creates the directory and socket at <paramref name="path"/>, replacing a stale socket file.</summary>
    /// <exception cref="WsCoreException">Another live server owns the path, or the directory is not the user's
    /// own.</exception>
    public static async Task<ControlServer> StartAsync(string path, IControlHandler handler, ILogger? logger = null)
    {
        logger ??= Serilog.Core.Logger.None;
        var directory = Path.GetDirectoryName(path)!;
        Directory.CreateDirectory(directory, DirectoryMode);
        try
        {
            // Also tightens a directory left with wider bits; fails on a directory someone else created.
            File.SetUnixFileMode(directory, DirectoryMode);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new WsCoreException(FailureKind.Other, $"the control directory {directory} belongs to another user",
                "remove it, or set XDG_RUNTIME_DIR to a directory of your own", e);
        }

        await RemoveStaleSocketAsync(path, logger);

        var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        var bound = false;
        try
        {
            listener.Bind(new UnixDomainSocketEndPoint(path));
            bound = true;
            File.SetUnixFileMode(path, SocketMode);
            listener.Listen(16);
        }
        catch (SocketException e) when (!bound && e.SocketErrorCode == SocketError.AddressAlreadyInUse)
        {
            // Another server bound the path between the check and here.
            listener.Dispose();
            throw OwnedByAnother(path, e);
        }
        catch
        {
            listener.Dispose();
            // Ours, but not serving: nobody else may find it and take it for a live server.
            if (bound)
                File.Delete(path);
            throw;
        }
        logger.Debug("Control socket listening at {Path}", path);
        return new ControlServer(path, listener, handler, logger);
    }

    /// <summary>
    /// Removes what a server that is gone left at <paramref name="path"/>: a socket file nobody listens on. Refuses
    /// (WsCoreException) when a server listens there or when the path holds something else.
    /// </summary>
    private static async Task RemoveStaleSocketAsync(string path, ILogger logger)
    {
        var existing = new FileInfo(path);
        if (!existing.Exists && !Directory.Exists(path) && existing.LinkTarget is null)
            return;
        // A socket file holds no data: a directory, a symbolic link or a file with bytes in it is someone's, not a
        // server's leftover.
        if (Directory.Exists(path) || existing.LinkTarget is not null || existing.Length != 0)
            throw new WsCoreException(FailureKind.Other, $"{path} is in the way of the control socket",
                "it is not a socket wsctl left; move it away");
        using var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await probe.ConnectAsync(new UnixDomainSocketEndPoint(path));
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionRefused)
        {
            // Nobody listens: the socket of a server that was killed or crashed (a socket file outlives its process).
            logger.Warning("Replacing stale control socket {Path} (left by a server that is gone)", path);
            File.Delete(path);
            return;
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressNotAvailable)
        {
            // ENOENT: it went away meanwhile.
            return;
        }
        catch (SocketException e) when (e.SocketErrorCode != SocketError.WouldBlock)
        {
            // Neither refused nor accepted (permission denied, say): whether a server is behind it is unknown.
            throw new WsCoreException(FailureKind.Other,
                $"cannot tell whether a server owns the control socket {path}: {e.Message}",
                "stop the server that may own it, or remove the file if none does", e);
        }
        // Accepted, or its backlog is full (EAGAIN): a server is there.
        throw OwnedByAnother(path, null);
    }

    private static WsCoreException OwnedByAnother(string path, Exception? inner) =>
        new(FailureKind.Other, $"another server already owns the control socket {path}",
            "stop the other server, or choose another port", inner)
        { Field = InputField.ListenPort };

    // The process is ending without this server having been disposed: its socket file would outlive it.
    private void RemoveSocketAtExit(object? sender, EventArgs e)
    {
        if (Volatile.Read(ref _disposed) != 0)
            return;
        try
        {
            _listener.Dispose();
            File.Delete(SocketPath);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
        }
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket connection;
            try
            {
                connection = await _listener.AcceptAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }
            var serving = ServeConnectionAsync(connection);
            lock (_connections)
                _connections.Add(serving);
            // Added before the continuation can run: a connection that already ended is removed at once.
            _ = serving.ContinueWith(ended =>
            {
                lock (_connections)
                    _connections.Remove(ended);
            }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
    }

    private async Task ServeConnectionAsync(Socket connection)
    {
        await using var stream = new NetworkStream(connection, ownsSocket: true);
        var reader = PipeReader.Create(stream);
        try
        {
            while (true)
            {
                var result = await reader.ReadAsync(_stop.Token);
                var buffer = result.Buffer;
                while (TryTakeLine(ref buffer, out var line))
                {
                    var response = await HandleAsync(line.IsSingleSegment ? line.FirstSpan.ToArray() : line.ToArray());
                    if (_stop.IsCancellationRequested)
                    {
                        // Stopping while the handler ran: what it did is still answered (a requester that does not
                        // read gets a moment, not the power to hold the stop up), and nothing after it is taken.
                        using var grace = new CancellationTokenSource(AnswerGraceWhenStopping);
                        await stream.WriteAsync(ControlProtocol.EncodeResponse(response), grace.Token);
                        return;
                    }
                    await stream.WriteAsync(ControlProtocol.EncodeResponse(response), _stop.Token);
                }
                if (buffer.Length > ControlProtocol.MaxLineBytes)
                {
                    await stream.WriteAsync(
                        ControlProtocol.EncodeResponse(ControlResponse.Failure("request line too long")), _stop.Token);
                    return;
                }
                reader.AdvanceTo(buffer.Start, buffer.End);
                if (result.IsCompleted)
                    return;
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or SocketException)
        {
            // The requester went away, or we are stopping: nothing to answer.
        }
        catch (Exception e)
        {
            // Not a handler's fault (those are answered): logged here, since nobody awaits this task for its result.
            _logger.Warning(e, "Control: a connection failed");
        }
        finally
        {
            await reader.CompleteAsync();
        }
    }

    private static bool TryTakeLine(ref ReadOnlySequence<byte> buffer, out ReadOnlySequence<byte> line)
    {
        var newline = buffer.PositionOf((byte)'\n');
        if (newline is null)
        {
            line = default;
            return false;
        }
        line = buffer.Slice(0, newline.Value);
        buffer = buffer.Slice(buffer.GetPosition(1, newline.Value));
        return true;
    }

    private async Task<ControlResponse> HandleAsync(byte[] line)
    {
        var request = ControlProtocol.DecodeRequest(line, out var error);
        if (request is null)
            return ControlResponse.Failure(error!);
        try
        {
            return await HandleAsync(request);
        }
        catch (Exception e) when (!(e is OperationCanceledException && _stop.IsCancellationRequested))
        {
            // The requester gets an error line instead of a connection that goes silent.
            _logger.Warning("Control: {Operation} failed: {Error}", request.Operation, e.Message);
            _logger.Debug(e, "Control: {Operation} failed", request.Operation);
            return ControlResponse.Failure($"{request.Operation.ToString().ToLowerInvariant()} failed: {e.Message}");
        }
    }

    private async Task<ControlResponse> HandleAsync(ControlRequest request)
    {
        switch (request.Operation)
        {
            case ControlOperation.Broadcast:
                var delivered = await _handler.BroadcastAsync(request.Payload, request.Binary, _stop.Token);
                _logger.Debug("Control: broadcast to {Count} clients", delivered);
                return new ControlResponse(true, delivered, null, null);
            case ControlOperation.Send:
                return await _handler.SendAsync(request.ClientId, request.Payload, request.Binary, _stop.Token)
                    ? new ControlResponse(true, 1, null, null)
                    : ControlResponse.Failure($"no client {request.ClientId} is connected");
            default:
                return new ControlResponse(true, 0, await _handler.ListClientsAsync(_stop.Token), null);
        }
    }

    /// <summary>
    /// Stops accepting, ends every connection (waiting for a handler call under way), and removes the socket file.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        AppDomain.CurrentDomain.ProcessExit -= RemoveSocketAtExit;
        await _stop.CancelAsync();
        _listener.Dispose();
        await _acceptLoop;
        Task[] connections;
        lock (_connections)
            connections = [.. _connections];
        // Each ends by itself: its reads and writes see the cancellation, and it catches what it throws.
        await Task.WhenAll(connections);
        try
        {
            File.Delete(SocketPath);
        }
        catch (IOException e)
        {
            _logger.Warning(e, "Could not remove control socket {Path}", SocketPath);
        }
        _stop.Dispose();
    }
}
