using System.Text;
using WsCore.Tests.Support;
using WsCore.WebSockets.Protocol;

namespace WsCore.Tests.WebSockets;

/// <summary>
/// The receive state machine: reassembly, control frames, limits and every protocol error's close code.
/// </summary>
public class MessageDecoderTests
{
    private static byte[] Frame(int opcode, byte[] payload, bool fin = true, bool mask = true, int rsv = 0) =>
        RawWebSocket.BuildFrame(opcode, payload, fin, mask, rsv);

    private static byte[] Join(params byte[][] parts) => parts.SelectMany(p => p).ToArray();

    /// <summary>Feeds all bytes (in pieces of <paramref name="piece"/>) and records each event; with
    /// <paramref name="inPlace"/> through DecodeInPlace, each piece in a buffer of its own at an offset (as a
    /// connection's receive buffer), otherwise through Decode, checking that the input is left as it was.</summary>
    private static List<(DecodeStatus Status, string Detail)> Feed(
        byte[] bytes, int piece = int.MaxValue, int max = 65536, bool server = true, bool inPlace = false)
    {
        using var decoder = new MessageDecoder(server, max);
        var events = new List<(DecodeStatus, string)>();
        for (var start = 0; start < bytes.Length; start += piece)
        {
            var length = Math.Min(piece, bytes.Length - start);
            const int at = 3;
            var buffer = new byte[at + length + 5];
            bytes.AsSpan(start, length).CopyTo(buffer.AsSpan(at));
            var offset = at;
            var left = length;
            while (true)
            {
                int consumed;
                var status = inPlace
                    ? decoder.DecodeInPlace(buffer, offset, left, out consumed)
                    : decoder.Decode(buffer.AsSpan(offset, left), out consumed);
                if (!inPlace)
                    Assert.True(buffer.AsSpan(at, length).SequenceEqual(bytes.AsSpan(start, length)));
                offset += consumed;
                left -= consumed;
                if (status == DecodeStatus.NeedMoreData)
                {
                    Assert.Equal(0, left);
                    break;
                }
                events.Add((status, status switch
                {
                    DecodeStatus.Message => $"{decoder.MessageType}:{Encoding.UTF8.GetString(decoder.Payload)}",
                    DecodeStatus.Ping or DecodeStatus.Pong => Encoding.UTF8.GetString(decoder.Payload),
                    DecodeStatus.Close => $"{decoder.CloseCode}:{decoder.CloseReason}",
                    DecodeStatus.ProtocolError =>
                        decoder.Violation.CloseCode.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    _ => "",
                }));
            }
        }
        return events;
    }

    private static readonly byte[] Stream1 = Join(
        Frame(1, "Hel"u8.ToArray(), fin: false),
        Frame(9, "ping!"u8.ToArray()),
        Frame(0, "lo"u8.ToArray()),
        Frame(2, [1, 2, 3]),
        Frame(10, "pong"u8.ToArray()),
        Frame(1, Encoding.UTF8.GetBytes(new string('x', 35_000))),
        Frame(8, RawWebSocket.ClosePayload(1000, "bye")));

    private static readonly (DecodeStatus, string)[] Stream1Events =
    [
        (DecodeStatus.Ping, "ping!"),
        (DecodeStatus.Message, "Text:Hello"),
        (DecodeStatus.Message, "Binary:\u0001\u0002\u0003"),
        (DecodeStatus.Pong, "pong"),
        (DecodeStatus.Message, "Text:" + new string('x', 35_000)),
        (DecodeStatus.Close, "1000:bye"),
    ];

    [Fact]
    public void Decode_WholeStreamAtOnce_GivesEveryEvent() => Assert.Equal(Stream1Events, Feed(Stream1));

    [Fact]
    public void Decode_FedOneByteAtATime_GivesSameEvents() => Assert.Equal(Stream1Events, Feed(Stream1, piece: 1));

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(7)]
    [InlineData(1000)]
    public void Decode_FedInPieces_GivesSameEvents(int piece) => Assert.Equal(Stream1Events, Feed(Stream1, piece));

    [Theory]
    [InlineData(int.MaxValue)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(7)]
    [InlineData(1000)]
    public void DecodeInPlace_FedInPieces_GivesSameEvents(int piece) =>
        Assert.Equal(Stream1Events, Feed(Stream1, piece, inPlace: true));

    [Fact]
    public void DecodeInPlace_ManyWholeMessagesInOneBuffer_GivesEachOne()
    {
        // Every size from empty to 300 bytes (the 7-bit and 16-bit length forms), text and binary, masked with
        // different keys, back to back in one read: the in-place path's own case, frame after frame.
        var frames = Enumerable.Range(0, 301).Select(n => n % 2 == 0
            ? Frame(1, Encoding.UTF8.GetBytes(new string('é', n / 2) + new string('a', n % 4)))
            : Frame(2, Enumerable.Range(0, n).Select(i => (byte)(i * 7)).ToArray())).ToArray();
        var expected = Enumerable.Range(0, 301).Select(n => n % 2 == 0
            ? (DecodeStatus.Message, "Text:" + new string('é', n / 2) + new string('a', n % 4))
            : (DecodeStatus.Message,
                "Binary:" + Encoding.UTF8.GetString(Enumerable.Range(0, n).Select(i => (byte)(i * 7)).ToArray())));
        Assert.Equal(expected, Feed(Join(frames), inPlace: true));
        Assert.Equal(expected, Feed(Join(frames), piece: 100, inPlace: true));
    }

    [Fact]
    public void DecodeInPlace_WholeMessage_IsUnmaskedWhereItLies_AndDetachingCopiesIt()
    {
        using var decoder = new MessageDecoder(expectMaskedFrames: true, maxMessageBytes: 1024);
        var frame = Frame(2, [9, 8, 7, 6, 5]);
        var buffer = new byte[frame.Length + 4];
        frame.CopyTo(buffer, 4);
        Assert.Equal(DecodeStatus.Message, decoder.DecodeInPlace(buffer, 4, frame.Length, out var consumed));
        Assert.Equal(frame.Length, consumed);
        // Lent from the caller's buffer: the payload's bytes are there, unmasked, after the 2-byte header and key.
        Assert.Equal(new byte[] { 9, 8, 7, 6, 5 }, buffer[(4 + 6)..]);
        Assert.Equal(0, decoder.AssemblyCapacity);
        var message = decoder.DetachMessage();
        buffer.AsSpan().Clear();
        Assert.Equal(new byte[] { 9, 8, 7, 6, 5 }, message.Memory.ToArray());
        message.Return();
    }

    [Fact]
    public void Decode_Rfc57UnmaskedOnClientSide_GivesHello() =>
        Assert.Equal(
            [(DecodeStatus.Message, "Text:Hello")], Feed([0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f], server: false));

    [Fact]
    public void Decode_Rfc57MaskedOnServerSide_GivesHello() =>
        Assert.Equal(
            [(DecodeStatus.Message, "Text:Hello")],
            Feed([0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58]));

    public static TheoryData<string, byte[], int> Violations => new()
    {
        { "unmasked client frame", Frame(1, "hi"u8.ToArray(), mask: false), 1002 },
        { "RSV1", Frame(1, "hi"u8.ToArray(), rsv: 4), 1002 },
        { "RSV2", Frame(1, "hi"u8.ToArray(), rsv: 2), 1002 },
        { "RSV3", Frame(1, "hi"u8.ToArray(), rsv: 1), 1002 },
        { "opcode 3", Frame(3, "hi"u8.ToArray()), 1002 },
        { "opcode 7", Frame(7, []), 1002 },
        { "opcode 11", Frame(11, []), 1002 },
        { "opcode 15", Frame(15, []), 1002 },
        { "ping over 125", Frame(9, new byte[126]), 1002 },
        { "fragmented ping", Frame(9, "a"u8.ToArray(), fin: false), 1002 },
        { "fragmented close", Frame(8, RawWebSocket.ClosePayload(1000), fin: false), 1002 },
        { "continuation first", Frame(0, "zz"u8.ToArray()), 1002 },
        { "text inside fragmented", Join(Frame(1, "a"u8.ToArray(), fin: false), Frame(1, "b"u8.ToArray())), 1002 },
        { "binary inside fragmented", Join(Frame(2, [1], fin: false), Frame(2, [2])), 1002 },
        { "invalid UTF-8", Frame(1, [0xc3, 0x28]), 1007 },
        { "UTF-8 cut at the end", Frame(1, [0x41, 0xe2, 0x82]), 1007 },
        { "close reason not UTF-8", Frame(8, [0x03, 0xe8, 0xff]), 1007 },
        { "close 1-byte payload", Frame(8, [0x03]), 1002 },
        { "close code 999", Frame(8, RawWebSocket.ClosePayload(999)), 1002 },
        { "close code 1005", Frame(8, RawWebSocket.ClosePayload(1005)), 1002 },
        { "close code 1006", Frame(8, RawWebSocket.ClosePayload(1006)), 1002 },
        { "close code 2000", Frame(8, RawWebSocket.ClosePayload(2000)), 1002 },
        { "close code 5000", Frame(8, RawWebSocket.ClosePayload(5000)), 1002 },
        { "too big", Frame(2, new byte[65537]), 1009 },
        { "too big in fragments", Join(Frame(2, new byte[40000], fin: false), Frame(0, new byte[30000])), 1009 },
        { "64-bit length high bit", [0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4], 1002 },
    };

    [Theory]
    [MemberData(nameof(Violations))]
    public void Decode_ProtocolViolation_GivesItsCloseCode(string what, byte[] bytes, int code)
    {
        var events = Feed(bytes);
        Assert.True(events.Count == 1, what);
        Assert.Equal(
            (DecodeStatus.ProtocolError, code.ToString(System.Globalization.CultureInfo.InvariantCulture)), events[0]);
    }

    [Theory]
    [MemberData(nameof(Violations))]
    public void DecodeInPlace_ProtocolViolation_GivesItsCloseCode(string what, byte[] bytes, int code)
    {
        var events = Feed(bytes, inPlace: true);
        Assert.True(events.Count == 1, what);
        Assert.Equal(
            (DecodeStatus.ProtocolError, code.ToString(System.Globalization.CultureInfo.InvariantCulture)), events[0]);
    }

    [Theory]
    [MemberData(nameof(Violations))]
    public void Decode_ProtocolViolationOneByteAtATime_GivesItsCloseCode(string what, byte[] bytes, int code)
    {
        var events = Feed(bytes, piece: 1);
        Assert.True(events.Count == 1, what);
        Assert.Equal(code.ToString(System.Globalization.CultureInfo.InvariantCulture), events[0].Detail);
    }

    [Fact]
    public void Decode_MaskedServerFrameOnClientSide_Is1002() =>
        Assert.Equal("1002", Feed(Frame(1, "hi"u8.ToArray(), mask: true), server: false).Single().Detail);

    [Fact]
    public void Decode_OverLimitHeader_FailsBeforeAnyPayloadArrives()
    {
        using var decoder = new MessageDecoder(expectMaskedFrames: true, maxMessageBytes: 65536);
        // 1,000,000 bytes announced
        var header = new byte[] { 0x81, 0xFF, 0, 0, 0, 0, 0, 0x0F, 0x42, 0x40, 1, 2, 3, 4 };
        Assert.Equal(DecodeStatus.ProtocolError, decoder.Decode(header, out var consumed));
        Assert.Equal(header.Length, consumed);
        Assert.Equal(CloseStatus.MessageTooBig, decoder.Violation.CloseCode);
    }

    [Fact]
    public void Decode_ExactlyAtLimitInFragments_IsAccepted()
    {
        var bytes = Join(Enumerable.Range(0, 16)
            .Select(i => Frame(i == 0 ? 2 : 0, new byte[4096], fin: i == 15))
            .ToArray());
        var events = Feed(bytes);
        Assert.Equal(DecodeStatus.Message, events.Single().Status);
    }

    [Fact]
    public void Decode_InvalidUtf8_FailsAtTheBadByteBeforeTheFrameEnds()
    {
        using var decoder = new MessageDecoder(expectMaskedFrames: false, maxMessageBytes: 65536);
        // A 20-byte text frame whose third byte is invalid: decoding must fail when that byte arrives.
        var frame = Frame(1, [0x41, 0x42, 0xff, .. new byte[17]], mask: false);
        Assert.Equal(DecodeStatus.NeedMoreData, decoder.Decode(frame.AsSpan(0, 4), out _));
        Assert.Equal(DecodeStatus.ProtocolError, decoder.Decode(frame.AsSpan(4, 1), out _));
        Assert.Equal(CloseStatus.InvalidPayloadData, decoder.Violation.CloseCode);
    }

    [Fact]
    public void Decode_Utf8SequenceSplitAcrossFragments_IsAccepted()
    {
        var euro = Encoding.UTF8.GetBytes("€");   // e2 82 ac
        var bytes = Join(
            Frame(1, [0x41, euro[0]], fin: false), Frame(0, [euro[1]], fin: false), Frame(0, [euro[2], 0x42]));
        Assert.Equal([(DecodeStatus.Message, "Text:A€B")], Feed(bytes));
    }

    [Fact]
    public void Decode_InvalidSequenceSplitAcrossFragments_FailsInTheFragmentWithTheBadByte()
    {
        using var decoder = new MessageDecoder(expectMaskedFrames: false, maxMessageBytes: 65536);
        Assert.Equal(DecodeStatus.NeedMoreData, decoder.Decode(Frame(1, [0x41, 0xe2], fin: false, mask: false), out _));
        Assert.Equal(DecodeStatus.ProtocolError, decoder.Decode(Frame(0, [0x28], fin: false, mask: false), out _));
        Assert.Equal(CloseStatus.InvalidPayloadData, decoder.Violation.CloseCode);
    }

    [Fact]
    public void Decode_EmptyClose_Reports1005() =>
        Assert.Equal([(DecodeStatus.Close, "1005:")], Feed(Frame(8, [])));

    [Fact]
    public void Decode_AfterClose_IgnoresEverything()
    {
        var events = Feed(Join(Frame(8, RawWebSocket.ClosePayload(1001)), Frame(1, "late"u8.ToArray()), [0xff, 0xff]));
        Assert.Equal([(DecodeStatus.Close, "1001:")], events);
    }

    [Fact]
    public void DetachMessage_TakesTheBuffer_DecoderStaysUsable()
    {
        using var decoder = new MessageDecoder(expectMaskedFrames: true, maxMessageBytes: 1024);
        Assert.Equal(DecodeStatus.Message, decoder.Decode(Frame(2, [9, 8, 7]), out _));
        var message = decoder.DetachMessage();
        Assert.Equal(new byte[] { 9, 8, 7 }, message.Memory.ToArray());
        Assert.True(decoder.IsIdle);
        Assert.Equal(DecodeStatus.Message, decoder.Decode(Frame(2, [1]), out _));
        Assert.Equal(new byte[] { 9, 8, 7 }, message.Memory.ToArray());
        message.Return();
    }

    [Fact]
    public void Decode_HugeFrameAnnounced_MemoryFollowsTheBytesThatArrived()
    {
        using var decoder = new MessageDecoder(expectMaskedFrames: true, maxMessageBytes: 16 * 1024 * 1024);
        // A masked binary frame announcing 16 MiB, then 100 bytes of it: a slow (or hostile) sender.
        byte[] header = [0x82, 0x80 | 127, 0, 0, 0, 0, 0x01, 0x00, 0x00, 0x00, 1, 2, 3, 4];
        Assert.Equal(DecodeStatus.NeedMoreData, decoder.Decode(header, out _));
        Assert.Equal(0, decoder.AssemblyCapacity);
        Assert.Equal(DecodeStatus.NeedMoreData, decoder.Decode(new byte[100], out _));
        Assert.InRange(decoder.AssemblyCapacity, 100, 4096);
        // Then 1 MiB more: the buffer doubles as it fills, staying within twice what arrived.
        for (var i = 0; i < 1024; i++)
            decoder.Decode(new byte[1024], out _);
        Assert.InRange(decoder.AssemblyCapacity, 1024 * 1024 + 100, 2 * (1024 * 1024 + 100) + 256);
    }
}
