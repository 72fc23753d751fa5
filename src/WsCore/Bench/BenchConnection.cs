using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using WsCore.WebSockets.Client;
using WsCore.WebSockets.Protocol;

namespace WsCore.Bench;

/// <summary>
/// One load-generator connection on a raw socket: the opening handshake (accept key checked), masked frames out,
/// frames in with pings answered. Deliberately not <see cref="WsCore.WebSockets.Client.WebSocketClient"/>: a load
/// generator must cost the server, not itself (no background reader, no queues, buffers reused for every frame).
/// Not thread-safe: one task drives a connection.
/// </summary>
internal sealed class BenchConnection : IDisposable
{
    private readonly Socket _socket;
    private byte[] _receive = new byte[64 * 1024];
    private int _start;
    private int _end;
    private byte[] _send = new byte[1024];
    // permessage-deflate (RFC 7692), when the server accepted it: our compressor, the server's messages' inflater,
    // and buffers reused for every message.
    private MessageDeflater? _deflater;
    private MessageInflater? _inflater;
    private byte[] _compressed = [];
    private byte[] _inflated = [];
    private BenchStatistics? _stats;

    private BenchConnection(Socket socket) => _socket = socket;

    /// <summary>What permessage-deflate negotiated (the server's answer), or null.</summary>
    public string? Compression { get; private set; }

    public bool IsClosed { get; private set; }

    /// <summary>Which of the run's servers this connection went to (0: the target, then each --also in turn).</summary>
    public int Server { get; set; }

    /// <summary>Connects and completes the handshake; throws <see cref="WsCoreException"/> on a refusal.</summary>
    /// <param name="endpoint">The server's address.</param>
    /// <param name="uri">The URL (the request's Host and path).</param>
    /// <param name="cancel">Ends the attempt.</param>
    /// <param name="stats">Where the bytes on the wire are counted, or null.</param>
    /// <param name="compression">Offer permessage-deflate.</param>
    /// <param name="timeout">The limit for connecting and the handshake together; past it, a
    /// <see cref="FailureKind.Timeout"/> failure.</param>
    public static async Task<BenchConnection> OpenAsync(IPEndPoint endpoint, Uri uri, CancellationToken cancel,
        TimeSpan timeout, BenchStatistics? stats = null, bool compression = false)
    {
        var socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        var connection = new BenchConnection(socket) { _stats = stats };
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        limit.CancelAfter(timeout);
        try
        {
            return await connection.HandshakeAsync(endpoint, uri, compression, limit.Token);
        }
        catch (OperationCanceledException) when (!cancel.IsCancellationRequested)
        {
            connection.Dispose();
            throw new WsCoreException(FailureKind.Timeout,
                FormattableString.Invariant($"no handshake from {endpoint} within {timeout.TotalSeconds:0.#} s"),
                "is it a WebSocket server, and is it answering?");
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    private async Task<BenchConnection> HandshakeAsync(
        IPEndPoint endpoint, Uri uri, bool compression, CancellationToken cancel)
    {
        await _socket.ConnectAsync(endpoint, cancel);
        var key = ClientHandshake.CreateKey();
        await _socket.SendAsync(
            ClientHandshake.BuildRequest(uri, key, compression: compression), SocketFlags.None, cancel);
        while (true)
        {
            var n = await _socket.ReceiveAsync(
                _receive.AsMemory(_end), SocketFlags.None, cancel);
            if (n == 0)
                throw new WsCoreException(
                    FailureKind.HandshakeRejected, "the server closed the connection during the handshake");
            _end += n;
            var status = HttpResponseHead.TryParse(
                _receive.AsSpan(0, _end), 16 * 1024, out var head, out var headLength);
            if (status == HttpParseStatus.NeedMoreData)
                continue;
            if (status != HttpParseStatus.Complete)
                throw new WsCoreException(
                    FailureKind.HandshakeRejected, "the server's answer is not an HTTP response");
            if (head!.StatusCode != 101)
            {
                var (message, hint) = ClientHandshake.DescribeRefusal(
                    head, _receive.AsSpan(headLength, _end - headLength));
                throw new WebSocketHandshakeException(message, head, hint);
            }
            var problem = ClientHandshake.Validate(head, key, null, compression, out _, out var deflate);
            if (problem is not null)
                throw new WsCoreException(FailureKind.HandshakeRejected, problem);
            if (deflate is not null)
            {
                _deflater = new MessageDeflater(
                    deflate.ClientMaxWindowBits, deflate.ClientNoContextTakeover);
                _inflater = new MessageInflater(deflate.ServerNoContextTakeover);
                Compression = head.Get("Sec-WebSocket-Extensions");
            }
            _start = headLength;
            // What came after the head is the server's first frames: on the wire like the rest.
            _stats?.CountWire(0, _end - headLength);
            return this;
        }
    }

    /// <summary>Sends one masked frame (§5.3: every client frame is masked).</summary>
    public ValueTask<int> SendAsync(Opcode opcode, ReadOnlySpan<byte> payload, CancellationToken cancel)
    {
        byte rsv = 0;
        if (_deflater is not null && opcode is Opcode.Text or Opcode.Binary)
        {
            // Compressed whole (RFC 7692 §7.2.1), RSV1 on the frame (§6); control frames never are.
            var estimate = MessageDeflater.EstimateLength(payload.Length);
            if (_compressed.Length < estimate)
                _compressed = System.Buffers.ArrayPool<byte>.Shared.Rent(estimate);
            payload = _compressed.AsSpan(0, _deflater.Compress(payload, ref _compressed, 0));
            rsv = FrameEncoder.CompressedBit;
        }
        var length = FrameEncoder.GetFrameLength(payload.Length, masked: true);
        if (_send.Length < length)
            _send = new byte[Math.Max(length, _send.Length * 2)];
        var written = FrameEncoder.Encode(_send, opcode, payload, fin: true, maskKey: Masking.NewKey(), rsv);
        _stats?.CountWire(written, 0);
        return _socket.SendAsync(_send.AsMemory(0, written), SocketFlags.None, cancel);
    }

    /// <summary>
    /// The next data frame's or pong's payload (valid until the next call), answering the server's pings on the way;
    /// an empty result with <see cref="IsClosed"/> set when the server closed or the connection ended. Pongs are
    /// returned because ping mode measures with them; whoever reads for data messages skips them like any frame it
    /// did not ask for.
    /// </summary>
    public async ValueTask<(Opcode Opcode, ReadOnlyMemory<byte> Payload)> ReceiveAsync(CancellationToken cancel)
    {
        while (true)
        {
            var available = _receive.AsSpan(_start, _end - _start);
            var status = FrameHeader.TryRead(available, out var header, out var headerLength);
            if (status == FrameHeaderStatus.Complete && available.Length >= headerLength + header.PayloadLength)
            {
                var payload = _receive.AsMemory(_start + headerLength, (int)header.PayloadLength);
                _start += headerLength + (int)header.PayloadLength;
                switch (header.Opcode)
                {
                    case Opcode.Ping:
                        await SendAsync(Opcode.Pong, payload.Span, cancel);
                        continue;
                    case Opcode.Close:
                        IsClosed = true;
                        return (Opcode.Close, payload);
                    default:
                        if ((header.Rsv & FrameEncoder.CompressedBit) != 0 && _inflater is not null)
                            return (header.Opcode, Inflate(payload.Span));
                        return (header.Opcode, payload);
                }
            }
            if (status == FrameHeaderStatus.Complete && headerLength + header.PayloadLength > _receive.Length)
                Array.Resize(ref _receive, (int)Math.Min(int.MaxValue, headerLength + header.PayloadLength));
            else if (status is not (FrameHeaderStatus.Complete or FrameHeaderStatus.NeedMoreData))
                throw new WsCoreException(FailureKind.ConnectionEnded, $"the server sent a malformed frame ({status})");
            Compact();
            int n;
            try
            {
                n = await _socket.ReceiveAsync(_receive.AsMemory(_end), SocketFlags.None, cancel);
            }
            catch (SocketException)
            {
                n = 0;
            }
            if (n == 0)
            {
                IsClosed = true;
                return (Opcode.Close, default);
            }
            _end += n;
            _stats?.CountWire(0, n);
        }
    }

    // A whole compressed message (the servers measured send each in one frame) into the reused buffer, with the tail
    // its sender removed put back (RFC 7692 §7.2.2).
    private ReadOnlyMemory<byte> Inflate(ReadOnlySpan<byte> compressed)
    {
        var length = 0;
        var finishing = false;
        while (true)
        {
            if (_inflated.Length - length < 1024)
                Array.Resize(ref _inflated, Math.Max(4096, _inflated.Length * 2));
            var output = _inflated.AsSpan(length);
            int produced;
            InflateStatus status;
            if (!finishing)
            {
                status = _inflater!.Inflate(compressed, output, out var consumed, out produced);
                compressed = compressed[consumed..];
            }
            else
            {
                status = _inflater!.Finish(output, out produced);
            }
            length += produced;
            if (status == InflateStatus.Invalid)
                throw new WsCoreException(FailureKind.ConnectionEnded, "the server sent invalid compressed data");
            if (status == InflateStatus.StreamEnd || (finishing && produced < output.Length && _inflater.TailConsumed))
                break;
            if (!finishing && compressed.IsEmpty && produced < output.Length)
                finishing = true;
        }
        _inflater.EndMessage();
        return _inflated.AsMemory(0, length);
    }

    private void Compact()
    {
        if (_start == 0)
            return;
        _receive.AsSpan(_start, _end - _start).CopyTo(_receive);
        _end -= _start;
        _start = 0;
    }

    /// <summary>Sends Close 1000 and waits (bounded by <paramref name="cancel"/>) for the server's Close.</summary>
    public async Task CloseAsync(CancellationToken cancel)
    {
        Span<byte> code = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16BigEndian(code, CloseStatus.NormalClosure);
        await SendAsync(Opcode.Close, code, cancel);
        while (!IsClosed)
            await ReceiveAsync(cancel);
    }

    public void Dispose()
    {
        _socket.Dispose();
        _deflater?.Dispose();
        _inflater?.Dispose();
    }
}
