using System.Buffers;
using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading.Channels;
using Serilog;
using WsCore.WebSockets.Protocol;

namespace WsCore.WebSockets.Server;

/// <summary>
/// One accepted TCP connection: the handshake (or a page / error response), then a receive loop feeding a
/// <see cref="MessageDecoder"/> and one writer loop that drains the bounded queue; a frame for an idle queue is written
/// by the caller of <see cref="Enqueue"/>. Whoever writes holds the send gate.
/// </summary>
internal sealed class ServerConnection
{
    private enum State { Handshaking, Open, Closing, Closed }

    private const int ReceiveBufferBytes = 16 * 1024;
    // The writer copies queued frames into one batch buffer of this size and sends it in one call, so a burst of
    // small frames (a broadcast storm) costs one syscall per batch rather than one per frame.
    private const int BatchBytes = 64 * 1024;

    private readonly WebSocketServer _server;
    private readonly WebSocketServerOptions _options;
    private readonly Socket _socket;
    private readonly ILogger _log;
    private readonly CancellationTokenSource _abort = new();
    private readonly Channel<OutgoingFrame> _queue =
        Channel.CreateUnbounded<OutgoingFrame>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Lock _stateLock = new();
    // Held by whoever writes to the socket: the writer task for a batch, or an Enqueue caller on the fast path.
    private readonly SemaphoreSlim _sendGate = new(1, 1);
    private State _state = State.Handshaking;
    private int _queuedBytes;
    private bool _discardUntilClose;
    private ushort _closeCode = CloseStatus.AbnormalClosure;
    private string _closeReason = "";
    private bool _closedByServer;
    private Task _writer = Task.CompletedTask;
    private long _lastActivity = Environment.TickCount64;
    private long _pingSentAt;
    private bool _pingOutstanding;
    private bool _openedPublished;
    private bool _closeReceived;

    public ServerConnection(WebSocketServer server, Socket socket, IPEndPoint remote)
    {
        _server = server;
        _options = server.Options;
        _socket = socket;
        RemoteEndPoint = remote;
        _log = _options.Logger;
    }

    /// <summary>Assigned when the handshake succeeds and the client is registered; 0 before.</summary>
    public int Id { get; set; }

    public IPEndPoint RemoteEndPoint { get; }

    public bool IsOpen => _state == State.Open;

    /// <summary>When the TCP connection was accepted.</summary>
    public DateTimeOffset ConnectedAt { get; } = DateTimeOffset.UtcNow;

    private long _messagesIn;
    private long _messagesOut;

    /// <summary>Data messages received from the client.</summary>
    public long MessagesIn => Interlocked.Read(ref _messagesIn);

    /// <summary>Data messages queued to the client.</summary>
    public long MessagesOut => Interlocked.Read(ref _messagesOut);

    public async Task RunAsync()
    {
        try
        {
            var leftover = await HandshakeAsync();
            if (leftover is null)
                return;
            _writer = WriteLoopAsync();
            await ReceiveLoopAsync(leftover);
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException or IOException)
        {
            // The peer vanished, a timeout fired, or the server is stopping: the close code below says which.
        }
        catch (Exception e)
        {
            _log.Error(e, "client {Client} ({Remote}): unexpected error", Id, RemoteEndPoint);
            _closeCode = CloseStatus.InternalServerError;
        }
        finally
        {
            lock (_stateLock)
                _state = State.Closed;
            _abort.Cancel();
            try
            {
                await _writer;
            }
            catch
            {
                // The writer's failure was already the reason to stop.
            }
            _socket.Dispose();
            _abort.Dispose();
            if (Id != 0)
                await _server.OnClientClosedAsync(this, _closeCode, _closeReason, _closedByServer, _openedPublished);
        }
    }

    /// <summary>
    /// Queues a frame for the writer. Returns false when the connection is not open, or when the frame would take
    /// the queue over its bound: then the client is closed with 1008 (it is not reading fast enough).
    /// </summary>
    /// <param name="frame">The frame; the queue takes its own reference.</param>
    /// <param name="mayWriteInline">
    /// True to let the caller's thread write the frame when nothing else is queued (a send to one client). A broadcast
    /// passes false: one thread making a send call per client costs far more than each writer batching its backlog.
    /// </param>
    public bool Enqueue(OutgoingFrame frame, bool mayWriteInline = true)
    {
        lock (_stateLock)
        {
            if (_state != State.Open)
                return false;
            var queued = Interlocked.Add(ref _queuedBytes, frame.Length);
            if (queued > _options.MaxQueuedBytesPerClient)
            {
                Interlocked.Add(ref _queuedBytes, -frame.Length);
                BeginCloseLocked(CloseStatus.PolicyViolation, "too slow: outgoing queue full", discardQueued: true);
                _server.OnSlowClientDropped(this, queued - frame.Length);
                return false;
            }
            Interlocked.Increment(ref _messagesOut);
            frame.AddReference();
            // Fast path: nothing queued and no write in progress, so the frame goes to the socket from this thread.
            // Waking the writer task instead costs a thread-pool hop (a context switch) per message, which dominated
            // the server's CPU per echoed message. The gate keeps frames in order with the writer's batches.
            if (!mayWriteInline || queued != frame.Length || !_sendGate.Wait(0))
            {
                _queue.Writer.TryWrite(frame);
                return true;
            }
            Interlocked.Add(ref _queuedBytes, -frame.Length);
        }
        SendInline(frame);
        return true;
    }

    // Sends a frame while holding the send gate; the common case (the socket buffer has room) completes synchronously
    // and allocates nothing. Otherwise the rest of the send finishes in the background, still holding the gate.
    private void SendInline(OutgoingFrame frame)
    {
        ValueTask<int> pending;
        try
        {
            pending = _socket.SendAsync(frame.Bytes, SocketFlags.None, _abort.Token);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or OperationCanceledException)
        {
            EndInlineSend(frame, failed: true);
            return;
        }
        if (pending.IsCompletedSuccessfully)
        {
            var sent = pending.Result;
            if (sent == frame.Length)
                EndInlineSend(frame, failed: false);
            else
                _ = FinishInlineSendAsync(frame, sent, null);
            return;
        }
        _ = FinishInlineSendAsync(frame, 0, pending);
    }

    private async Task FinishInlineSendAsync(OutgoingFrame frame, int sent, ValueTask<int>? pending)
    {
        var failed = false;
        try
        {
            if (pending is { } stillSending)
                sent = await stillSending;
            await SendAllAsync(frame.Bytes[sent..], _abort.Token);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or OperationCanceledException)
        {
            failed = true;
        }
        EndInlineSend(frame, failed);
    }

    private void EndInlineSend(OutgoingFrame frame, bool failed)
    {
        frame.Release();
        _sendGate.Release();
        if (failed)
            Abort();
    }

    /// <summary>Starts the close handshake from the server's side (§7.1.2); the connection ends when the client answers or the close timeout passes.</summary>
    public bool BeginClose(ushort code, string reason)
    {
        lock (_stateLock)
        {
            if (_state == State.Handshaking)
            {
                _abort.Cancel();
                return false;
            }
            return BeginCloseLocked(code, reason, discardQueued: false);
        }
    }

    /// <summary>Ends the connection at once, without a close handshake.</summary>
    public void Abort()
    {
        try
        {
            _abort.Cancel();
        }
        catch (ObjectDisposedException)
        {
        }
    }

    /// <summary>Keep-alive (§5.5.2): ping a client silent for an interval, drop one that stays silent another interval.</summary>
    public void CheckAlive(long now, long intervalMs)
    {
        if (_state != State.Open)
            return;
        if (Volatile.Read(ref _pingOutstanding))
        {
            if (now - _pingSentAt >= intervalMs)
            {
                _log.Information("client {Client} ({Remote}): no answer to ping; dropping", Id, RemoteEndPoint);
                _closeCode = CloseStatus.AbnormalClosure;
                _closeReason = "no answer to ping";
                _closedByServer = true;
                Abort();
            }
        }
        else if (now - Volatile.Read(ref _lastActivity) >= intervalMs)
        {
            Span<byte> payload = stackalloc byte[8];
            BinaryPrimitives.WriteInt64BigEndian(payload, now);
            _pingSentAt = now;
            Volatile.Write(ref _pingOutstanding, true);
            var ping = OutgoingFrame.Create(Opcode.Ping, payload);
            Enqueue(ping);
            ping.Release();
        }
    }

    private bool BeginCloseLocked(ushort code, string reason, bool discardQueued)
    {
        if (_state != State.Open)
            return false;
        _state = State.Closing;
        _closeCode = code;
        _closeReason = reason;
        _closedByServer = true;
        _discardUntilClose = discardQueued;
        // The Close frame bypasses the queue bound: it is the last thing this client gets.
        _queue.Writer.TryWrite(OutgoingFrame.CreateClose(code, reason));
        _queue.Writer.TryComplete();
        _abort.CancelAfter(_options.CloseTimeout);
        return true;
    }

    // Reads and answers the request head. Returns the bytes received after the head for an upgraded client, or null
    // when the connection was answered with a page or an error and is done.
    private async Task<byte[]?> HandshakeAsync()
    {
        var buffer = ArrayPool<byte>.Shared.Rent(_options.MaxRequestHeadBytes);
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_abort.Token);
            timeout.CancelAfter(_options.HandshakeTimeout);
            var filled = 0;
            HttpRequestHead? request;
            int headLength;
            while (true)
            {
                var read = await _socket.ReceiveAsync(buffer.AsMemory(filled, _options.MaxRequestHeadBytes - filled), SocketFlags.None, timeout.Token);
                if (read == 0)
                    return null;
                filled += read;
                var status = HttpRequestHead.TryParse(buffer.AsSpan(0, filled), _options.MaxRequestHeadBytes, out request, out headLength);
                if (status == HttpParseStatus.Complete)
                    break;
                if (status == HttpParseStatus.TooLarge)
                {
                    await RespondAndCloseAsync(ServerHandshake.BuildErrorResponse(431, "request head too large"), "431 request head too large");
                    return null;
                }
                if (status == HttpParseStatus.Malformed)
                {
                    await RespondAndCloseAsync(ServerHandshake.BuildErrorResponse(400, "malformed HTTP request"), "400 malformed request");
                    return null;
                }
            }

            var decision = ServerHandshake.Evaluate(request!, _options.Subprotocols);
            switch (decision.Outcome)
            {
                case HandshakeOutcome.PageRequest:
                    var page = _options.PageHandler?.Invoke(request!);
                    var response = page is null
                        ? ServerHandshake.BuildErrorResponse(404, "not found")
                        : ServerHandshake.BuildResponse(200, page.Body.Span, page.ContentType, headOnly: request!.Method == "HEAD");
                    await RespondAndCloseAsync(response, $"{request!.Method} {request.Target} -> {(page is null ? 404 : 200)}");
                    return null;
                case HandshakeOutcome.Reject:
                    await RespondAndCloseAsync(ServerHandshake.BuildErrorResponse(decision.StatusCode, decision.Detail),
                        $"{decision.StatusCode} {decision.Detail}");
                    return null;
            }

            if (!_server.TryRegister(this))
            {
                _log.Warning("refused {Remote}: {Count} clients already connected (503)", RemoteEndPoint, _options.MaxClients);
                var body = $"server full: at most {_options.MaxClients} WebSocket clients; try again later\n";
                await RespondAndCloseAsync(ServerHandshake.BuildResponse(503, Encoding.UTF8.GetBytes(body), extraHeaders: ["Retry-After: 5"]), null);
                return null;
            }
            lock (_stateLock)
                _state = State.Open;
            await SendAllAsync(ServerHandshake.BuildUpgradeResponse(decision.Accept!, decision.Subprotocol), _abort.Token);
            await _server.OnClientOpenedAsync(this, request!.Target, decision.Subprotocol);
            _openedPublished = true;
            return buffer.AsSpan(headLength, filled - headLength).ToArray();
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private async Task RespondAndCloseAsync(byte[] response, string? logLine)
    {
        if (logLine is not null)
            _log.Debug("{Remote}: {What}", RemoteEndPoint, logLine);
        _abort.CancelAfter(_options.CloseTimeout);
        await SendAllAsync(response, _abort.Token);
        await LingerAsync();
    }

    private async Task ReceiveLoopAsync(byte[] leftover)
    {
        using var decoder = new MessageDecoder(expectMaskedFrames: true, _options.MaxMessageBytes);
        var done = leftover.Length > 0 && await ProcessAsync(decoder, leftover);
        var token = _abort.Token;
        while (!done)
        {
            // Idle: wait for data with a zero-byte read, so an idle client holds no receive buffer.
            if (decoder.IsIdle)
                await _socket.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None, token);
            var buffer = ArrayPool<byte>.Shared.Rent(ReceiveBufferBytes);
            try
            {
                var read = await _socket.ReceiveAsync(buffer, SocketFlags.None, token);
                if (read == 0)
                {
                    // TCP ended. After our Close that completes the handshake; otherwise it is abnormal (1006).
                    if (_state == State.Open)
                    {
                        _closeCode = CloseStatus.AbnormalClosure;
                        _closeReason = "connection ended without a close frame";
                    }
                    return;
                }
                Volatile.Write(ref _lastActivity, Environment.TickCount64);
                Volatile.Write(ref _pingOutstanding, false);
                done = await ProcessAsync(decoder, buffer.AsMemory(0, read));
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
        // The close handshake is under way: let the writer send our Close, then close TCP first (§7.1.1).
        await _writer;
        if (_closeReceived)
        {
            // Both Close frames are exchanged: nothing more may come from the client, so closing at once cannot
            // destroy unread data. (Waiting for the client's FIN would stall clients that only close on dispose.)
            _socket.Shutdown(SocketShutdown.Send);
            return;
        }
        await LingerAsync();
    }

    // Feeds received bytes to the decoder and acts on each event. True when the connection is closing.
    private async ValueTask<bool> ProcessAsync(MessageDecoder decoder, ReadOnlyMemory<byte> data)
    {
        while (true)
        {
            var status = decoder.Decode(data.Span, out var consumed);
            data = data[consumed..];
            switch (status)
            {
                case DecodeStatus.NeedMoreData:
                    return decoder.IsClosed;
                case DecodeStatus.Message:
                    // §7.1.4-ish: after our Close, data from the peer is ignored.
                    if (_state == State.Open)
                    {
                        Interlocked.Increment(ref _messagesIn);
                        if (_options.MessageHandler is { } handler && !TryHandle(handler, decoder))
                            return true;
                        if (_options.PublishMessageEvents)
                            await _server.PublishAsync(new MessageReceived(Id, RemoteEndPoint, decoder.MessageType, decoder.DetachMessage()));
                    }
                    break;
                case DecodeStatus.Ping:
                    if (_state == State.Open)
                    {
                        var pong = OutgoingFrame.Create(Opcode.Pong, decoder.Payload);
                        Enqueue(pong);
                        pong.Release();
                    }
                    break;
                case DecodeStatus.Pong:
                    break;
                case DecodeStatus.Close:
                    _closeReceived = true;
                    lock (_stateLock)
                    {
                        if (_state == State.Open)
                        {
                            // §5.5.1: answer with a Close, echoing the code.
                            _state = State.Closing;
                            _closeCode = decoder.CloseCode;
                            _closeReason = decoder.CloseReason;
                            _closedByServer = false;
                            _queue.Writer.TryWrite(OutgoingFrame.CreateClose(decoder.CloseCode, ""));
                            _queue.Writer.TryComplete();
                            _abort.CancelAfter(_options.CloseTimeout);
                        }
                    }
                    return true;
                case DecodeStatus.ProtocolError:
                    _log.Information("client {Client} ({Remote}): {Reason}; closing with {Code}",
                        Id, RemoteEndPoint, decoder.Violation.Reason, decoder.Violation.CloseCode);
                    lock (_stateLock)
                        BeginCloseLocked(decoder.Violation.CloseCode, decoder.Violation.Reason, discardQueued: false);
                    return true;
            }
        }
    }

    // Runs the application's handler on this thread. A handler that throws is a bug in the application, not in the
    // client: that client is closed with 1011 (§7.4.1, "unexpected condition") and everyone else keeps being served.
    private bool TryHandle(MessageHandler handler, MessageDecoder decoder)
    {
        try
        {
            handler(_server, Id, decoder.MessageType, decoder.Payload);
            return true;
        }
        catch (Exception e)
        {
            _log.Error(e, "client {Client} ({Remote}): the message handler failed; closing with 1011", Id, RemoteEndPoint);
            lock (_stateLock)
                BeginCloseLocked(CloseStatus.InternalServerError, "server error handling the message", discardQueued: false);
            return false;
        }
    }

    // The one owner of socket writes: drains everything queued into one batch per send.
    private async Task WriteLoopAsync()
    {
        var reader = _queue.Reader;
        var token = _abort.Token;
        try
        {
            while (await reader.WaitToReadAsync(token))
            {
                byte[]? batch = null;
                var fill = 0;
                var closeWritten = false;
                await _sendGate.WaitAsync(token);
                try
                {
                    while (!closeWritten && reader.TryRead(out var frame))
                    {
                        try
                        {
                            Interlocked.Add(ref _queuedBytes, -frame.Length);
                            if (Volatile.Read(ref _discardUntilClose) && frame.Opcode != Opcode.Close)
                                continue;
                            closeWritten = frame.Opcode == Opcode.Close;
                            if (fill > 0 && frame.Length > BatchBytes - fill)
                            {
                                await SendAllAsync(batch.AsMemory(0, fill), token);
                                fill = 0;
                            }
                            if (fill == 0 && (frame.Length > BatchBytes || closeWritten || !reader.TryPeek(out _)))
                            {
                                // Alone in the queue, or too big to batch: send it straight from the shared buffer.
                                await SendAllAsync(frame.Bytes, token);
                                continue;
                            }
                            batch ??= ArrayPool<byte>.Shared.Rent(BatchBytes);
                            frame.Bytes.Span.CopyTo(batch.AsSpan(fill));
                            fill += frame.Length;
                        }
                        finally
                        {
                            frame.Release();
                        }
                    }
                    if (fill > 0)
                        await SendAllAsync(batch.AsMemory(0, fill), token);
                }
                finally
                {
                    _sendGate.Release();
                    if (batch is not null)
                        ArrayPool<byte>.Shared.Return(batch);
                }
                if (closeWritten)
                    break;
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            Abort();
        }
        finally
        {
            while (reader.TryRead(out var frame))
                frame.Release();
        }
    }

    private async ValueTask SendAllAsync(ReadOnlyMemory<byte> data, CancellationToken token)
    {
        while (!data.IsEmpty)
        {
            var sent = await _socket.SendAsync(data, SocketFlags.None, token);
            data = data[sent..];
        }
    }

    // Closes our sending side, then reads (and drops) until the peer closes too or the close timeout fires. Closing
    // a socket with unread input makes the kernel send RST, which can destroy the response or Close frame we just
    // sent before the peer reads it.
    private async Task LingerAsync()
    {
        try
        {
            _socket.Shutdown(SocketShutdown.Send);
        }
        catch (SocketException)
        {
            return;
        }
        var sink = ArrayPool<byte>.Shared.Rent(4096);
        try
        {
            while (await _socket.ReceiveAsync(sink, SocketFlags.None, _abort.Token) > 0)
            {
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException)
        {
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(sink);
        }
    }
}
