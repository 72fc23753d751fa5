using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;

namespace WsCore.Tests.Support;

/// <summary>
/// A deliberately minimal RFC 6455 client over a plain socket, written independently of WsCore's protocol code, so
/// tests can send exactly the (broken) bytes they need and read exactly what the server answers.
/// </summary>
public sealed class RawWebSocket : IDisposable
{
    private readonly Socket _socket;
    private readonly List<byte> _pending = [];

    private RawWebSocket(Socket socket) => _socket = socket;

    public string StatusLine { get; private set; } = "";
    public string ResponseHead { get; private set; } = "";
    public int Status { get; private set; }
    public bool AcceptValid { get; private set; }

    /// <summary>The RSV bits of the last frame <see cref="ReceiveFrameAsync"/> read (4: RSV1, compressed).</summary>
    public int LastRsv { get; private set; }

    public static async Task<RawWebSocket> ConnectAsync(int port, string path = "/", string? extraHeaders = null)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(IPAddress.Loopback, port).WaitAsync(TimeSpan.FromSeconds(5));
        var raw = new RawWebSocket(socket);
        var key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(16));
        await raw.SendRawAsync(Encoding.ASCII.GetBytes(
            $"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
            $"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n{extraHeaders}\r\n"));
        var head = await raw.ReadHeadAsync(TimeSpan.FromSeconds(5));
        raw.ResponseHead = head;
        raw.StatusLine = head.Split("\r\n")[0];
        var parts = raw.StatusLine.Split(' ');
        raw.Status = parts.Length > 1 && int.TryParse(parts[1], out var status) ? status : 0;
        var expected = Convert.ToBase64String(SHA1.HashData(Encoding.ASCII.GetBytes(key
            + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")));
        raw.AcceptValid = head.Contains("Sec-WebSocket-Accept: " + expected, StringComparison.OrdinalIgnoreCase);
        return raw;
    }

    /// <summary>Sends one frame built by hand: masked with a random key unless told otherwise.</summary>
    public Task SendFrameAsync(int opcode, byte[] payload, bool fin = true, bool mask = true, int rsv = 0) =>
        SendRawAsync(BuildFrame(opcode, payload, fin, mask, rsv));

    public static byte[] BuildFrame(int opcode, byte[] payload, bool fin = true, bool mask = true, int rsv = 0)
    {
        Span<byte> head = stackalloc byte[14];
        head[0] = (byte)((fin ? 0x80 : 0) | (rsv << 4) | opcode);
        var maskBit = mask ? 0x80 : 0;
        int headLength;
        if (payload.Length < 126)
        {
            head[1] = (byte)(maskBit | payload.Length);
            headLength = 2;
        }
        else if (payload.Length < 65536)
        {
            head[1] = (byte)(maskBit | 126);
            BinaryPrimitives.WriteUInt16BigEndian(head[2..], (ushort)payload.Length);
            headLength = 4;
        }
        else
        {
            head[1] = (byte)(maskBit | 127);
            BinaryPrimitives.WriteUInt64BigEndian(head[2..], (ulong)payload.Length);
            headLength = 10;
        }
        var key = mask ? RandomNumberGenerator.GetBytes(4) : [];
        key.CopyTo(head[headLength..]);
        headLength += key.Length;
        var frame = new byte[headLength + payload.Length];
        head[..headLength].CopyTo(frame);
        payload.CopyTo(frame, headLength);
        if (mask)
            for (var i = 0; i < payload.Length; i++)
                frame[headLength + i] ^= key[i % 4];
        return frame;
    }

    public static byte[] ClosePayload(int code, string reason = "")
    {
        var reasonBytes = Encoding.UTF8.GetBytes(reason);
        var payload = new byte[2 + reasonBytes.Length];
        BinaryPrimitives.WriteUInt16BigEndian(payload, (ushort)code);
        reasonBytes.CopyTo(payload, 2);
        return payload;
    }

    public async Task SendRawAsync(byte[] bytes)
    {
        var sent = 0;
        while (sent < bytes.Length)
            sent += await _socket.SendAsync(bytes.AsMemory(sent), SocketFlags.None);
    }

    /// <summary>Sends the bytes one at a time (one send call each).</summary>
    public async Task SendBytewiseAsync(byte[] bytes)
    {
        foreach (var b in bytes)
            await _socket.SendAsync(new[] { b }, SocketFlags.None);
    }

    /// <summary>
    /// Reads one frame: (opcode, payload). Throws TimeoutException, or EndOfStreamException when TCP ends.
    /// </summary>
    public async Task<(int Opcode, byte[] Payload)> ReceiveFrameAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        var head = await ReadExactAsync(2, cts.Token);
        LastRsv = (head[0] >> 4) & 7;
        long length = head[1] & 0x7F;
        if (length == 126)
            length = BinaryPrimitives.ReadUInt16BigEndian(await ReadExactAsync(2, cts.Token));
        else if (length == 127)
            length = (long)BinaryPrimitives.ReadUInt64BigEndian(await ReadExactAsync(8, cts.Token));
        var key = (head[1] & 0x80) != 0 ? await ReadExactAsync(4, cts.Token) : null;
        var payload = await ReadExactAsync((int)length, cts.Token);
        if (key is not null)
        {
            for (var i = 0; i < payload.Length; i++)
                payload[i] ^= key[i % 4];
        }
        return (head[0] & 0x0F, payload);
    }

    /// <summary>
    /// Reads frames until a Close: its code (1005 if empty), or null when TCP ended first or time ran out.
    /// </summary>
    public async Task<int?> ReceiveCloseCodeAsync(TimeSpan timeout)
    {
        var end = DateTime.UtcNow + timeout;
        try
        {
            while (true)
            {
                var left = end - DateTime.UtcNow;
                if (left <= TimeSpan.Zero)
                    return null;
                var (opcode, payload) = await ReceiveFrameAsync(left);
                if (opcode == 8)
                    return payload.Length >= 2 ? BinaryPrimitives.ReadUInt16BigEndian(payload) : 1005;
            }
        }
        catch (Exception e) when (e is TimeoutException or EndOfStreamException or SocketException
            or OperationCanceledException)
        {
            return null;
        }
    }

    /// <summary>True when the server ends TCP (EOF) within the timeout, after any frames still in flight.</summary>
    public async Task<bool> WaitForEndAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        var buffer = new byte[4096];
        try
        {
            while (await _socket.ReceiveAsync(buffer, SocketFlags.None, cts.Token) > 0)
            {
            }
            return true;
        }
        catch (SocketException)
        {
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>
    /// The server's side of an opening handshake on <paramref name="stream"/>: reads the request head and answers
    /// 101 with its Sec-WebSocket-Accept (RFC 6455 §4.2.2), for tests that play a server of their own.
    /// </summary>
    public static async Task AcceptUpgradeAsync(Stream stream)
    {
        var head = new StringBuilder();
        var one = new byte[1];
        while (!head.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal) && await stream.ReadAsync(one) == 1)
            head.Append((char)one[0]);
        var key = head
            .ToString()
            .Split("\r\n")
            .First(l => l.StartsWith("Sec-WebSocket-Key:", StringComparison.OrdinalIgnoreCase))[18..]
            .Trim();
        var accept = Convert.ToBase64String(SHA1.HashData(Encoding.ASCII.GetBytes(key
            + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")));
        await stream.WriteAsync(Encoding.ASCII.GetBytes("HTTP/1.1 101 Switching Protocols\r\n" +
            $"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n"));
    }

    public void Dispose() => _socket.Dispose();

    private async Task<string> ReadHeadAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        var buffer = new byte[4096];
        while (true)
        {
            var text = Encoding.Latin1.GetString([.. _pending]);
            var end = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
            if (end >= 0)
            {
                _pending.RemoveRange(0, end + 4);
                return text[..end];
            }
            var read = await _socket.ReceiveAsync(buffer, SocketFlags.None, cts.Token);
            if (read == 0)
                return text;
            _pending.AddRange(buffer.AsSpan(0, read).ToArray());
        }
    }

    private async Task<byte[]> ReadExactAsync(int count, CancellationToken cancel)
    {
        var buffer = new byte[65536];
        while (_pending.Count < count)
        {
            int read;
            try
            {
                // Never read past the frame: keeps the pending list short (removing from its front is a copy).
                read = await _socket.ReceiveAsync(
                    buffer.AsMemory(0, Math.Min(buffer.Length, count - _pending.Count)), SocketFlags.None, cancel);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException();
            }
            if (read == 0)
                throw new EndOfStreamException();
            _pending.AddRange(buffer.AsSpan(0, read).ToArray());
        }
        var result = _pending.GetRange(0, count).ToArray();
        _pending.RemoveRange(0, count);
        return result;
    }
}
