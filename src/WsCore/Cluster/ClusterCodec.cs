using System.Buffers.Binary;
using System.Text;
using WsCore.WebSockets.Protocol;

namespace WsCore.Cluster;

/// <summary>
/// The wire form of <see cref="ClusterMessage"/>, one Redis pub/sub message each. Pure encoding, no I/O. Integers are
/// big-endian; strings are a length byte and UTF-8 (at most 255 bytes).
/// <code>
/// 0x01 KIND ORIGIN-LEN ORIGIN…                                 header (version 1)
/// Broadcast: TYPE(1 text, 2 binary) PAYLOAD…                   (the payload runs to the end)
/// Counter:   VALUE(i64)
/// Request:   REQUEST-ID(i64) OP(1 list, 2 send) CLIENT(i32) TYPE PAYLOAD…
/// Reply:     REQUEST-ID(i64) OK(0/1) COUNT(i32) then per client: ID(i32) REMOTE-LEN REMOTE SINCE-MS(i64) IN(i64)
/// OUT(i64)
/// </code>
/// A client's instance in a reply is the reply's origin.
/// </summary>
public static class ClusterCodec
{
    /// <summary>The format version, the first byte of every message; others are dropped with an error.</summary>
    public const byte Version = 1;

    /// <summary>The longest string (instance names, remote addresses) in UTF-8 bytes.</summary>
    public const int MaxStringBytes = 255;

    /// <summary>Encodes a message into a new array.</summary>
    /// <exception cref="ArgumentException">A string is longer than <see cref="MaxStringBytes"/>.</exception>
    public static byte[] Encode(ClusterMessage message)
    {
        var buffer = new byte[EncodedLength(message)];
        var span = buffer.AsSpan();
        span[0] = Version;
        span[1] = (byte)message.Kind;
        var at = 2 + WriteString(span[2..], message.Origin);
        switch (message.Kind)
        {
            case ClusterMessageKind.Broadcast:
                span[at++] = (byte)message.Type;
                message.Payload.Span.CopyTo(span[at..]);
                break;
            case ClusterMessageKind.Counter:
                BinaryPrimitives.WriteInt64BigEndian(span[at..], message.Counter);
                break;
            case ClusterMessageKind.Request:
                BinaryPrimitives.WriteInt64BigEndian(span[at..], message.RequestId);
                span[at + 8] = (byte)message.Operation;
                BinaryPrimitives.WriteInt32BigEndian(span[(at + 9)..], message.ClientId);
                span[at + 13] = (byte)message.Type;
                message.Payload.Span.CopyTo(span[(at + 14)..]);
                break;
            case ClusterMessageKind.Reply:
                BinaryPrimitives.WriteInt64BigEndian(span[at..], message.RequestId);
                span[at + 8] = message.Ok ? (byte)1 : (byte)0;
                BinaryPrimitives.WriteInt32BigEndian(span[(at + 9)..], message.Clients.Count);
                at += 13;
                foreach (var client in message.Clients)
                {
                    BinaryPrimitives.WriteInt32BigEndian(span[at..], client.Id);
                    at += 4;
                    at += WriteString(span[at..], client.Remote);
                    BinaryPrimitives.WriteInt64BigEndian(span[at..], client.ConnectedSince.ToUnixTimeMilliseconds());
                    BinaryPrimitives.WriteInt64BigEndian(span[(at + 8)..], client.MessagesIn);
                    BinaryPrimitives.WriteInt64BigEndian(span[(at + 16)..], client.MessagesOut);
                    at += 24;
                }
                break;
            default:
                throw new ArgumentException($"unknown message kind {message.Kind}", nameof(message));
        }
        return buffer;
    }

    /// <summary>A Broadcast message, encoded straight from a span (the payload copied once, into the
    /// message).</summary>
    public static byte[] EncodeBroadcast(string origin, MessageType type, ReadOnlySpan<byte> payload)
    {
        var header = 3 + StringBytes(origin);
        var buffer = new byte[header + 1 + payload.Length];
        buffer[0] = Version;
        buffer[1] = (byte)ClusterMessageKind.Broadcast;
        WriteString(buffer.AsSpan(2), origin);
        buffer[header] = (byte)type;
        payload.CopyTo(buffer.AsSpan(header + 1));
        return buffer;
    }

    /// <summary>
    /// Decodes one message. The payload of the result points into <paramref name="data"/> (no copy). Returns null
    /// and an error text for anything malformed: another version, an unknown kind, or a message cut short.
    /// </summary>
    public static ClusterMessage? Decode(ReadOnlyMemory<byte> data, out string? error)
    {
        error = null;
        var span = data.Span;
        if (span.Length < 3)
            return Fail("shorter than a header", out error);
        if (span[0] != Version)
            return Fail($"format version {span[0]}, expected {Version}", out error);
        var kind = (ClusterMessageKind)span[1];
        var at = 2;
        if (!TryReadString(span, ref at, out var origin))
            return Fail("origin cut short", out error);
        var rest = span.Length - at;
        switch (kind)
        {
            case ClusterMessageKind.Broadcast:
                if (rest < 1 || !TryType(span[at], out var type))
                    return Fail("broadcast without a valid message type", out error);
                return new ClusterMessage(kind, origin) { Type = type, Payload = data[(at + 1)..] };
            case ClusterMessageKind.Counter:
                if (rest != 8)
                    return Fail($"counter of {rest} bytes, expected 8", out error);
                return new ClusterMessage(kind, origin) { Counter = BinaryPrimitives.ReadInt64BigEndian(span[at..]) };
            case ClusterMessageKind.Request:
                if (rest < 14 || span[at + 8] is not (1 or 2) || !TryType(span[at + 13], out var requestType))
                    return Fail("request cut short or with an unknown operation", out error);
                return new ClusterMessage(kind, origin)
                {
                    RequestId = BinaryPrimitives.ReadInt64BigEndian(span[at..]),
                    Operation = (ClusterRequestOperation)span[at + 8],
                    ClientId = BinaryPrimitives.ReadInt32BigEndian(span[(at + 9)..]),
                    Type = requestType,
                    Payload = data[(at + 14)..],
                };
            case ClusterMessageKind.Reply:
                return DecodeReply(span, at, origin, out error);
            default:
                return Fail($"unknown kind {(byte)kind}", out error);
        }
    }

    private static ClusterMessage? DecodeReply(ReadOnlySpan<byte> span, int at, string origin, out string? error)
    {
        error = null;
        if (span.Length - at < 13 || span[at + 8] > 1)
            return Fail("reply cut short", out error);
        var requestId = BinaryPrimitives.ReadInt64BigEndian(span[at..]);
        var ok = span[at + 8] == 1;
        var count = BinaryPrimitives.ReadInt32BigEndian(span[(at + 9)..]);
        at += 13;
        // Each client takes at least 29 bytes: a count beyond what the message holds is a lie, not an allocation.
        if (count < 0 || count > (span.Length - at) / 29)
            return Fail($"reply claims {count} clients", out error);
        var clients = new ClusterClient[count];
        for (var i = 0; i < count; i++)
        {
            if (span.Length - at < 4)
                return Fail("reply cut short", out error);
            var id = BinaryPrimitives.ReadInt32BigEndian(span[at..]);
            at += 4;
            if (!TryReadString(span, ref at, out var remote) || span.Length - at < 24)
                return Fail("reply cut short", out error);
            var since = DateTimeOffset.FromUnixTimeMilliseconds(
                Math.Clamp(BinaryPrimitives.ReadInt64BigEndian(span[at..]), 0, 253_402_300_799_999));
            var messagesIn = BinaryPrimitives.ReadInt64BigEndian(span[(at + 8)..]);
            var messagesOut = BinaryPrimitives.ReadInt64BigEndian(span[(at + 16)..]);
            clients[i] = new ClusterClient(id, origin, remote, since, messagesIn, messagesOut);
            at += 24;
        }
        if (at != span.Length)
            return Fail($"{span.Length - at} bytes after the last client", out error);
        return new ClusterMessage(ClusterMessageKind.Reply, origin)
        {
            RequestId = requestId,
            Ok = ok,
            Clients = clients,
        };
    }

    private static int EncodedLength(ClusterMessage message)
    {
        var header = 3 + StringBytes(message.Origin);
        return message.Kind switch
        {
            ClusterMessageKind.Broadcast => header + 1 + message.Payload.Length,
            ClusterMessageKind.Counter => header + 8,
            ClusterMessageKind.Request => header + 14 + message.Payload.Length,
            _ => header + 13 + message.Clients.Sum(c => 4 + 1 + StringBytes(c.Remote) + 24),
        };
    }

    private static int StringBytes(string text)
    {
        var bytes = Encoding.UTF8.GetByteCount(text);
        return bytes <= MaxStringBytes ? bytes
            : throw new ArgumentException($"'{text[..20]}…' is longer than {MaxStringBytes} UTF-8 bytes", nameof(text));
    }

    private static int WriteString(Span<byte> target, string text)
    {
        var length = Encoding.UTF8.GetBytes(text, target[1..]);
        target[0] = (byte)length;
        return 1 + length;
    }

    private static bool TryReadString(ReadOnlySpan<byte> span, ref int at, out string text)
    {
        text = "";
        if (span.Length - at < 1 || span.Length - at - 1 < span[at])
            return false;
        var length = span[at];
        text = Encoding.UTF8.GetString(span.Slice(at + 1, length));
        at += 1 + length;
        return true;
    }

    private static bool TryType(byte value, out MessageType type)
    {
        type = (MessageType)value;
        return value is (byte)MessageType.Text or (byte)MessageType.Binary;
    }

    private static ClusterMessage? Fail(string why, out string? error)
    {
        error = why;
        return null;
    }
}
