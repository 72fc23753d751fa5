using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;

namespace WsCore.Tests.Support;

/// <summary>
/// A WebSocket echo server that behaves on the wire as ESP-IDF's <c>esp_http_server</c> WebSocket support (httpd_ws,
/// its <c>ws_echo_server</c> example) does, so that what wsctl must tolerate from most ESP32 devices in the field
/// stays tested without ESP-IDF: each data frame is echoed as it arrives, fragment by fragment (same opcode, same
/// FIN: the example sends back the <c>httpd_ws_frame_t</c> it received); a payload of 65,535 bytes or more is sent
/// with the 64-bit length field (httpd_ws_send_frame_async tests <c>len &lt; 65535</c>, so 65,535 itself is not
/// minimal); a Close is answered with a Close without a body (1005 at the client); a Ping with a Pong. Written from
/// scratch here, with no WsCore code, so it is an independent peer. <see cref="CloseAfterFirstMessage"/> makes it end
/// the session itself, with the same empty Close.
/// </summary>
public sealed class HttpdWsModelPeer : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();

    private HttpdWsModelPeer(bool closeAfterFirstMessage)
    {
        CloseAfterFirstMessage = closeAfterFirstMessage;
        _listener.Start();
        _ = AcceptAsync();
    }

    /// <summary>After echoing the first data frame, send an empty Close (the device ends the session).</summary>
    public bool CloseAfterFirstMessage { get; }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public string Url => $"ws://127.0.0.1:{Port}/ws";

    /// <summary>The lengths of the data frames echoed, in order (what the device "sent").</summary>
    public List<long> EchoedFrameLengths { get; } = [];

    public static HttpdWsModelPeer Start(bool closeAfterFirstMessage = false) => new(closeAfterFirstMessage);

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await _listener.AcceptSocketAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }
            _ = ServeAsync(socket);
        }
    }

    private async Task ServeAsync(Socket socket)
    {
        using var _ = socket;
        await using var stream = new NetworkStream(socket);
        try
        {
            if (!await HandshakeAsync(stream))
                return;
            while (true)
            {
                var (fin, opcode, payload) = await ReadFrameAsync(stream);
                switch (opcode)
                {
                    case 0x8: // Close: answered without a status code, then the server closes TCP (RFC 6455 §7.1.1)
                        await WriteFrameAsync(stream, fin: true, 0x8, []);
                        return;
                    case 0x9:
                        await WriteFrameAsync(stream, fin: true, 0xA, payload);
                        break;
                    case 0xA:
                        break;
                    default:
                        lock (EchoedFrameLengths)
                            EchoedFrameLengths.Add(payload.Length);
                        await WriteFrameAsync(stream, fin, opcode, payload);
                        if (CloseAfterFirstMessage && fin)
                        {
                            await WriteFrameAsync(stream, fin: true, 0x8, []);
                            await ReadUntilCloseAsync(stream);
                            return;
                        }
                        break;
                }
            }
        }
        catch (Exception e) when (e is IOException or SocketException or EndOfStreamException
            or OperationCanceledException)
        {
            // The client went away: this connection is over.
        }
    }

    private static async Task ReadUntilCloseAsync(Stream stream)
    {
        while ((await ReadFrameAsync(stream)).Opcode != 0x8)
        {
        }
    }

    private static async Task<bool> HandshakeAsync(Stream stream)
    {
        var head = new StringBuilder();
        var one = new byte[1];
        while (!head.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal))
        {
            if (await stream.ReadAsync(one) == 0 || head.Length > 8192)
                return false;
            head.Append((char)one[0]);
        }
        var key = head.ToString().Split("\r\n")
            .Select(line => line.Split(':', 2))
            .FirstOrDefault(p => p.Length == 2 && p[0].Trim().Equals("Sec-WebSocket-Key",
                StringComparison.OrdinalIgnoreCase))?[1].Trim();
        if (key is null)
            return false;
        var accept = Convert.ToBase64String(
            SHA1.HashData(Encoding.ASCII.GetBytes(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")));
        await stream.WriteAsync(Encoding.ASCII.GetBytes("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n" +
            $"Connection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n"));
        return true;
    }

    private static async Task<(bool Fin, int Opcode, byte[] Payload)> ReadFrameAsync(Stream stream)
    {
        var head = await ReadExactlyAsync(stream, 2);
        long length = head[1] & 0x7F;
        if (length == 126)
            length = BinaryPrimitives.ReadUInt16BigEndian(await ReadExactlyAsync(stream, 2));
        else if (length == 127)
            length = (long)BinaryPrimitives.ReadUInt64BigEndian(await ReadExactlyAsync(stream, 8));
        var mask = (head[1] & 0x80) != 0 ? await ReadExactlyAsync(stream, 4) : null;
        var payload = await ReadExactlyAsync(stream, checked((int)length));
        if (mask is not null)
            for (var i = 0; i < payload.Length; i++)
                payload[i] ^= mask[i % 4];
        return ((head[0] & 0x80) != 0, head[0] & 0x0F, payload);
    }

    private static async Task<byte[]> ReadExactlyAsync(Stream stream, int count)
    {
        var buffer = new byte[count];
        await stream.ReadExactlyAsync(buffer);
        return buffer;
    }

    private static async Task WriteFrameAsync(Stream stream, bool fin, int opcode, byte[] payload)
    {
        var header = new List<byte> { (byte)((fin ? 0x80 : 0) | opcode) };
        if (payload.Length <= 125)
        {
            header.Add((byte)payload.Length);
        }
        else if (payload.Length < 65535)
        {
            header.Add(126);
            header.Add((byte)(payload.Length >> 8));
            header.Add((byte)payload.Length);
        }
        else
        {
            header.Add(127);
            for (var shift = 56; shift >= 0; shift -= 8)
                header.Add((byte)((long)payload.Length >> shift));
        }
        await stream.WriteAsync(header.ToArray());
        await stream.WriteAsync(payload);
        await stream.FlushAsync();
    }
}
