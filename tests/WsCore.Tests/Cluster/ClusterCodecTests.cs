using WsCore.Cluster;
using WsCore.WebSockets.Protocol;

namespace WsCore.Tests.Cluster;

/// <summary>The cluster's wire format (ClusterCodec) byte by byte, and its address (ClusterAddress).</summary>
public class ClusterCodecTests
{
    [Fact]
    public void EncodeBroadcast_TextFromInstanceAb_ExactBytes()
    {
        var bytes = ClusterCodec.EncodeBroadcast("ab", MessageType.Text, "hi"u8);
        // version 1, kind 1 (broadcast), origin length 2 "ab", type 1 (text), payload "hi"
        Assert.Equal(new byte[] { 0x01, 0x01, 0x02, (byte)'a', (byte)'b', 0x01, (byte)'h', (byte)'i' }, bytes);
        Assert.Equal(bytes, ClusterCodec.Encode(new ClusterMessage(ClusterMessageKind.Broadcast, "ab")
        {
            Type = MessageType.Text,
            Payload = "hi"u8.ToArray(),
        }));
    }

    [Fact]
    public void EncodeCounter_Value258_BigEndianInt64()
    {
        var bytes = ClusterCodec.Encode(new ClusterMessage(ClusterMessageKind.Counter, "x") { Counter = 258 });
        Assert.Equal(new byte[] { 0x01, 0x02, 0x01, (byte)'x', 0, 0, 0, 0, 0, 0, 0x01, 0x02 }, bytes);
        Assert.Equal(258, ClusterCodec.Decode(bytes, out _)!.Counter);
    }

    [Fact]
    public void EncodeRequest_SendToClient7_ExactBytes()
    {
        var bytes = ClusterCodec.Encode(new ClusterMessage(ClusterMessageKind.Request, "i")
        {
            RequestId = 5,
            Operation = ClusterRequestOperation.Send,
            ClientId = 7,
            Type = MessageType.Binary,
            Payload = new byte[] { 0xFF },
        });
        Assert.Equal(new byte[]
        {
            0x01, 0x03, 0x01, (byte)'i',
            0, 0, 0, 0, 0, 0, 0, 5,     // request id
            0x02,                       // send
            0, 0, 0, 7,                 // client
            0x02, 0xFF,                 // binary, payload
        }, bytes);
        var decoded = ClusterCodec.Decode(bytes, out _)!;
        Assert.Equal((5L, ClusterRequestOperation.Send, 7, MessageType.Binary),
            (decoded.RequestId, decoded.Operation, decoded.ClientId, decoded.Type));
        Assert.Equal(new byte[] { 0xFF }, decoded.Payload.ToArray());
    }

    [Fact]
    public void Reply_TwoClients_RoundTripsWithTheOriginAsTheirInstance()
    {
        var since = DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_123);
        var message = new ClusterMessage(ClusterMessageKind.Reply, "host:8081")
        {
            RequestId = long.MaxValue,
            Ok = true,
            Clients =
            [
                new ClusterClient(1001, "ignored", "127.0.0.1:50000", since, 3, 4),
                new ClusterClient(2000, "ignored", "[::1]:1", since.AddDays(1), 0, long.MaxValue),
            ],
        };
        var decoded = ClusterCodec.Decode(ClusterCodec.Encode(message), out var error)!;
        Assert.Null(error);
        Assert.Equal(long.MaxValue, decoded.RequestId);
        Assert.True(decoded.Ok);
        Assert.Equal(
            [
                new ClusterClient(1001, "host:8081", "127.0.0.1:50000", since, 3, 4),
                new ClusterClient(2000, "host:8081", "[::1]:1", since.AddDays(1), 0, long.MaxValue),
            ], decoded.Clients);
    }

    [Fact]
    public void Decode_EveryTruncationOfEveryKind_ErrorNotException()
    {
        var messages = new[]
        {
            ClusterCodec.EncodeBroadcast("abc", MessageType.Binary, [1, 2, 3]),
            ClusterCodec.Encode(new ClusterMessage(ClusterMessageKind.Counter, "abc") { Counter = 9 }),
            ClusterCodec.Encode(new ClusterMessage(ClusterMessageKind.Request, "abc") { RequestId = 1 }),
            ClusterCodec.Encode(new ClusterMessage(ClusterMessageKind.Reply, "abc")
            {
                Clients = [new ClusterClient(1, "abc", "r", DateTimeOffset.UnixEpoch, 0, 0)],
            }),
        };
        foreach (var full in messages)
        {
            Assert.NotNull(ClusterCodec.Decode(full, out _));
            // A broadcast or request may end right after its type byte (an empty payload); anything shorter fails.
            var shortestValid = full[1] is 1 ? 6 + 1 : full[1] is 3 ? 5 + 14 : full.Length;
            for (var length = 0; length < shortestValid; length++)
            {
                Assert.Null(ClusterCodec.Decode(full.AsMemory(0, length), out var error));
                Assert.False(string.IsNullOrEmpty(error));
            }
        }
    }

    [Theory]
    [InlineData(new byte[] { 0x02, 0x01, 0x00, 0x01 }, "format version 2")]
    [InlineData(new byte[] { 0x01, 0x09, 0x00 }, "unknown kind 9")]
    [InlineData(new byte[] { 0x01, 0x01, 0x00, 0x03 }, "message type")]
    [InlineData(new byte[] { 0x01, 0x04, 0x00, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0x7F, 0xFF, 0xFF, 0xFF }, "claims")]
    public void Decode_Malformed_SaysWhy(byte[] bytes, string why)
    {
        Assert.Null(ClusterCodec.Decode(bytes, out var error));
        Assert.Contains(why, error);
    }

    [Fact]
    public void Encode_OriginLongerThan255Bytes_Refused() =>
        Assert.Throws<ArgumentException>(() =>
            ClusterCodec.EncodeBroadcast(new string('é', 128), MessageType.Text, []));
}
