using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;
using WsCore.Tests.Support;
using WsCore.WebSockets.Client;
using WsCore.WebSockets.Protocol;

namespace WsCore.Tests.WebSockets;

/// <summary>
/// The client as an echo peer (Autobahn's fuzzingserver cases 3.2, 3.4, 4.1.3-4.1.5, 4.2.3, 4.2.4, 5.15): valid
/// messages before a protocol violation are delivered and can be answered before the client fails the connection.
/// A server of our own making sends the exact bytes of each case in one write.
/// </summary>
public class ClientOrderingTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    private static byte[] Frame(int first, byte[] payload) =>
        [(byte)first, (byte)payload.Length, .. payload]; // unmasked, payload < 126

    public static TheoryData<string, byte[]> Cases() => new()
    {
        // 3.2: a text message, then one with RSV1 set, then a ping.
        { "3.2",
            [.. Frame(0x81, "Hello, world!"u8.ToArray()), .. Frame(0xC1, "Hello, world!"u8.ToArray()),
                .. Frame(0x89, [])] },
        // 4.1.3: a text message, a frame with reserved opcode 3, then a ping.
        { "4.1.3", [.. Frame(0x81, "Hello, world!"u8.ToArray()), .. Frame(0x83, []), .. Frame(0x89, [])] },
        // 4.2.3: a text message, a frame with reserved control opcode 0xB, then a ping.
        { "4.2.3", [.. Frame(0x81, "Hello, world!"u8.ToArray()), .. Frame(0x8B, []), .. Frame(0x89, [])] },
        // 5.15: "fragment1" + "fragment2" as one message, then a continuation with nothing to continue.
        { "5.15",
            [.. Frame(0x01, "fragment1"u8.ToArray()), .. Frame(0x80, "fragment2"u8.ToArray()),
                .. Frame(0x00, "fragment3"u8.ToArray()),
            .. Frame(0x80, "fragment4"u8.ToArray()), .. Frame(0x81, "fragment5"u8.ToArray())] },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task EchoBeforeFailing(string @case, byte[] frames)
    {
        _ = @case;
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var server = Task.Run(async () =>
        {
            using var socket = await listener.AcceptSocketAsync();
            using var stream = new NetworkStream(socket);
            await RawWebSocket.AcceptUpgradeAsync(stream);
            await stream.WriteAsync(frames);
            // What comes back, in order: opcodes of the client's frames until its Close.
            var opcodes = new List<int>();
            var texts = new List<string>();
            while (true)
            {
                var header = new byte[2];
                await stream.ReadExactlyAsync(header);
                long length = header[1] & 0x7F;
                if (length == 126)
                {
                    var ext = new byte[2];
                    await stream.ReadExactlyAsync(ext);
                    length = BinaryPrimitives.ReadUInt16BigEndian(ext);
                }
                var mask = new byte[4];
                await stream.ReadExactlyAsync(mask);
                var payload = new byte[length];
                await stream.ReadExactlyAsync(payload);
                for (var i = 0; i < payload.Length; i++)
                    payload[i] ^= mask[i % 4];
                opcodes.Add(header[0] & 0x0F);
                if ((header[0] & 0x0F) == 1)
                    texts.Add(Encoding.UTF8.GetString(payload));
                if ((header[0] & 0x0F) == 8)
                    return (opcodes, texts, BinaryPrimitives.ReadUInt16BigEndian(payload));
            }
        });

        await using (var client = await WebSocketClient.ConnectAsync(new Uri($"ws://127.0.0.1:{port}/")))
        {
            // An echo peer: answer each message until the connection fails.
            var error = await Assert.ThrowsAsync<WsCoreException>(async () =>
            {
                while (await client.ReceiveAsync() is { } message)
                    using (message)
                        await client.SendAsync(message.Type, message.Payload);
            });
            Assert.Equal(FailureKind.ConnectionEnded, error.Kind);
        }
        var (opcodes, texts, code) = await server.WaitAsync(Timeout);
        Assert.Equal(1, opcodes[0]); // the echo of the valid message comes first …
        Assert.Equal(8, opcodes[^1]); // … the Close last
        Assert.Equal(CloseStatus.ProtocolError, code);
        Assert.Equal(@case == "5.15" ? "fragment1fragment2" : "Hello, world!", texts[0]);
    }
}
