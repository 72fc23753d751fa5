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

    private BenchConnection(Socket socket) => _socket = socket;

    public bool IsClosed { get; private set; }

    /// <summary>Which of the run's servers this connection went to (0: the target, then each --also in turn).</summary>
    public int Server { get; set; }

    /// <summary>Connects and completes the handshake; throws <see cref="WsCoreException"/> on a refusal.</summary>
    public static async Task<BenchConnection> OpenAsync(IPEndPoint endpoint, Uri uri, CancellationToken cancel)
    {
        var socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        var connection = new BenchConnection(socket);
        try
        {
            await socket.ConnectAsync(endpoint, cancel);
            var key = ClientHandshake.CreateKey();
            await socket.SendAsync(ClientHandshake.BuildRequest(uri, key), SocketFlags.None, cancel);
            while (true)
            {
                var n = await socket.ReceiveAsync(
                    connection._receive.AsMemory(connection._end), SocketFlags.None, cancel);
                if (n == 0)
                    throw new WsCoreException(
                        FailureKind.HandshakeRejected, "the server closed the connection during the handshake");
                connection._end += n;
                var status = HttpResponseHead.TryParse(
                    connection._receive.AsSpan(0, connection._end), 16 * 1024, out var head, out var headLength);
                if (status == HttpParseStatus.NeedMoreData)
                    continue;
                if (status != HttpParseStatus.Complete)
                    throw new WsCoreException(
                        FailureKind.HandshakeRejected, "the server's answer is not an HTTP response");
                if (head!.StatusCode != 101)
                {
                    var (message, hint) = ClientHandshake.DescribeRefusal(
                        head, connection._receive.AsSpan(headLength, connection._end - headLength));
                    throw new WebSocketHandshakeException(message, head, hint);
                }
                var problem = ClientHandshake.Validate(head, key, null, out _);
                if (problem is not null)
                    throw new WsCoreException(FailureKind.HandshakeRejected, problem);
                connection._start = headLength;
                return connection;
            }
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    /// <summary>Sends one masked frame (§5.3: every client frame is masked).</summary>
    public ValueTask<int> SendAsync(Opcode opcode, ReadOnlySpan<byte> payload, CancellationToken cancel)
    {
        var length = FrameEncoder.GetFrameLength(payload.Length, masked: true);
        if (_send.Length < length)
            _send = new byte[Math.Max(length, _send.Length * 2)];
        var written = FrameEncoder.Encode(_send, opcode, payload, fin: true, maskKey: Masking.NewKey());
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
        }
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

    public void Dispose() => _socket.Dispose();
}
