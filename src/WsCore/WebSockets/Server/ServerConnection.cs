using System.Buffers;
using System.Buffers.Binary;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Text;
using System.Threading.Tasks.Sources;
using Serilog;
using WsCore.WebSockets.Protocol;
using WsCore.WebSockets.Tls;

namespace WsCore.WebSockets.Server;

/// <summary>
/// One accepted TCP connection: the handshake (or a page / error response), then a receive loop feeding a
/// <see cref="MessageDecoder"/>. Frames go out from whichever thread has them when the socket is free (a send to an
/// idle client costs one non-blocking send call and nothing else); what arrives while a write is under way waits in a
/// queue, and the writer of the moment drains it in batches before it lets go of the socket.
/// </summary>
/// <remarks>
/// A busy server holds thousands of these idle for hours, so an idle connection holds as little as the sockets allow:
/// no receive buffer (zero-byte reads), no writer task, no queue until a backlog forms, no decoder until the client
/// sends, no cancellation registrations or timers (the server's one housekeeping timer checks deadlines), and on Linux
/// no async state machine either: its receive side is pumped by readiness callbacks (<see cref="Pump"/>), as an event
/// loop's connections are. With TLS or without epoll the receive loop is one async state machine.
/// <para>With TLS (<see cref="WebSocketServerOptions.Tls"/>) every read and write goes through an
/// <see cref="SslStream"/>; a plain connection makes the same socket calls as before TLS existed, and the two differ
/// only by a null check of <c>_tls</c> where they read and write.</para>
/// </remarks>
internal sealed class ServerConnection : IThreadPoolWorkItem, IReadinessListener
{
    private enum State { Handshaking, Open, Closing, Closed }

    private const int ReceiveBufferBytes = 16 * 1024;
    // The writer copies queued frames into one batch buffer of this size and sends it in one call, so a burst of
    // small frames (a broadcast storm) costs one syscall per batch rather than one per frame.
    private const int BatchBytes = 64 * 1024;

    // The first byte of a TLS record carrying a handshake message, a ClientHello first (RFC 8446 §5.1: type 22).
    private const byte TlsHandshakeRecord = 0x16;

    private readonly WebSocketServer _server;
    private readonly Socket _socket;
    // Set once the TLS handshake succeeded; null on a plain connection (and on a TLS one before its handshake).
    private SslStream? _tls;
    private State _state = State.Handshaking;

    /// <summary>This connection's place in the server's list of pending handshakes (oldest first), or null.</summary>
    internal LinkedListNode<ServerConnection>? PendingNode;
    // Frames waiting while someone else writes; created when the first backlog forms.
    private Queue<OutgoingFrame>? _queue;
    private int _queuedBytes;
    // True while one thread owns the socket's sending side (an inline send, or a drain of the queue). When false, the
    // queue is empty.
    private bool _writing;
    // Completed once our Close frame is on the wire (or can never be): the receive loop waits for it before it closes
    // TCP.
    private TaskCompletionSource? _closeSent;
    // When the handshake or the close handshake must be over (Environment.TickCount64); the server's housekeeping
    // timer aborts the connection after it. A field instead of a CancellationTokenSource per connection: idle
    // connections are the many, and a timer registration each would outweigh the rest of the connection.
    private long _deadline = long.MaxValue;
    private ushort _closeCode = CloseStatus.AbnormalClosure;
    private string _closeReason = "";
    private bool _closedByServer;
    private long _lastActivity = Environment.TickCount64;
    private long _pingSentAt;
    private bool _pingOutstanding;
    private bool _openedPublished;
    // A slot of WebSocketServerOptions.Admission is held (released when the connection ends).
    private bool _admitted;
    private bool _closeReceived;
    // permessage-deflate (RFC 7692), when negotiated: our compressor (its zlib stream made on the first message sent)
    // and whether the client resets its own after each message. Null on a connection that does not compress.
    private MessageDeflater? _deflater;
    private bool _clientNoContextTakeover;

    // Plain connections on Linux read with the socket's own non-blocking receive and wait for readiness on the
    // process's epoll thread (SocketReadiness): no asynchronous socket state per connection. Null with TLS (SslStream
    // reads through the runtime's asynchronous receive) and where epoll is not available.
    private readonly SocketReadiness? _readiness;
    private long _readinessToken;
    private bool _readinessRefused;
    // ReadMaybe: data may be waiting (nothing seen to say otherwise since the last event); ReadDrained: the last read
    // found the socket empty; ReadWaiting: the receive loop waits on _readWait for the next event.
    private const int ReadMaybe = 0, ReadDrained = 1, ReadWaiting = 2;
    private int _readState = ReadMaybe;
    // Made at the first such wait: a connection the pump serves seldom waits this way (its handshake starts when the
    // head is there), so an idle one holds none.
    private ReadinessWait? _readWait;

    public ServerConnection(WebSocketServer server, Socket socket, IPEndPoint remote)
    {
        _server = server;
        _socket = socket;
        RemoteEndPoint = remote;
        if (server.Options.Tls is null && SocketReadiness.Next() is { } readiness)
        {
            // Reads and writes its descriptor with non-blocking calls of its own (DescriptorIo): the socket stays in
            // the mode it was accepted in.
            _readiness = readiness;
        }
        else
        {
            // Synchronous sends then return WouldBlock instead of waiting: see SendAllAsync.
            _socket.Blocking = false;
        }
    }

    /// <summary>Assigned when the handshake succeeds and the client is registered; 0 before.</summary>
    public int Id { get; set; }

    public IPEndPoint RemoteEndPoint { get; }

    public bool IsOpen => _state == State.Open;

    /// <summary>When the TCP connection was accepted.</summary>
    public DateTimeOffset ConnectedAt => new(_connectedAtTicks, TimeSpan.Zero);

    private readonly long _connectedAtTicks = DateTime.UtcNow.Ticks;
    private static int s_nextSerial;
    private readonly int _serial = Interlocked.Increment(ref s_nextSerial);

    // Guards _state, _queue, _queuedBytes, _writing and _closeSent. The connection locks itself: it is internal and
    // nobody else locks it, and a lock object would cost 40 bytes on every idle connection. Its hash code is a serial
    // (below), so the object header never holds a hash and the lock stays a thin lock instead of a sync block.
    private object StateLock => this;

    public override int GetHashCode() => _serial;

    public override bool Equals(object? obj) => ReferenceEquals(this, obj);

    private WebSocketServerOptions Options => _server.Options;

    private ILogger Log => _server.Options.Logger;

    private long _messagesIn;
    private long _messagesOut;

    /// <summary>Data messages received from the client.</summary>
    public long MessagesIn => Interlocked.Read(ref _messagesIn);

    /// <summary>Data messages queued to the client.</summary>
    public long MessagesOut => Interlocked.Read(ref _messagesOut);

    /// <summary>The connection's life: the handshake, then the receive loop, then the end.</summary>
    /// <remarks>
    /// On Linux a plain connection waits for its request head on readiness callbacks (<see cref="PumpHead"/>), and once
    /// its handshake is done its receive side is pumped by them (<see cref="Pump"/>): the handshake runs when the whole
    /// head is there, so it seldom waits, and an idle connection holds no async state machine (a connect storm then
    /// allocates 1.7 KB per connection instead of 2.4, and 10,000 idle clients hold 2 MB less). With TLS, or without
    /// epoll, the handshake and the receive loop run in <see cref="ServeAsync"/> on the thread pool. The server waits
    /// for connections to end (<see cref="WebSocketServer.OnConnectionEnded"/>), not for the task this returns.
    /// </remarks>
    public Task RunAsync()
    {
        // The request head has a short deadline of its own: a connection that sends half a head and stops holds a
        // pending slot (WebSocketServerOptions.MaxPendingHandshakes) only that long. With TLS, the TLS handshake comes
        // first and counts against the same deadline, so a stalled hello is cut off just as soon.
        Volatile.Write(
            ref _deadline,
            Environment.TickCount64
                + (long)Math.Min(
                    Options.RequestHeadTimeout.TotalMilliseconds, Options.HandshakeTimeout.TotalMilliseconds));
        if (_readiness is not null)
        {
            // Idle before the registration: its event (for bytes already there) or the first one after it finds the
            // pump ready to look for the head, on the epoll thread, not this accept loop's.
            Volatile.Write(ref _pump, PumpIdle);
            if (IsRegistered())
                return Task.CompletedTask;
            Volatile.Write(ref _pump, PumpOff);
        }
        return ServeAsync(leaveTheCaller: true);
    }

    // The handshake, then (with TLS, or without epoll) the receive loop and the end.
    private async Task ServeAsync(bool leaveTheCaller)
    {
        // Leaves the accept loop at once: the handshake runs on the thread pool.
        if (leaveTheCaller)
            await Task.Yield();
        var buffer = (byte[]?)null;
        MessageDecoder? decoder = null;
        var ending = true;
        try
        {
            if (Options.Tls is { } tls && !await StartTlsAsync(tls))
                return;
            var leftover = await HandshakeAsync();
            _server.OnHandshakeEnded(this);
            if (leftover is null)
                return;
            Volatile.Write(ref _deadline, long.MaxValue);

            if (_readiness is not null && IsRegistered())
            {
                ending = false;
                StartPumping(leftover);
                return;
            }

            // Made when the client first sends: a client that only listens (a dashboard, a counter display) never needs
            // one.
            var done = leftover.Length > 0 && await ProcessAsync(decoder = NewDecoder(), leftover, 0, leftover.Length);
            var drained = false;
            while (!done)
            {
                // Idle: wait for data without a buffer (a zero-byte read, or readiness), so an idle client holds no
                // receive buffer. No token: Abort and the deadlines end it by closing the socket.
                if (drained || decoder is null || decoder.IsIdle)
                    await WaitReadableAsync();
                buffer = ArrayPool<byte>.Shared.Rent(ReceiveBufferBytes);
                var read = await ReceiveAvailableAsync(buffer.AsMemory());
                drained = read < 0;
                if (drained)
                {
                    // Nothing after all (readiness, not data): wait again without the buffer.
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = null;
                    continue;
                }
                if (read == 0)
                {
                    NoteEndOfStream();
                    return;
                }
                Volatile.Write(ref _lastActivity, Environment.TickCount64);
                Volatile.Write(ref _pingOutstanding, false);
                done = await ProcessAsync(decoder ??= NewDecoder(), buffer, 0, read);
                ArrayPool<byte>.Shared.Return(buffer);
                buffer = null;
            }
            await CompleteCloseAsync();
        }
        catch (Exception e)
        {
            NoteFailure(e);
        }
        finally
        {
            if (ending)
                await FinishAsync(decoder, buffer);
        }
    }

    // TCP ended. After our Close that completes the handshake; otherwise it is abnormal (1006).
    private void NoteEndOfStream()
    {
        lock (StateLock)
        {
            if (_state == State.Open)
            {
                _closeCode = CloseStatus.AbnormalClosure;
                _closeReason = "connection ended without a close frame";
            }
        }
    }

    // The peer vanished, a deadline passed, or the server is stopping: the close code says which. Anything else is a
    // bug of ours, logged, and the client is told 1011.
    private void NoteFailure(Exception e)
    {
        if (IsConnectionFailure(e))
            return;
        Log.Error(e, "client {Client} ({Remote}): unexpected error", Id, RemoteEndPoint);
        lock (StateLock)
            _closeCode = CloseStatus.InternalServerError;
    }

    // The close handshake is under way: let our Close go out, then close TCP first (§7.1.1).
    private async Task CompleteCloseAsync()
    {
        Task? closeSent;
        lock (StateLock)
            closeSent = _closeSent?.Task;
        if (closeSent is not null)
            await closeSent;
        if (_closeReceived)
        {
            // Both Close frames are exchanged: nothing more may come from the client, so closing at once cannot
            // destroy unread data. (Waiting for the client's FIN would stall clients that only close on dispose.)
            await ShutdownSendingAsync();
            return;
        }
        await LingerAsync();
    }

    // Releases everything the connection holds and tells the server it has ended.
    private async Task FinishAsync(MessageDecoder? decoder, byte[]? buffer)
    {
        decoder?.Dispose();
        if (buffer is not null)
            ArrayPool<byte>.Shared.Return(buffer);
        ushort closeCode;
        string closeReason;
        bool closedByServer;
        lock (StateLock)
        {
            _state = State.Closed;
            DiscardQueueLocked();
            // Under the lock: a sender compresses under it only while the connection is open.
            _deflater?.Dispose();
            _closeSent?.TrySetResult();
            (closeCode, closeReason, closedByServer) = (_closeCode, _closeReason, _closedByServer);
        }
        _tls?.Dispose();
        _socket.Dispose();
        if (_readinessToken != 0)
            _readiness!.Release(_readinessToken);
        ReleaseAdmission();
        _server.OnHandshakeEnded(this);
        try
        {
            if (Id != 0)
                await _server.OnClientClosedAsync(this, closeCode, closeReason, closedByServer, _openedPublished);
        }
        finally
        {
            _server.OnConnectionEnded(this);
        }
    }

    // The receive side on readiness callbacks (Linux, plain connections), after the handshake. _pump: Off while the
    // receive side is elsewhere (the handshake, the end); Idle until the next event; Running while one thread reads and
    // processes; Requested when an event came meanwhile, so the runner reads once more before it goes idle; Queued
    // when the connection itself is queued to the thread pool to run it (listeners not inline). The one runner at a
    // time is the ordering of a connection's messages.
    private const int PumpOff = 0, PumpIdle = 1, PumpRunning = 2, PumpRequested = 3, PumpQueued = 4;
    private int _pump;
    // Made when the client first sends (a client that only listens never needs one); the pump's runner's alone.
    private MessageDecoder? _decoder;

    // What one step of the pump came to.
    private enum Pumped { Drained, Paused, Closing, Ended }

    // Waits for the whole request head without holding anything: each event peeks at what the socket holds, and the
    // handshake starts (ServeAsync, which then reads it without waiting) once the head is complete, or cannot become a
    // request, or is too large, or the connection ended. Data that comes after a peek raises a new event.
    private void PumpHead()
    {
        var ready = false;
        var peek = ArrayPool<byte>.Shared.Rent(Options.MaxRequestHeadBytes);
        try
        {
            while (true)
            {
                var head = peek.AsSpan(0, Options.MaxRequestHeadBytes);
                var available = DescriptorIo.Receive(_socket.SafeHandle, head, out var error, peek: true);
                ready = error != SocketError.WouldBlock
                    && (error != SocketError.Success || available == 0 || IsHeadReady(head[..available]));
                if (ready || TryGoIdle())
                    break;
            }
        }
        catch (Exception e)
        {
            StopPumping(Pumped.Ended, e); // closed meanwhile (Abort: the head's deadline)
            return;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(peek);
        }
        if (ready)
        {
            Volatile.Write(ref _pump, PumpOff);
            _ = ServeAsync(leaveTheCaller: false);
        }
    }

    private bool IsHeadReady(ReadOnlySpan<byte> received) =>
        received.IndexOf("\r\n\r\n"u8) >= 0 || received.Length >= Options.MaxRequestHeadBytes
        || !CanStartHttpRequest(received);

    private void StartPumping(byte[] leftover)
    {
        // Any wait of the handshake is over: let go of its source (and the state machine its continuation holds).
        _readWait = null;
        // Running before anything is read: an event from here on (the registration's, for bytes that came with the
        // head) asks for one more read instead of being lost.
        Volatile.Write(ref _pump, PumpRunning);
        Pumped outcome;
        try
        {
            outcome = leftover.Length > 0 ? Consume(leftover, 0, leftover.Length, pooled: false) : Pumped.Drained;
        }
        catch (Exception e)
        {
            StopPumping(Pumped.Ended, e);
            return;
        }
        if (outcome == Pumped.Drained)
            Pump();
        else if (outcome != Pumped.Paused)
            StopPumping(outcome, null);
    }

    // The runner's last step once the socket is drained: idle, unless an event came while it ran (Requested), in
    // which case it is Running again and must read once more, or that event's data would wait for the next one.
    private bool TryGoIdle()
    {
        if (Interlocked.CompareExchange(ref _pump, PumpIdle, PumpRunning) == PumpRunning)
            return true;
        Volatile.Write(ref _pump, PumpRunning);
        return false;
    }

    private void RequestPump()
    {
        while (true)
        {
            switch (Volatile.Read(ref _pump))
            {
                case PumpIdle:
                    if (_readiness!.InlineListeners)
                    {
                        if (Interlocked.CompareExchange(ref _pump, PumpRunning, PumpIdle) != PumpIdle)
                            continue;
                        Pump();
                    }
                    else
                    {
                        if (Interlocked.CompareExchange(ref _pump, PumpQueued, PumpIdle) != PumpIdle)
                            continue;
                        ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
                    }
                    return;
                case PumpRunning:
                    if (Interlocked.CompareExchange(ref _pump, PumpRequested, PumpRunning) != PumpRunning)
                        continue;
                    return;
                default:
                    return; // Requested already, queued (it has not read yet), or the pump has stopped
            }
        }
    }

    // Reads and processes until the socket is drained, then goes idle unless an event came meanwhile. One buffer for
    // the run, rented here (the readiness thread's spare one, usually) and returned before idling: an idle connection
    // holds none.
    private void Pump()
    {
        if (_state == State.Handshaking)
        {
            PumpHead();
            return;
        }
        var buffer = (byte[]?)_readiness!.RentBuffer(ReceiveBufferBytes);
        try
        {
            while (true)
            {
                var outcome = ReadAndProcess(buffer!);
                if (outcome == Pumped.Paused)
                {
                    buffer = null; // ResumeAfterPublishAsync's now
                    return;
                }
                if (outcome != Pumped.Drained)
                {
                    StopPumping(outcome, null);
                    return;
                }
                if (TryGoIdle())
                    return;
            }
        }
        catch (Exception e)
        {
            StopPumping(Pumped.Ended, e);
        }
        finally
        {
            if (buffer is not null)
                _readiness.ReturnBuffer(buffer);
        }
    }

    // Reads until the kernel has no more (EAGAIN, or a read shorter than the buffer: data that comes after it raises
    // a new edge-triggered event, which finds the pump running), processing each read.
    private Pumped ReadAndProcess(byte[] buffer)
    {
        while (true)
        {
            var read = DescriptorIo.Receive(_socket.SafeHandle, buffer, out var error);
            if (error == SocketError.WouldBlock)
                return Pumped.Drained;
            if (error != SocketError.Success)
                throw new SocketException((int)error);
            if (read == 0)
            {
                NoteEndOfStream();
                return Pumped.Ended;
            }
            Volatile.Write(ref _lastActivity, Environment.TickCount64);
            Volatile.Write(ref _pingOutstanding, false);
            var outcome = Consume(buffer, 0, read, pooled: true);
            if (outcome != Pumped.Drained || read < buffer.Length)
                return outcome;
        }
    }

    // Feeds bytes to the decoder and acts on each event. Paused when a message event has to wait for room in the
    // event channel: ResumeAfterPublishAsync then owns the rest of the bytes (and the buffer, when pooled) and the
    // pump, and carries on when the event is in.
    private Pumped Consume(byte[] data, int offset, int count, bool pooled)
    {
        var decoder = _decoder ??= NewDecoder();
        while (true)
        {
            var processed = Process(decoder, data, offset, count, out var consumed, out var received);
            if (processed != Processed.Publish)
                return processed == Processed.Closing ? Pumped.Closing : Pumped.Drained;
            offset += consumed;
            count -= consumed;
            var publish = _server.PublishAsync(received!);
            if (!publish.IsCompletedSuccessfully)
            {
                _ = ResumeAfterPublishAsync(publish, data, offset, count, pooled);
                return Pumped.Paused;
            }
            publish.GetAwaiter().GetResult();
        }
    }

    private async Task ResumeAfterPublishAsync(ValueTask publish, byte[] data, int offset, int count, bool pooled)
    {
        Pumped outcome;
        try
        {
            await publish;
            outcome = Consume(data, offset, count, pooled);
            if (outcome == Pumped.Paused)
                return; // the next resume owns the bytes
        }
        catch (Exception e)
        {
            outcome = Pumped.Ended;
            NoteFailure(e);
        }
        if (pooled)
            _readiness!.ReturnBuffer(data);
        if (outcome == Pumped.Drained)
            Pump(); // reads on: what came while paused is in the socket, and the pump is still this thread's
        else
            StopPumping(outcome, null);
    }

    // The pump's runner ends the receive side: the close handshake's end when it is under way, then the rest.
    private void StopPumping(Pumped outcome, Exception? failure)
    {
        Volatile.Write(ref _pump, PumpOff);
        if (failure is not null)
            NoteFailure(failure);
        _ = EndPumpedAsync(failure is null && outcome == Pumped.Closing);
    }

    private async Task EndPumpedAsync(bool closing)
    {
        try
        {
            if (closing)
                await CompleteCloseAsync();
        }
        catch (Exception e)
        {
            NoteFailure(e);
        }
        finally
        {
            await FinishAsync(Interlocked.Exchange(ref _decoder, null), null);
        }
    }

    // A slot of WebSocketServerOptions.Admission goes back once, whichever way the connection ends.
    private void ReleaseAdmission()
    {
        if (_admitted)
        {
            _admitted = false;
            Options.Admission!.Release();
        }
    }

    private MessageDecoder NewDecoder() => new(
        expectMaskedFrames: true,
        Options.MaxMessageBytes,
        _deflater is null ? null : new MessageInflater(_clientNoContextTakeover));

    /// <summary>True when permessage-deflate was negotiated: data messages go through
    /// <see cref="EnqueueCompressed"/>.</summary>
    public bool Compresses => _deflater is not null;

    // The largest frame SendMessage encodes on the stack and writes straight from there.
    private const int DirectFrameBytes = 1024;

    /// <summary>
    /// Sends a data message to this one client (<see cref="WebSocketServer.Send"/> with its id): compressed when
    /// negotiated, else as <see cref="Enqueue"/> would. False when the connection is not open or the message was
    /// refused (see <see cref="Enqueue"/>).
    /// </summary>
    public bool SendMessage(Opcode opcode, ReadOnlySpan<byte> payload)
    {
        if (_deflater is not null)
            return EnqueueCompressed(opcode, payload);
        var length = FrameEncoder.GetFrameLength(payload.Length, masked: false);
        if (length <= DirectFrameBytes && _tls is null && TryTakeWritingForDirect())
        {
            // The socket is this thread's and nothing waits before this message (an echo's usual case): the frame is
            // encoded on the stack and written from there, with no pooled frame to make, reference and release.
            Span<byte> frame = stackalloc byte[length];
            FrameEncoder.Encode(frame, opcode, payload);
            SendDirect(frame);
            return true;
        }
        var single = OutgoingFrame.Create(opcode, payload);
        var sent = Enqueue(single);
        single.Release();
        return sent;
    }

    // Takes the sending side when it is free and the connection open (what Enqueue does for a frame written inline).
    private bool TryTakeWritingForDirect()
    {
        lock (StateLock)
        {
            if (_state != State.Open || _writing)
                return false;
            Interlocked.Increment(ref _messagesOut);
            _writing = true;
            return true;
        }
    }

    // SendInline for a frame on the stack (plain connections): one non-blocking send; what the kernel did not take is
    // copied into a pooled frame and goes out asynchronously, as SendInline's remainder does.
    private void SendDirect(ReadOnlySpan<byte> frame)
    {
        int sent;
        SocketError error;
        try
        {
            sent = SendNow(frame, out error);
        }
        catch (Exception e) when (IsConnectionFailure(e))
        {
            WriteFailed();
            return;
        }
        if (error is not (SocketError.Success or SocketError.WouldBlock))
        {
            WriteFailed();
            return;
        }
        if (sent < frame.Length)
        {
            var rest = OutgoingFrame.CopyOf(frame[sent..]);
            _ = FinishSendInlineAsync(SendRemainderAsync(rest.Bytes), rest);
            return;
        }
        StopWritingOrDrain();
    }

    /// <summary>
    /// Compresses a data message for this client and sends or queues it, as <see cref="Enqueue"/> does. Compressing
    /// and queueing happen under the connection's lock: with context takeover the client inflates messages in the
    /// order they were compressed, so that must be the order they go out in.
    /// </summary>
    public bool EnqueueCompressed(Opcode opcode, ReadOnlySpan<byte> payload, bool mayWriteInline = true)
    {
        OutgoingFrame frame;
        bool writeInline;
        lock (StateLock)
        {
            if (_state != State.Open || _deflater is null)
                return false;
            frame = OutgoingFrame.CreateCompressed(opcode, payload, _deflater);
            if (!EnqueueLocked(frame, mayWriteInline, out writeInline))
            {
                frame.Release();
                return false;
            }
        }
        if (writeInline)
            SendInline(frame);
        frame.Release();
        return true;
    }

    /// <summary>
    /// Sends a frame, or queues it behind a write under way. Returns false when the connection is not open, or when
    /// the frame would take a non-empty backlog over its bound: then the client is closed with 1008 (it is not
    /// reading fast enough).
    /// </summary>
    /// <param name="frame">The frame; the connection takes its own reference.</param>
    /// <param name="mayWriteInline">
    /// True to let the caller's thread write the frame when the socket is free (a send to one client). A broadcast
    /// passes false: one thread making a send call per client costs far more than each client's writer batching its
    /// backlog on the thread pool.
    /// </param>
    public bool Enqueue(OutgoingFrame frame, bool mayWriteInline = true)
    {
        bool writeInline;
        lock (StateLock)
        {
            if (!EnqueueLocked(frame, mayWriteInline, out writeInline))
                return false;
        }
        if (writeInline)
            SendInline(frame);
        return true;
    }

    // Enqueue's decision under the lock: false when the frame is refused; writeInline when the caller's thread owns
    // the socket now and must call SendInline (the frame then holds a reference for it).
    private bool EnqueueLocked(OutgoingFrame frame, bool mayWriteInline, out bool writeInline)
    {
        writeInline = false;
        if (_state != State.Open)
            return false;
        // The bound is on the backlog behind a write under way: a frame finding the backlog empty always goes
        // (a 16 MiB echo is no sign of a slow reader), a client whose backlog keeps growing is one.
        if (_queuedBytes > 0 && _queuedBytes + frame.Length > Options.MaxQueuedBytesPerClient)
        {
            var queued = _queuedBytes;
            BeginCloseLocked(CloseStatus.PolicyViolation, "too slow: outgoing queue full", discardQueued: true);
            _server.OnSlowClientDropped(this, queued);
            return false;
        }
        Interlocked.Increment(ref _messagesOut);
        frame.AddReference();
        if (_writing || !mayWriteInline)
        {
            QueueLocked(frame);
            return true;
        }
        // The socket is free and nothing waits: this thread writes. Handing the frame to another thread instead
        // costs a thread switch per message, which dominated the server's CPU per echoed message.
        _writing = true;
        writeInline = true;
        return true;
    }

    // Queues a frame, and gets a writer going on the thread pool when nobody writes.
    private void QueueLocked(OutgoingFrame frame)
    {
        (_queue ??= new Queue<OutgoingFrame>()).Enqueue(frame);
        _queuedBytes += frame.Length;
        if (_writing)
            return;
        _writing = true;
        ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
    }

    // The connection is queued to the thread pool for two jobs, at most one of each at a time: a writer's drain
    // (QueueLocked) and the pump (RequestPump, listeners not inline). Whichever item runs first takes the pump if it is
    // queued, the other one drains: each item queued does one job.
    void IThreadPoolWorkItem.Execute()
    {
        if (Interlocked.CompareExchange(ref _pump, PumpRunning, PumpQueued) == PumpQueued)
            Pump();
        else
            _ = DrainAsync();
    }

    // Sends one frame from the caller's thread (which owns the sending side), then drains what was queued meanwhile.
    // The common case, an echo or a reply to one client whose socket buffer has room, is one non-blocking send call
    // and a look at the queue: no async state machine runs, since one per message was a measurable share of the
    // server's own CPU per echo. What the kernel does not take at once goes out asynchronously.
    private void SendInline(OutgoingFrame frame)
    {
        ValueTask sending;
        try
        {
            sending = SendAllAsync(frame.Bytes);
        }
        catch (Exception e) when (IsConnectionFailure(e))
        {
            frame.Release();
            WriteFailed();
            return;
        }
        if (!sending.IsCompletedSuccessfully)
        {
            _ = FinishSendInlineAsync(sending, frame);
            return;
        }
        frame.Release();
        StopWritingOrDrain();
    }

    private async Task FinishSendInlineAsync(ValueTask sending, OutgoingFrame frame)
    {
        try
        {
            await sending;
        }
        catch (Exception e) when (IsConnectionFailure(e))
        {
            WriteFailed();
            return;
        }
        finally
        {
            frame.Release();
        }
        await DrainAsync();
    }

    // The writer's own write is done: gives up the sending side, or drains what was queued meanwhile (DrainAsync would
    // find that out too, but the hot path is spared its state machine).
    private void StopWritingOrDrain()
    {
        bool stopped;
        lock (StateLock)
            stopped = TryStopWritingLocked();
        if (!stopped)
            _ = DrainAsync();
    }

    // Gives up the sending side when nothing is left to write (or the connection is over). Under the lock.
    private bool TryStopWritingLocked()
    {
        if (_queue is { Count: > 0 } && _state != State.Closed)
            return false;
        _writing = false;
        return true;
    }

    // Writes what is queued, in batches, until the queue is empty; then gives up the sending side. Only the owner of
    // the sending side (_writing) calls it. Completes synchronously, allocating nothing, when the queue is empty.
    private async Task DrainAsync()
    {
        byte[]? batch = null;
        try
        {
            while (true)
            {
                OutgoingFrame? single = null;
                var fill = 0;
                var closeWritten = false;
                lock (StateLock)
                {
                    if (TryStopWritingLocked())
                        return;
                    while (_queue!.TryPeek(out var frame))
                    {
                        if (fill == 0 && (frame.Length > BatchBytes || _queue.Count == 1))
                        {
                            // Alone in the queue, or too big to batch: sent straight from its shared buffer.
                            single = _queue.Dequeue();
                            _queuedBytes -= frame.Length;
                            closeWritten = frame.Opcode == Opcode.Close;
                            break;
                        }
                        if (frame.Length > BatchBytes - fill)
                            break;
                        _queue.Dequeue();
                        _queuedBytes -= frame.Length;
                        batch ??= ArrayPool<byte>.Shared.Rent(BatchBytes);
                        frame.Bytes.Span.CopyTo(batch.AsSpan(fill));
                        fill += frame.Length;
                        closeWritten = frame.Opcode == Opcode.Close;
                        frame.Release();
                    }
                }
                if (single is not null)
                {
                    try
                    {
                        await SendAllAsync(single.Bytes);
                    }
                    finally
                    {
                        single.Release();
                    }
                }
                else
                {
                    await SendAllAsync(batch.AsMemory(0, fill));
                }
                if (closeWritten)
                {
                    // The Close is always the last frame queued (nothing is accepted after it, §5.5.1).
                    lock (StateLock)
                        _closeSent?.TrySetResult();
                }
            }
        }
        catch (Exception e) when (IsConnectionFailure(e))
        {
            WriteFailed();
        }
        finally
        {
            if (batch is not null)
                ArrayPool<byte>.Shared.Return(batch);
        }
    }

    // A write failed: the connection is finished. The sending side stays taken so nothing else tries to write; the
    // receive loop's end releases whatever is still queued.
    private void WriteFailed()
    {
        Abort();
        lock (StateLock)
            _closeSent?.TrySetResult();
    }

    // Frames dropped unsent: the connection is closing for a client that stopped reading, or it is over.
    private void DiscardQueueLocked()
    {
        if (_queue is null)
            return;
        while (_queue.TryDequeue(out var frame))
            frame.Release();
        _queuedBytes = 0;
    }

    /// <summary>
    /// Starts the close handshake from the server's side (§7.1.2); the connection ends when the client answers or the
    /// close timeout passes.
    /// </summary>
    public bool BeginClose(ushort code, string reason)
    {
        lock (StateLock)
        {
            if (_state == State.Handshaking)
            {
                Abort();
                return false;
            }
            return BeginCloseLocked(code, reason, discardQueued: false);
        }
    }

    /// <summary>Ends the connection at once, without a close handshake.</summary>
    /// <remarks>
    /// Closing the socket is what ends a pending read or send: they carry no cancellation token (a registration per
    /// idle connection costs memory ten thousand times over).
    /// </remarks>
    public void Abort()
    {
        _socket.Dispose();
        // A closed socket leaves the epoll set without an event: wake a waiting receive loop to find it closed. Not
        // on this thread: Abort is called under locks the loop's continuation takes. (Whatever the token says: it may
        // be written a moment after this.)
        if (_readiness is not null)
            ThreadPool.UnsafeQueueUserWorkItem(static c => c.OnReadable(), this, preferLocal: false);
    }

    /// <summary>Aborts a connection whose handshake or close handshake outlived its timeout.</summary>
    public void CheckDeadline(long now)
    {
        if (now >= Volatile.Read(ref _deadline))
            Abort();
    }

    /// <summary>
    /// Keep-alive (§5.5.2): ping a client silent for an interval, drop one that stays silent another interval.
    /// </summary>
    public void CheckAlive(long now, long intervalMs)
    {
        if (_state != State.Open)
            return;
        if (Volatile.Read(ref _pingOutstanding))
        {
            if (now - _pingSentAt >= intervalMs)
            {
                Log.Information("client {Client} ({Remote}): no answer to ping; dropping", Id, RemoteEndPoint);
                lock (StateLock)
                {
                    _closeCode = CloseStatus.AbnormalClosure;
                    _closeReason = "no answer to ping";
                    _closedByServer = true;
                }
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
        if (discardQueued)
            DiscardQueueLocked();
        QueueCloseLocked(OutgoingFrame.CreateClose(code, reason));
        return true;
    }

    // The Close frame bypasses the queue bound: it is the last thing this client gets. From here the close timeout
    // runs.
    private void QueueCloseLocked(OutgoingFrame close)
    {
        _closeSent = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        QueueLocked(close);
        ArmCloseTimeout();
    }

    // From now on the connection has the close timeout to finish (§7.1.1: the server closes TCP first, but waits for
    // the client's Close only this long).
    private void ArmCloseTimeout() =>
        Volatile.Write(ref _deadline, Environment.TickCount64 + (long)Options.CloseTimeout.TotalMilliseconds);

    // Reads and answers the request head. Returns the bytes received after the head for an upgraded client, or null
    // when the connection was answered with a page or an error and is done. (A ValueTask: started by the pump once the
    // head is all there, it seldom waits, and then makes no task.)
    private async ValueTask<byte[]?> HandshakeAsync()
    {
        var buffer = ArrayPool<byte>.Shared.Rent(Options.MaxRequestHeadBytes);
        try
        {
            var filled = 0;
            HttpRequestHead? request;
            int headLength;
            while (true)
            {
                var read = await ReceiveAsync(buffer.AsMemory(filled, Options.MaxRequestHeadBytes - filled));
                if (read == 0)
                    return null;
                filled += read;
                if (!CanStartHttpRequest(buffer.AsSpan(0, filled)))
                {
                    // A TLS ClientHello (0x16 0x03 …) or other binary: answered at once, not left to time out. (Inside
                    // TLS it cannot be a second TLS.)
                    await RespondAndCloseAsync(
                        ServerHandshake.BuildErrorResponse(
                            400,
                            _tls is null
                                ? "not an HTTP request (TLS? this server speaks plain ws://)"
                                : "not an HTTP request"),
                        "400 not HTTP");
                    return null;
                }
                var status = HttpRequestHead.TryParse(
                    buffer.AsSpan(0, filled), Options.MaxRequestHeadBytes, out request, out headLength);
                if (status == HttpParseStatus.Complete)
                    break;
                if (status == HttpParseStatus.TooLarge)
                {
                    await RespondAndCloseAsync(
                        ServerHandshake.BuildErrorResponse(431, "request head too large"),
                        "431 request head too large");
                    return null;
                }
                if (status == HttpParseStatus.Malformed)
                {
                    await RespondAndCloseAsync(
                        ServerHandshake.BuildErrorResponse(400, "malformed HTTP request"), "400 malformed request");
                    return null;
                }
            }

            Volatile.Write(ref _deadline, Environment.TickCount64 + (long)Options.HandshakeTimeout.TotalMilliseconds);
            var decision = ServerHandshake.Evaluate(request!, Options.Subprotocols, Options.Compression);
            if (decision.Outcome == HandshakeOutcome.Upgrade && Options.Origins is { } origins
                && OriginVerdictOf(request!, origins) is var verdict && !OriginPolicy.IsAccepted(verdict))
            {
                _server.OnOriginRefused(this, request!.Get("Origin") ?? "", request.Get("Host"), verdict);
                await RespondAndCloseAsync(ServerHandshake.BuildErrorResponse(403, "origin not allowed"), null);
                return null;
            }
            switch (decision.Outcome)
            {
                case HandshakeOutcome.PageRequest:
                    var page = Options.PageHandler?.Invoke(request!);
                    var response = page is null
                        ? ServerHandshake.BuildErrorResponse(404, "not found")
                        : ServerHandshake.BuildResponse(
                            200, page.Body.Span, page.ContentType, headOnly: request!.Method == "HEAD");
                    await RespondAndCloseAsync(
                        response, $"{request!.Method} {request.Target} -> {(page is null ? 404 : 200)}");
                    return null;
                case HandshakeOutcome.Reject:
                    await RespondAndCloseAsync(ServerHandshake.BuildErrorResponse(decision.StatusCode, decision.Detail),
                        $"{decision.StatusCode} {decision.Detail}");
                    return null;
            }

            if (Options.Admission is { } admission)
            {
                if (!await admission.TryAdmitAsync())
                {
                    Log.Warning("refused {Remote}: {Why} (503)", RemoteEndPoint, admission.RefusalText);
                    var refusal = Encoding.UTF8.GetBytes(admission.RefusalText + "\n");
                    await RespondAndCloseAsync(
                        ServerHandshake.BuildResponse(503, refusal, extraHeaders: ["Retry-After: 5"]), null);
                    return null;
                }
                _admitted = true;
            }
            var registration = _server.TryRegister(this);
            if (registration != Registration.Registered)
            {
                ReleaseAdmission();
                string body;
                if (registration == Registration.Full)
                {
                    Log.Warning("refused {Remote}: {Count} clients already connected (503)", RemoteEndPoint,
                        Options.MaxClients);
                    body = $"server full: at most {Options.MaxClients} WebSocket clients; try again later\n";
                }
                else
                {
                    Log.Warning("refused {Remote}: no client id to give (503)", RemoteEndPoint);
                    body = "no client id can be given now; try again later\n";
                }
                await RespondAndCloseAsync(
                    ServerHandshake.BuildResponse(503, Encoding.UTF8.GetBytes(body), extraHeaders: ["Retry-After: 5"]),
                    null);
                return null;
            }
            // Out of the pending handshakes before the 101 goes out: a client that reads it and opens its next
            // connection (bench opens 64 at a time) must not find this one still counted, and the oldest evicted.
            _server.OnHandshakeEnded(this);
            lock (StateLock)
            {
                _state = State.Open;
                // The 101 response goes out first: a broadcast that reaches the new client meanwhile queues behind it.
                _writing = true;
            }
            if (decision.Deflate is { } deflate)
            {
                // Our window may not exceed server_max_window_bits; our context resets when the client asked.
                _deflater = new MessageDeflater(deflate.ServerMaxWindowBits, deflate.ServerNoContextTakeover);
                _clientNoContextTakeover = deflate.ClientNoContextTakeover;
            }
            await SendAllAsync(
                ServerHandshake.BuildUpgradeResponse(decision.Accept!, decision.Subprotocol, decision.Extensions));
            await DrainAsync();
            await _server.OnClientOpenedAsync(this, request!.Target, decision.Subprotocol);
            _openedPublished = true;
            return buffer.AsSpan(headLength, filled - headLength).ToArray();
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// Whether the bytes can begin an HTTP/1.1 request: a method token of uppercase letters (RFC 9110 §9: the
    /// registered methods are all uppercase) followed by a space. Anything else is not worth waiting for.
    /// </summary>
    private static bool CanStartHttpRequest(ReadOnlySpan<byte> received)
    {
        const int longestMethod = 16;
        for (var i = 0; i < received.Length && i <= longestMethod; i++)
        {
            if (received[i] == (byte)' ')
                return i > 0;
            if (received[i] is < (byte)'A' or > (byte)'Z')
                return false;
        }
        return received.Length <= longestMethod;
    }

    // One Origin header is the rule (RFC 6454 §7.3): several are refused as not an origin at all, as the firmware does.
    private static OriginVerdict OriginVerdictOf(HttpRequestHead request, OriginPolicy origins)
    {
        var origin = request.GetSingle("Origin", out var count);
        return count > 1 ? OriginVerdict.Invalid : origins.Check(origin, request.Get("Host"));
    }

    private async Task RespondAndCloseAsync(byte[] response, string? logLine)
    {
        if (logLine is not null)
            Log.Debug("{Remote}: {What}", RemoteEndPoint, logLine);
        ArmCloseTimeout();
        await SendAllAsync(response);
        await LingerAsync();
    }

    // What Process stopped at.
    private enum Processed { NeedMoreData, Closing, Publish }

    // Feeds received bytes to the decoder and acts on each event. True when the connection is closing. Synchronous
    // (no async state machine per read) unless a message event is published: only the event channel can make the
    // receive loop wait.
    private ValueTask<bool> ProcessAsync(MessageDecoder decoder, byte[] data, int offset, int count)
    {
        var processed = Process(decoder, data, offset, count, out var consumed, out var received);
        return processed == Processed.Publish
            ? PublishAndProcessAsync(decoder, data, offset + consumed, count - consumed, received!)
            : new(processed == Processed.Closing);
    }

    private async ValueTask<bool> PublishAndProcessAsync(
        MessageDecoder decoder, byte[] data, int offset, int count, MessageReceived received)
    {
        while (true)
        {
            await _server.PublishAsync(received);
            var processed = Process(decoder, data, offset, count, out var consumed, out var next);
            if (processed != Processed.Publish)
                return processed == Processed.Closing;
            (offset, count, received) = (offset + consumed, count - consumed, next!);
        }
    }

    // The decoder's events acted on, until the data is used up, the connection closes, or a message is to be
    // published (Publish, with the bytes consumed so far). The data is the connection's own (a receive buffer, the
    // handshake's leftover): the decoder unmasks a message in one read where it lies (DecodeInPlace).
    // Not one skeleton with WebSocketClient.ProcessAsync, though the loops look alike: what the two share (framing,
    // reassembly, masking rules, UTF-8 and close-code checks, RFC 6455 §5-7) is already one piece, MessageDecoder. What
    // is left is the role's answer to each status, and none of those is the client's: a message goes to the handler
    // and the event channel (not a receive queue), a Pong goes through the shared write queue, a Close or violation
    // changes the state under the connection's lock. A common loop would be this switch calling five callbacks: as
    // many lines, plus an interface call and a second async frame on the receive path of every message.
    private Processed Process(
        MessageDecoder decoder, byte[] data, int offset, int count, out int consumed, out MessageReceived? received)
    {
        consumed = 0;
        received = null;
        while (true)
        {
            var status = decoder.DecodeInPlace(data, offset + consumed, count - consumed, out var used);
            consumed += used;
            switch (status)
            {
                case DecodeStatus.NeedMoreData:
                    return decoder.IsClosed ? Processed.Closing : Processed.NeedMoreData;
                case DecodeStatus.Message:
                    // §7.1.4-ish: after our Close, data from the peer is ignored.
                    if (_state == State.Open)
                    {
                        Interlocked.Increment(ref _messagesIn);
                        if (Options.MessageHandler is { } handler && !TryHandle(handler, decoder))
                            return Processed.Closing;
                        if (Options.PublishMessageEvents)
                        {
                            var message = new WebSocketMessage(decoder.MessageType, decoder.DetachMessage());
                            received = new MessageReceived(Id, RemoteEndPoint, message);
                            return Processed.Publish;
                        }
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
                    lock (StateLock)
                    {
                        if (_state == State.Open)
                        {
                            // §5.5.1: answer with a Close, echoing the code.
                            _state = State.Closing;
                            _closeCode = decoder.CloseCode;
                            _closeReason = decoder.CloseReason;
                            _closedByServer = false;
                            QueueCloseLocked(OutgoingFrame.CreateClose(decoder.CloseCode, ""));
                        }
                    }
                    return Processed.Closing;
                case DecodeStatus.ProtocolError:
                    Log.Information("client {Client} ({Remote}): {Reason}; closing with {Code}",
                        Id, RemoteEndPoint, decoder.Violation.Reason, decoder.Violation.CloseCode);
                    lock (StateLock)
                        BeginCloseLocked(decoder.Violation.CloseCode, decoder.Violation.Reason, discardQueued: false);
                    return Processed.Closing;
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
            Log.Error(
                e, "client {Client} ({Remote}): the message handler failed; closing with 1011", Id, RemoteEndPoint);
            lock (StateLock)
                BeginCloseLocked(
                    CloseStatus.InternalServerError, "server error handling the message", discardQueued: false);
            return false;
        }
    }

    // Writes all of data: first with one non-blocking send (DescriptorIo's, or the socket's in non-blocking mode),
    // which for the frames a WebSocket server sends almost always takes everything and needs none of the asynchronous
    // machinery (whose per-socket state would otherwise stay allocated on every idle connection); what the kernel did
    // not take goes out asynchronously.
    private ValueTask SendAllAsync(ReadOnlyMemory<byte> data)
    {
        if (_tls is not null)
            return _tls.WriteAsync(data);
        var sent = SendNow(data.Span, out var error);
        if (error == SocketError.Success && sent == data.Length)
            return ValueTask.CompletedTask;
        if (error is not (SocketError.Success or SocketError.WouldBlock))
            return ValueTask.FromException(new SocketException((int)error));
        return SendRemainderAsync(data[sent..]);
    }

    // One non-blocking send on a plain connection: how much the kernel took (WouldBlock: nothing, for now).
    private int SendNow(ReadOnlySpan<byte> data, out SocketError error) => _readiness is not null
        ? DescriptorIo.Send(_socket.SafeHandle, data, out error)
        : _socket.Send(data, SocketFlags.None, out error);

    private async ValueTask SendRemainderAsync(ReadOnlyMemory<byte> data)
    {
        while (!data.IsEmpty)
        {
            var sent = await _socket.SendAsync(data, SocketFlags.None);
            data = data[sent..];
        }
    }

    // A plain connection reads the socket itself; a TLS one reads through its SslStream. Waits for data; 0 at the end.
    private ValueTask<int> ReceiveAsync(Memory<byte> buffer) =>
        _tls is null ? ReceiveSocketAsync(buffer) : _tls.ReadAsync(buffer);

    private ValueTask<int> ReceiveSocketAsync(Memory<byte> buffer) =>
        _readiness is null ? _socket.ReceiveAsync(buffer, SocketFlags.None) : ReceiveWhenReadableAsync(buffer);

    private async ValueTask<int> ReceiveWhenReadableAsync(Memory<byte> buffer)
    {
        int read;
        while ((read = TryReceive(buffer.Span)) < 0)
            await WaitReadableAsync();
        return read;
    }

    // What is there now: -1 when the socket is empty (with readiness; otherwise this waits for data like
    // ReceiveAsync), so the receive loop can wait without holding its buffer.
    private ValueTask<int> ReceiveAvailableAsync(Memory<byte> buffer) =>
        _readiness is not null ? new(TryReceive(buffer.Span)) : ReceiveAsync(buffer);

    // Until data or the end arrives, without a buffer: readiness, or a zero-byte read (its result is 0 either way).
    private ValueTask<int> WaitReadableAsync()
    {
        if (_readiness is null)
            return ReceiveAsync(Memory<byte>.Empty); // TLS, or no epoll here
        if (!IsRegistered())
            return _socket.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None);
        if (Volatile.Read(ref _readState) == ReadMaybe)
            return new(0);
        var wait = _readWait ??= new ReadinessWait(runContinuationsAsynchronously: !_readiness.InlineListeners);
        var version = wait.Reset();
        if (Interlocked.CompareExchange(ref _readState, ReadWaiting, ReadDrained) == ReadDrained)
            return new(wait, version);
        return new(0); // an event came in between
    }

    // One non-blocking receive; -1 when the socket has nothing.
    private int TryReceive(Span<byte> buffer)
    {
        // Drained first, with a full fence (before the receive looks at the socket): an event from here on says there
        // is something new, and is not overwritten below.
        Interlocked.Exchange(ref _readState, ReadDrained);
        var read = DescriptorIo.Receive(_socket.SafeHandle, buffer, out var error);
        if (error == SocketError.Success)
        {
            if (read == buffer.Length || read == 0)
                Volatile.Write(ref _readState, ReadMaybe); // maybe more behind a full buffer; the end stays readable
            return read;
        }
        if (error != SocketError.WouldBlock)
            throw new SocketException((int)error);
        return -1;
    }

    // Registered when the connection is accepted (or on the first wait); data already there is reported at once.
    // Should the kernel refuse it (no memory for epoll), this connection waits with zero-byte reads instead. The token
    // is set before the kernel can report anything: the pump, which an event can start on the epoll thread before
    // Register has returned here, finds the connection registered and does not register it twice.
    private bool IsRegistered()
    {
        if (Volatile.Read(ref _readinessToken) == 0 && !_readinessRefused)
            _readinessRefused = !_readiness!.Register(_socket, this, ref _readinessToken);
        return !_readinessRefused;
    }

    void IReadinessListener.OnReadable() => OnReadable();

    private void OnReadable()
    {
        // The pump when it has the receive side; otherwise a wait of the handshake or of the end.
        if (Volatile.Read(ref _pump) != PumpOff)
        {
            RequestPump();
            return;
        }
        if (Interlocked.Exchange(ref _readState, ReadMaybe) == ReadWaiting)
            _readWait!.Complete();
    }

    // A wait for the next readiness event, reused by every such wait of one connection.
    private sealed class ReadinessWait : IValueTaskSource<int>
    {
        private ManualResetValueTaskSourceCore<int> _core;

        public ReadinessWait(bool runContinuationsAsynchronously) =>
            _core.RunContinuationsAsynchronously = runContinuationsAsynchronously;

        // Ready for the next wait; its token.
        public short Reset()
        {
            _core.Reset();
            return _core.Version;
        }

        public void Complete() => _core.SetResult(0);

        public int GetResult(short token) => _core.GetResult(token);

        public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

        public void OnCompleted(
            Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
            _core.OnCompleted(continuation, state, token, flags);
    }

    // Ends our sending side: TLS's close_notify first (RFC 8446 §6.1: a TLS peer may otherwise take the end for a
    // truncation), then TCP's FIN.
    private async ValueTask ShutdownSendingAsync()
    {
        if (_tls is not null)
            await _tls.ShutdownAsync();
        _socket.Shutdown(SocketShutdown.Send);
    }

    private static bool IsConnectionFailure(Exception e) =>
        e is OperationCanceledException or SocketException or ObjectDisposedException or IOException
            or AuthenticationException;

    /// <summary>
    /// The TLS handshake, before anything else is read. A connection that opens with anything but a TLS handshake
    /// record (a plain <c>ws://</c> or <c>http://</c> request) gets a plain <c>400</c> saying what to use instead, as
    /// nginx answers plain HTTP on its TLS port (its 497), rather than a TLS alert that a plain client cannot read:
    /// the mirror of the <c>400</c> a plain server gives a ClientHello. False when the connection is done.
    /// </summary>
    private async Task<bool> StartTlsAsync(ServerTls tls)
    {
        // Peeked, not read: the hello is SslStream's to read.
        var first = new byte[1];
        if (await _socket.ReceiveAsync(first.AsMemory(), SocketFlags.Peek) == 0)
            return false;
        if (first[0] != TlsHandshakeRecord)
        {
            await RespondAndCloseAsync(
                ServerHandshake.BuildErrorResponse(400, "this server speaks TLS: use wss:// or https://"),
                "400 plain request on a TLS port");
            return false;
        }
        // NetworkStream refuses a socket in non-blocking mode; only asynchronous calls are made through it, so the
        // mode changes nothing else here.
        _socket.Blocking = true;
        var stream = new SslStream(new NetworkStream(_socket, ownsSocket: false));
        try
        {
            await stream.AuthenticateAsServerAsync(tls.Authentication, CancellationToken.None);
        }
        catch (AuthenticationException e)
        {
            // Usually a client that does not trust the certificate (a browser before its exception is added).
            Log.Debug(
                "{Remote}: TLS handshake failed: {Error}", RemoteEndPoint, e.InnerException?.Message ?? e.Message);
            await stream.DisposeAsync();
            return false;
        }
        catch
        {
            await stream.DisposeAsync();
            throw;
        }
        _tls = stream;
        return true;
    }

    // Closes our sending side, then reads (and drops) until the peer closes too or the close timeout fires. Closing
    // a socket with unread input makes the kernel send RST, which can destroy the response or Close frame we just
    // sent before the peer reads it.
    private async Task LingerAsync()
    {
        try
        {
            await ShutdownSendingAsync();
        }
        catch (Exception e) when (IsConnectionFailure(e))
        {
            return;
        }
        var sink = ArrayPool<byte>.Shared.Rent(4096);
        try
        {
            while (await ReceiveSocketAsync(sink.AsMemory()) > 0)
            {
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(sink);
        }
    }
}
