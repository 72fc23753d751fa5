using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading.Channels;
using Serilog;
using WsCore.WebSockets.Protocol;

namespace WsCore.WebSockets.Client;

/// <summary>
/// A WebSocket client (RFC 6455) over any <see cref="Stream"/>: TCP for <c>ws://</c>, TLS for <c>wss://</c>. A
/// background loop reads frames, answers pings, matches pongs to <see cref="PingAsync"/> and queues messages for
/// <see cref="ReceiveAsync"/>.
/// </summary>
/// <remarks>
/// Thread-safety: sends (<see cref="SendAsync"/>, <see cref="SendTextAsync"/>, <see cref="SendFrameAsync"/>,
/// <see cref="PingAsync"/>, <see cref="CloseAsync"/>) may be called concurrently; they are serialised. Have one caller
/// of <see cref="ReceiveAsync"/> at a time. Failures are <see cref="WsCoreException"/>s whose
/// <see cref="FailureKind"/> says what happened (NameNotResolved, ConnectionFailed, Tls, HandshakeRejected, Timeout,
/// ConnectionEnded).
/// </remarks>
public sealed class WebSocketClient : IAsyncDisposable
{
    private const int ReceiveBufferBytes = 16 * 1024;
    private const int MaxResponseHeadBytes = 16 * 1024;
    private const int LargeFramePieceBytes = 64 * 1024;
    private static readonly TimeSpan RefusalBodyWait = TimeSpan.FromMilliseconds(500);

    private readonly Stream _stream;
    private readonly WebSocketClientOptions _options;
    private readonly ILogger _log;
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly Channel<WebSocketMessage> _messages;
    private readonly ConcurrentDictionary<long, TaskCompletionSource<TimeSpan>> _pings = new();
    private readonly CancellationTokenSource _abort = new();
    private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    // A protocol violation whose Close waits until the application has taken the messages before it.
    private volatile PendingClose? _pendingViolation;

    private sealed record PendingClose(ushort CloseCode, string Reason);
    private Task _reader = Task.CompletedTask;
    private long _nextPing;
    private long _messagesDropped;
    private volatile bool _closeSent;
    private ushort _closeCodeSent;
    private volatile WsCoreException? _failure;
    // permessage-deflate (RFC 7692), when the server accepted it: our compressor, used under _sendLock.
    private readonly MessageDeflater? _deflater;

    private WebSocketClient(
        Stream stream,
        Uri uri,
        string? subprotocol,
        IPEndPoint? remote,
        HttpResponseHead response,
        WebSocketClientOptions options,
        DeflateParameters? deflate)
    {
        _stream = stream;
        Compression = deflate;
        // Our window may not exceed client_max_window_bits; our context resets when the server asked.
        if (deflate is not null)
            _deflater = new MessageDeflater(deflate.ClientMaxWindowBits, deflate.ClientNoContextTakeover);
        Uri = uri;
        HandshakeResponse = response;
        Subprotocol = subprotocol;
        RemoteEndPoint = remote;
        _options = options;
        _log = options.Logger;
        _messages = Channel.CreateBounded<WebSocketMessage>(new BoundedChannelOptions(options.ReceiveQueueCapacity)
        {
            FullMode = options.DropUnreadMessages ? BoundedChannelFullMode.DropOldest : BoundedChannelFullMode.Wait,
            SingleWriter = true,
        }, dropped =>
        {
            Interlocked.Increment(ref _messagesDropped);
            dropped.Dispose();
        });
    }

    /// <summary>The URL connected to.</summary>
    public Uri Uri { get; }

    /// <summary>The subprotocol the server selected, or null.</summary>
    public string? Subprotocol { get; }

    /// <summary>What permessage-deflate negotiated, or null when the connection does not compress.</summary>
    public DeflateParameters? Compression { get; }

    /// <summary>The server's 101 response: status line and headers (<c>Server</c>, extensions…), as received.</summary>
    public HttpResponseHead HandshakeResponse { get; }

    /// <summary>The server's address (null when connected over a caller's stream).</summary>
    public IPEndPoint? RemoteEndPoint { get; }

    /// <summary>How long the resolve, TCP, TLS and opening handshake took (a caller's stream: only the last).</summary>
    public ConnectTimings Timings { get; private set; } = ConnectTimings.None;

    /// <summary>The close code the server sent (1005 if its Close had none), or null while none came.</summary>
    public ushort? CloseStatus { get; private set; }

    /// <summary>The close reason the server sent, or null.</summary>
    public string? CloseReason { get; private set; }

    /// <summary>True once the connection has ended (close handshake done, failed or aborted).</summary>
    public bool IsClosed => _closed.Task.IsCompleted;

    /// <summary>
    /// Completes when the connection has ended (close handshake done, failed or aborted); never faults.
    /// </summary>
    public Task Completion => _closed.Task;

    /// <summary>Messages dropped unread (<see cref="WebSocketClientOptions.DropUnreadMessages"/>).</summary>
    public long MessagesDropped => Interlocked.Read(ref _messagesDropped);

    /// <summary>
    /// Connects to a <c>ws://</c> or <c>wss://</c> URL: resolves the name, connects TCP (each address in turn), adds
    /// TLS for wss, and completes the opening handshake, checking <c>Sec-WebSocket-Accept</c>.
    /// </summary>
    /// <exception cref="WsCoreException">NameNotResolved, ConnectionFailed, Tls, HandshakeRejected (message starts with
    /// the status, e.g. "503 Service Unavailable"), Timeout, or InvalidInput for a URL that is not ws/wss.</exception>
    public static async Task<WebSocketClient> ConnectAsync(
        Uri uri, WebSocketClientOptions? options = null, CancellationToken cancel = default)
    {
        options ??= new WebSocketClientOptions();
        var secure = uri.Scheme switch
        {
            "ws" => false,
            "wss" => true,
            _ => throw new WsCoreException(FailureKind.InvalidInput, $"'{uri}' is not a ws:// or wss:// URL"),
        };
        Connector.CheckPinNeedsTls(options.CertificatePin, secure, uri.ToString());
        var port = uri.IsDefaultPort ? (secure ? 443 : 80) : uri.Port;
        var host = uri.IdnHost;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        timeout.CancelAfter(options.ConnectTimeout);
        Socket? socket = null;
        Stream? stream = null;
        try
        {
            // One deadline for all the steps (ConnectTimeout): when it fires, the catch below says so.
            var started = Stopwatch.GetTimestamp();
            var limit = options.ConnectTimeout;
            var addresses = await Connector.ResolveAsync(host, options.Resolve, limit, cancel, timeout.Token);
            var resolved = Stopwatch.GetElapsedTime(started);
            var tcp = await Connector.ConnectTcpAsync(host, addresses, port, Timeout.InfiniteTimeSpan, timeout.Token);
            socket = tcp.Socket;
            stream = new NetworkStream(socket, ownsSocket: true);
            var tls = TimeSpan.Zero;
            if (secure)
            {
                started = Stopwatch.GetTimestamp();
                var untrusted = options.AllowUntrustedCertificate;
                var forever = Timeout.InfiniteTimeSpan;
                stream = await Connector.AuthenticateAsync(
                    stream, host, untrusted, options.CertificatePin, forever, timeout.Token);
                tls = Stopwatch.GetElapsedTime(started);
            }
            var client = await HandshakeAsync(stream, uri, tcp.RemoteEndPoint, options, timeout.Token);
            client.Timings = client.Timings with { Resolve = resolved, Connect = tcp.Elapsed, Tls = tls };
            stream = null;
            socket = null;
            return client;
        }
        catch (OperationCanceledException) when (!cancel.IsCancellationRequested)
        {
            throw new WsCoreException(
                FailureKind.Timeout,
                $"connecting to {uri} took longer than {options.ConnectTimeout.TotalSeconds:0.###} s");
        }
        finally
        {
            if (stream is not null)
                await stream.DisposeAsync();
            else
                socket?.Dispose();
        }
    }

    /// <summary>
    /// Completes the opening handshake over a stream the caller connected (an in-memory pipe in tests, a proxy
    /// tunnel, a serial bridge). The client owns the stream afterwards.
    /// </summary>
    public static async Task<WebSocketClient> ConnectAsync(
        Stream stream, Uri uri, WebSocketClientOptions? options = null, CancellationToken cancel = default)
    {
        options ??= new WebSocketClientOptions();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        timeout.CancelAfter(options.ConnectTimeout);
        try
        {
            return await HandshakeAsync(stream, uri, null, options, timeout.Token);
        }
        catch (OperationCanceledException) when (!cancel.IsCancellationRequested)
        {
            throw new WsCoreException(
                FailureKind.Timeout,
                $"the handshake with {uri} took longer than {options.ConnectTimeout.TotalSeconds:0.###} s");
        }
    }

    /// <summary>
    /// Sends one whole message (masked with a fresh key, §5.3), compressed when permessage-deflate was negotiated.
    /// </summary>
    public async Task SendAsync(MessageType type, ReadOnlyMemory<byte> payload, CancellationToken cancel = default)
    {
        var opcode = type == MessageType.Text ? Opcode.Text : Opcode.Binary;
        if (_deflater is null)
        {
            await SendFrameAsync(opcode, payload, fin: true, cancel);
            return;
        }
        ThrowIfEnded();
        await _sendLock.WaitAsync(cancel);
        var buffer = ArrayPool<byte>.Shared.Rent(MessageDeflater.EstimateLength(payload.Length));
        try
        {
            ThrowIfEnded();
            // Compressed under the send lock: with context takeover the server inflates messages in the order they
            // were compressed, which must be the order they are sent in.
            var length = _deflater.Compress(payload.Span, ref buffer, 0);
            var compressed = buffer.AsMemory(0, length);
            if (length > LargeFramePieceBytes)
                await WriteLargeFrameLockedAsync(opcode, compressed, fin: true, cancel, FrameEncoder.CompressedBit);
            else
                await WriteFrameLockedAsync(opcode, compressed.Span, fin: true, cancel, FrameEncoder.CompressedBit);
        }
        catch (Exception e) when (e is IOException or SocketException)
        {
            throw SendFailed(e);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            _sendLock.Release();
        }
    }

    /// <summary>Sends a text message.</summary>
    public Task SendTextAsync(string text, CancellationToken cancel = default) =>
        SendAsync(MessageType.Text, Encoding.UTF8.GetBytes(text), cancel);

    /// <summary>
    /// Sends one frame as given, uncompressed (RSV1 clear: a message may always go uncompressed, RFC 7692 §6), for
    /// fragmented messages (first frame Text/Binary with <paramref name="fin"/> false,
    /// then Continuation frames) and for tests that need exact frames.
    /// </summary>
    public async Task SendFrameAsync(
        Opcode opcode, ReadOnlyMemory<byte> payload, bool fin = true, CancellationToken cancel = default)
    {
        ThrowIfEnded();
        await _sendLock.WaitAsync(cancel);
        try
        {
            ThrowIfEnded();
            if (payload.Length > LargeFramePieceBytes)
                await WriteLargeFrameLockedAsync(opcode, payload, fin, cancel);
            else
                await WriteFrameLockedAsync(opcode, payload.Span, fin, cancel);
        }
        catch (Exception e) when (e is IOException or SocketException)
        {
            throw SendFailed(e);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    /// <summary>
    /// The next message. Returns null when the connection closed normally (1000 or 1001 from the server, or after
    /// <see cref="CloseAsync"/>); then <see cref="CloseStatus"/> says how.
    /// </summary>
    /// <exception cref="WsCoreException">ConnectionEnded: the server closed with another code, broke the protocol, or
    /// the TCP connection ended without a Close frame.</exception>
    public async ValueTask<WebSocketMessage?> ReceiveAsync(CancellationToken cancel = default)
    {
        while (await _messages.Reader.WaitToReadAsync(cancel))
        {
            if (_messages.Reader.TryRead(out var message))
                return message;
        }
        if (_failure is { } failure)
        {
            if (_pendingViolation is { } violation)
                await TrySendCloseAsync(violation.CloseCode, violation.Reason);
            throw new WsCoreException(failure.Kind, failure.Message, failure.Hint, failure.InnerException);
        }
        return null;
    }

    /// <summary>
    /// Sends a Ping and waits for its Pong; returns the round-trip time. Works while nobody calls
    /// <see cref="ReceiveAsync"/>: the background reader matches the Pong.
    /// </summary>
    public async Task<TimeSpan> PingAsync(CancellationToken cancel = default)
    {
        var id = Interlocked.Increment(ref _nextPing);
        var pong = new TaskCompletionSource<TimeSpan>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pings[id] = pong;
        try
        {
            var payload = new byte[16];
            BinaryPrimitives.WriteInt64BigEndian(payload, id);
            BinaryPrimitives.WriteInt64BigEndian(payload.AsSpan(8), Stopwatch.GetTimestamp());
            await SendFrameAsync(Opcode.Ping, payload, fin: true, cancel);
            return await pong.Task.WaitAsync(cancel);
        }
        finally
        {
            _pings.TryRemove(id, out _);
        }
    }

    /// <summary>
    /// Closes: sends a Close with <paramref name="code"/> and <paramref name="reason"/>, waits up to
    /// <see cref="WebSocketClientOptions.CloseTimeout"/> for the server's Close and the end of TCP, then releases the
    /// connection. Safe to call more than once and after the server closed.
    /// </summary>
    /// <returns>True when the connection ended within the wait (the server answered and closed TCP, or the
    /// connection was already over); false when the wait ran out first: then <see cref="CloseStatus"/> is null if no
    /// Close came at all.</returns>
    public async Task<bool> CloseAsync(
        ushort code = Protocol.CloseStatus.NormalClosure, string reason = "", CancellationToken cancel = default)
    {
        if (!IsClosed && !_closeSent)
        {
            try
            {
                await SendCloseAsync(code, reason, cancel);
            }
            catch (Exception e) when (e is IOException or ObjectDisposedException or WsCoreException)
            {
                // Already gone: nothing to wait for.
            }
        }
        var ended = await Task.WhenAny(_closed.Task, Task.Delay(_options.CloseTimeout, cancel)) == _closed.Task;
        await DisposeAsync();
        return ended;
    }

    /// <summary>
    /// Whether the server sent its Close before we sent ours (it ended the session); false when it answered ours or
    /// no Close came.
    /// </summary>
    public bool ClosedByServer { get; private set; }

    /// <summary>
    /// After <see cref="CloseAsync"/>: throws ConnectionEnded when the server's Close was not a normal end (a code
    /// other than 1000, 1001 or an empty body, <see cref="Protocol.CloseStatus.IsNormalEnd"/>, nor the echo of the
    /// code we closed with). A server that sent no
    /// Close within <see cref="WebSocketClientOptions.CloseTimeout"/> is not an error here: what was sent was
    /// delivered; callers that must see the answer check <see cref="CloseStatus"/> for null.
    /// </summary>
    /// <exception cref="WsCoreException">ConnectionEnded, naming the code, its meaning and the reason.</exception>
    public void ThrowIfClosedAbnormally()
    {
        // §5.5.1: the answer to our Close normally echoes its code; that is the end asked for, whatever the code.
        if (CloseStatus is { } code && !Protocol.CloseStatus.IsNormalEnd(code)
            && (ClosedByServer || code != _closeCodeSent))
            throw new WsCoreException(FailureKind.ConnectionEnded,
                $"the server {(ClosedByServer ? "closed the connection" : "answered the close")} " +
                Protocol.CloseStatus.Phrase(code, CloseReason));
    }

    /// <summary>Ends the connection at once (no close handshake) and releases everything.</summary>
    public async ValueTask DisposeAsync()
    {
        _abort.Cancel();
        try
        {
            await _reader;
        }
        catch
        {
            // The reader records its own failure.
        }
        await _stream.DisposeAsync();
        while (_messages.Reader.TryRead(out var message))
            message.Dispose();
        // After the reader ended; a sender still inside the send lock finishes first.
        if (_deflater is not null)
        {
            await _sendLock.WaitAsync();
            _deflater.Dispose();
            _sendLock.Release();
        }
    }

    private static async Task<WebSocketClient> HandshakeAsync(
        Stream stream, Uri uri, IPEndPoint? remote, WebSocketClientOptions options, CancellationToken cancel)
    {
        var started = Stopwatch.GetTimestamp();
        var key = ClientHandshake.CreateKey();
        var offerCompression = options.Compression && PerMessageDeflate.IsSupported;
        var request = ClientHandshake.BuildRequest(
            uri, key, options.Subprotocols, options.Origin, options.Headers, offerCompression);
        var buffer = ArrayPool<byte>.Shared.Rent(MaxResponseHeadBytes);
        try
        {
            await stream.WriteAsync(request, cancel);
            await stream.FlushAsync(cancel);
            var filled = 0;
            while (true)
            {
                int read;
                try
                {
                    read = await stream.ReadAsync(buffer.AsMemory(filled, MaxResponseHeadBytes - filled), cancel);
                }
                catch (IOException e)
                {
                    throw new WsCoreException(
                        FailureKind.HandshakeRejected,
                        $"the server dropped the connection during the handshake: {e.Message}",
                        null,
                        e);
                }
                if (read == 0)
                    throw new WsCoreException(
                        FailureKind.HandshakeRejected,
                        "the server closed the connection without answering the handshake");
                filled += read;
                var status = HttpResponseHead.TryParse(
                    buffer.AsSpan(0, filled), MaxResponseHeadBytes, out var response, out var headLength);
                if (status == HttpParseStatus.NeedMoreData)
                    continue;
                if (status != HttpParseStatus.Complete)
                    throw new WsCoreException(
                        FailureKind.HandshakeRejected, "the server's answer is not an HTTP response");
                if (response!.StatusCode != 101)
                {
                    var body = await ReadRefusalBodyAsync(
                        stream, buffer, headLength, filled, response.Get("Content-Length"), cancel);
                    var (message, hint) = ClientHandshake.DescribeRefusal(response, body.Span);
                    throw new WebSocketHandshakeException(message, response, hint);
                }
                var problem = ClientHandshake.Validate(
                    response, key, options.Subprotocols, offerCompression, out var subprotocol, out var deflate);
                if (problem is not null)
                    throw new WebSocketHandshakeException(problem, response);
                var client = new WebSocketClient(stream, uri, subprotocol, remote, response!, options, deflate)
                {
                    Timings = ConnectTimings.None with { Handshake = Stopwatch.GetElapsedTime(started) },
                };
                var leftover = buffer.AsSpan(headLength, filled - headLength).ToArray();
                client._reader = Task.Run(() => client.ReadLoopAsync(leftover));
                return client;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    // The start of a refusal's body (its first line says why: "origin not allowed"): what came with the head, and
    // what follows within a moment when the head came alone. Never more than RefusalBodyBytes, never long.
    private static async Task<ReadOnlyMemory<byte>> ReadRefusalBodyAsync(Stream stream, byte[] buffer, int headLength,
        int filled, string? contentLength, CancellationToken cancel)
    {
        var wanted = int.TryParse(contentLength, out var length) ? Math.Min(length, ClientHandshake.RefusalBodyBytes)
            : ClientHandshake.RefusalBodyBytes;
        var end = Math.Min(filled, headLength + wanted);
        using var moment = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        moment.CancelAfter(RefusalBodyWait);
        try
        {
            while (end - headLength < wanted && end < buffer.Length)
            {
                var read = await stream.ReadAsync(buffer.AsMemory(end, Math.Min(buffer.Length - end,
                    headLength + wanted - end)), moment.Token);
                if (read == 0)
                    break;
                end += read;
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException)
        {
            // What arrived is what is shown.
        }
        return buffer.AsMemory(headLength, end - headLength);
    }

    private async Task ReadLoopAsync(byte[] leftover)
    {
        using var decoder = new MessageDecoder(
            expectMaskedFrames: false,
            _options.MaxMessageBytes,
            Compression is { } deflate ? new MessageInflater(deflate.ServerNoContextTakeover) : null);
        var buffer = ArrayPool<byte>.Shared.Rent(ReceiveBufferBytes);
        try
        {
            var done = leftover.Length > 0 && await ProcessAsync(decoder, leftover);
            while (!done)
            {
                var read = await _stream.ReadAsync(buffer, _abort.Token);
                if (read == 0)
                {
                    if (CloseStatus is null)
                        Fail($"the connection to {Uri} ended without a close frame (1006)");
                    break;
                }
                done = await ProcessAsync(decoder, buffer.AsMemory(0, read));
            }
            // Done: the server closes TCP first after the close handshake (§7.1.1); wait for that briefly.
            if (CloseStatus is not null)
            {
                using var linger = CancellationTokenSource.CreateLinkedTokenSource(_abort.Token);
                linger.CancelAfter(_options.CloseTimeout);
                while (await _stream.ReadAsync(buffer, linger.Token) > 0)
                {
                }
                // The handshake is over: close our side of TCP too, so the server is not left waiting for it.
                await _stream.DisposeAsync();
            }
        }
        catch (OperationCanceledException)
        {
            if (CloseStatus is null && _failure is null && !_closeSent)
                Fail("the connection was aborted");
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException)
        {
            if (CloseStatus is null)
                Fail($"the connection to {Uri} failed: {e.Message}");
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            _messages.Writer.TryComplete();
            foreach (var ping in _pings.Values)
                ping.TrySetException(_failure
                    ?? new WsCoreException(FailureKind.ConnectionEnded, "the connection closed before the pong"));
            _closed.TrySetResult();
        }
    }

    // True when decoding is over (Close received or a violation). Why this is not one loop with the server's: see
    // ServerConnection.ProcessAsync.
    private async ValueTask<bool> ProcessAsync(MessageDecoder decoder, ReadOnlyMemory<byte> data)
    {
        while (true)
        {
            var status = decoder.Decode(data.Span, out var consumed);
            data = data[consumed..];
            switch (status)
            {
                case DecodeStatus.NeedMoreData:
                    return false;
                case DecodeStatus.Message:
                    var message = new WebSocketMessage(decoder.MessageType, decoder.DetachMessage());
                    try
                    {
                        await _messages.Writer.WriteAsync(message, _abort.Token);
                    }
                    catch
                    {
                        message.Dispose();
                        throw;
                    }
                    break;
                case DecodeStatus.Ping:
                    await SendControlAsync(Opcode.Pong, decoder.Payload.ToArray());
                    break;
                case DecodeStatus.Pong:
                    var payload = decoder.Payload;
                    if (payload.Length == 16
                        && _pings.TryGetValue(BinaryPrimitives.ReadInt64BigEndian(payload), out var pong))
                        pong.TrySetResult(Stopwatch.GetElapsedTime(BinaryPrimitives.ReadInt64BigEndian(payload[8..])));
                    break;
                case DecodeStatus.Close:
                    CloseStatus = decoder.CloseCode;
                    CloseReason = decoder.CloseReason;
                    ClosedByServer = !_closeSent;
                    if (!Protocol.CloseStatus.IsNormalEnd(decoder.CloseCode) && !_closeSent)
                    {
                        Fail("the server closed the connection " +
                            Protocol.CloseStatus.Phrase(decoder.CloseCode, decoder.CloseReason));
                    }
                    if (!_closeSent)
                        await TrySendCloseAsync(
                            decoder.CloseCode == Protocol.CloseStatus.NoStatusReceived
                                ? Protocol.CloseStatus.NormalClosure
                                : decoder.CloseCode,
                            "");
                    return true;
                case DecodeStatus.ProtocolError:
                    var violation = decoder.Violation;
                    Fail($"the server broke the protocol: {violation.Reason} (closing with {violation.CloseCode})");
                    // The messages before the violation were valid (§7.1.7 fails the connection from this frame on):
                    // they are delivered first, and our Close goes out when the application has taken them and asks
                    // for more (ReceiveAsync sends it), so that what it sent in answer (an echo) precedes the Close.
                    // Bounded, for an application that does not read.
                    _pendingViolation = new PendingClose(violation.CloseCode, violation.Reason);
                    _messages.Writer.TryComplete();
                    try
                    {
                        await Task.Delay(_options.CloseTimeout, _abort.Token);
                    }
                    catch (OperationCanceledException)
                    {
                    }
                    await TrySendCloseAsync(violation.CloseCode, violation.Reason);
                    return true;
            }
        }
    }

    private void Fail(string message)
    {
        _failure ??= new WsCoreException(FailureKind.ConnectionEnded, message);
        _log.Debug("{Uri}: {Message}", Uri, message);
    }

    private async Task TrySendCloseAsync(ushort code, string reason)
    {
        try
        {
            await SendCloseAsync(code, reason, _abort.Token);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or OperationCanceledException
            or WsCoreException)
        {
        }
    }

    private async Task SendCloseAsync(ushort code, string reason, CancellationToken cancel)
    {
        var payload = new byte[FrameHeader.MaxControlPayload];
        var length = FrameEncoder.WriteClosePayload(payload, code, reason);
        await _sendLock.WaitAsync(cancel);
        try
        {
            if (_closeSent)
                return;
            _closeSent = true;
            _closeCodeSent = code;
            await WriteFrameLockedAsync(Opcode.Close, payload.AsSpan(0, length), true, cancel);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    private async Task SendControlAsync(Opcode opcode, byte[] payload)
    {
        await _sendLock.WaitAsync(_abort.Token);
        try
        {
            if (!_closeSent)
                await WriteFrameLockedAsync(opcode, payload, true, _abort.Token);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    private ValueTask WriteFrameLockedAsync(
        Opcode opcode, ReadOnlySpan<byte> payload, bool fin, CancellationToken cancel, byte rsv = 0)
    {
        var length = FrameEncoder.GetFrameLength(payload.Length, masked: true);
        var frame = ArrayPool<byte>.Shared.Rent(length);
        FrameEncoder.Encode(frame, opcode, payload, fin, Masking.NewKey(), rsv);
        return WriteAndReturnAsync(frame, length, cancel);
    }

    // A big message is masked and written a piece at a time, so sending it costs one piece of memory on top of the
    // payload rather than a second copy of it (a 100 MB stdin line).
    private async ValueTask WriteLargeFrameLockedAsync(
        Opcode opcode, ReadOnlyMemory<byte> payload, bool fin, CancellationToken cancel, byte rsv = 0)
    {
        var key = Masking.NewKey();
        var piece = ArrayPool<byte>.Shared.Rent(LargeFramePieceBytes);
        try
        {
            var header = FrameHeader.Write(piece, fin, opcode, payload.Length, key, rsv);
            await _stream.WriteAsync(piece.AsMemory(0, header), cancel);
            for (var offset = 0; offset < payload.Length; offset += LargeFramePieceBytes)
            {
                var count = Math.Min(LargeFramePieceBytes, payload.Length - offset);
                payload.Span.Slice(offset, count).CopyTo(piece);
                // §5.3: the mask index runs on from the frame's first payload byte.
                Masking.Apply(piece.AsSpan(0, count), key, offset);
                await _stream.WriteAsync(piece.AsMemory(0, count), cancel);
            }
            await _stream.FlushAsync(cancel);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(piece);
        }
    }

    private async ValueTask WriteAndReturnAsync(byte[] frame, int length, CancellationToken cancel)
    {
        try
        {
            await _stream.WriteAsync(frame.AsMemory(0, length), cancel);
            await _stream.FlushAsync(cancel);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(frame);
        }
    }

    private void ThrowIfEnded()
    {
        if (_closeSent || IsClosed)
            throw Ended();
    }

    // Why the connection ended, for a caller of this moment (a fresh exception: each throw gets its own trace).
    private WsCoreException Ended() => _failure is { } failure
        ? new WsCoreException(failure.Kind, failure.Message, failure.Hint)
        : new WsCoreException(FailureKind.ConnectionEnded, "the connection is closed");

    // A write the kernel refused (the server reset the connection, the pipe broke) ends the connection as a failed
    // read does: the sender gets the same WsCoreException, never the transport's IOException. If the receive loop
    // already knew why the connection ended, that reason is the one reported.
    private WsCoreException SendFailed(Exception e)
    {
        Fail($"the connection to {Uri} was lost while sending: {(e.InnerException ?? e).Message}");
        return Ended();
    }
}
