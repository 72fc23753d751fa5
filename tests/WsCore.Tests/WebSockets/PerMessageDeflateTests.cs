using System.Buffers;
using System.IO.Compression;
using System.Text;
using WsCore.WebSockets.Protocol;

namespace WsCore.Tests.WebSockets;

/// <summary>
/// permessage-deflate (RFC 7692) without sockets: the negotiation of §5/§7.1, the examples of §7.2.3 byte for byte,
/// and the bound on inflation.
/// </summary>
public class PerMessageDeflateTests
{
    private static DeflateParameters? Accept(params string[] headers) => PerMessageDeflate.Accept(headers, out _);

    private static string? Response(params string[] headers)
    {
        PerMessageDeflate.Accept(headers, out var response);
        return response;
    }

    [Fact]
    public void Accept_PlainOffer_DefaultsAndBareResponse()
    {
        Assert.Equal(new DeflateParameters(), Accept("permessage-deflate"));
        Assert.Equal("permessage-deflate", Response("permessage-deflate"));
    }

    [Fact]
    public void Accept_BrowserOffer_ClientWindowLeftToTheClient()
    {
        // What Chromium and Firefox send; §7.1.2.2: the answer may omit client_max_window_bits.
        Assert.Equal("permessage-deflate", Response("permessage-deflate; client_max_window_bits"));
    }

    [Fact]
    public void Accept_AllParameters_SaidBackAsAgreed()
    {
        var header = "permessage-deflate; server_no_context_takeover; client_no_context_takeover; " +
            "server_max_window_bits=10; client_max_window_bits=12";
        Assert.Equal(new DeflateParameters(true, true, 10, 12), Accept(header));
        Assert.Equal(
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10; " +
            "client_max_window_bits=12",
            Response(header));
    }

    [Fact]
    public void Accept_ServerWindowOf15_SaidBack()
    {
        // §7.1.2.1: the offer's server_max_window_bits is accepted only by naming it in the answer, even at 15.
        Assert.Equal(
            "permessage-deflate; server_max_window_bits=15", Response("permessage-deflate; server_max_window_bits=15"));
    }

    [Fact]
    public void Accept_QuotedWindowBits_Unquoted()
    {
        Assert.Equal(9, Accept("permessage-deflate; server_max_window_bits=\"9\"")!.ServerMaxWindowBits);
    }

    [Fact]
    public void Accept_EightBitWindow_Accepted()
    {
        // zlib's raw deflate has no 256-byte window, but literals-only compression honours it (MessageDeflater).
        Assert.Equal(8, Accept("permessage-deflate; server_max_window_bits=8")!.ServerMaxWindowBits);
    }

    [Theory]
    [InlineData("permessage-deflate; server_max_window_bits=7")]
    [InlineData("permessage-deflate; server_max_window_bits=16")]
    [InlineData("permessage-deflate; server_max_window_bits=010")]
    [InlineData("permessage-deflate; server_max_window_bits")]
    [InlineData("permessage-deflate; client_max_window_bits=0")]
    [InlineData("permessage-deflate; server_no_context_takeover=1")]
    [InlineData("permessage-deflate; server_no_context_takeover; server_no_context_takeover")]
    [InlineData("permessage-deflate; mystery")]
    [InlineData("x-webkit-deflate-frame")]
    public void Accept_UnacceptableOffer_Declined(string header)
    {
        Assert.Null(Accept(header));
        Assert.Null(Response(header));
    }

    [Fact]
    public void Accept_SeveralOffers_FirstAcceptableWins()
    {
        // §5.1: offers in order of preference; the first unacceptable one is declined, the next taken.
        var agreed = Accept(
            "permessage-deflate; server_max_window_bits=99, permessage-deflate; server_no_context_takeover",
            "permessage-deflate");
        Assert.Equal(new DeflateParameters(ServerNoContextTakeover: true), agreed);
    }

    [Fact]
    public void Accept_OffersOverSeveralHeaders_Read()
    {
        Assert.Equal(new DeflateParameters(), Accept("foo; bar=1", "permessage-deflate"));
    }

    [Fact]
    public void CheckResponse_AgreedParameters_Read()
    {
        Assert.Null(PerMessageDeflate.CheckResponse(
            ["permessage-deflate; server_no_context_takeover; client_max_window_bits=9"], true, out var agreed));
        Assert.Equal(new DeflateParameters(ServerNoContextTakeover: true, ClientMaxWindowBits: 9), agreed);
    }

    [Fact]
    public void CheckResponse_NoExtension_NoCompression()
    {
        Assert.Null(PerMessageDeflate.CheckResponse([], true, out var agreed));
        Assert.Null(agreed);
    }

    [Theory]
    [InlineData("permessage-deflate", false)]
    [InlineData("permessage-deflate; client_max_window_bits", true)]
    [InlineData("permessage-deflate; server_max_window_bits=20", true)]
    [InlineData("permessage-deflate; bogus", true)]
    [InlineData("permessage-deflate, permessage-deflate", true)]
    [InlineData("x-other", true)]
    public void CheckResponse_IllegalAnswer_FailsTheConnection(string header, bool offered)
    {
        Assert.NotNull(PerMessageDeflate.CheckResponse([header], offered, out _));
    }

    // §7.2.3.1: "Hello" compressed in one frame.
    [Fact]
    public void Decode_Rfc7692Example_OneFrame()
    {
        Assert.Equal("Hello", DecodeText(0xc1, 0x07, 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00));
    }

    // §7.2.3.1: the same, in two fragments (RSV1 on the first only).
    [Fact]
    public void Decode_Rfc7692Example_Fragmented()
    {
        Assert.Equal("Hello", DecodeText(0x41, 0x03, 0xf2, 0x48, 0xcd, 0x80, 0x04, 0xc9, 0xc9, 0x07, 0x00));
    }

    // §7.2.3.3: a stored (uncompressed) DEFLATE block.
    [Fact]
    public void Decode_Rfc7692Example_StoredBlock()
    {
        Assert.Equal(
            "Hello", DecodeText(0xc1, 0x0b, 0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00));
    }

    // §7.2.3.4: a block with BFINAL set: the message ends the stream, the next starts a fresh one.
    [Fact]
    public void Decode_Rfc7692Example_FinalBlockThenFreshStream()
    {
        Assert.Equal("Hello", DecodeText(
            0xc1, 0x08, 0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00,
            0xc1, 0x07, 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00));
    }

    // §7.2.3.2: a second "Hello" with context takeover refers back to the first: f2 00 11 00 00.
    [Fact]
    public void Compress_Rfc7692Example_ContextTakeover()
    {
        using var deflater = new MessageDeflater();
        Assert.Equal(new byte[] { 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00 }, Compress(deflater, "Hello"));
        Assert.Equal(new byte[] { 0xf2, 0x00, 0x11, 0x00, 0x00 }, Compress(deflater, "Hello"));
    }

    [Fact]
    public void Compress_NoContextTakeover_EveryMessageStandsAlone()
    {
        using var deflater = new MessageDeflater(noContextTakeover: true);
        Assert.Equal(Compress(deflater, "Hello"), Compress(deflater, "Hello"));
    }

    [Fact]
    public void Compress_EmptyMessage_SingleZeroByte()
    {
        // §7.2.3.6.
        using var deflater = new MessageDeflater();
        Assert.Equal(new byte[] { 0x00 }, Compress(deflater, ""));
        Assert.Equal(new byte[] { 0x00 }, Compress(deflater, ""));
    }

    [Theory]
    [InlineData(8)]
    [InlineData(9)]
    [InlineData(12)]
    [InlineData(15)]
    public void Compress_WindowBits_ReadByAnIndependentInflaterWithThatWindow(int bits)
    {
        // .NET's inflater (zlib-ng) with the window the peer keeps: a distance beyond it would fail or corrupt.
        using var deflater = new MessageDeflater(bits);
        var text = string.Concat(Enumerable.Range(0, 3000).Select(i => $"{{\"n\":{i % 97},\"k\":\"v{i % 13}\"}}"));
        var compressed = Compress(deflater, text);
        Assert.True(compressed.Length < text.Length / 2, $"{compressed.Length} of {text.Length} bytes");
        // Python's zlib inflates with an explicit window; .NET's has none, so the window is checked by distance:
        // every back reference must reach no further than 2^bits (8: none at all).
        Assert.Equal(text, InflateIndependently(compressed));
        Assert.True(MaxDistance(compressed) <= (bits == 8 ? 0 : 1 << bits), $"distance {MaxDistance(compressed)}");
    }

    [Fact]
    public void Decode_CompressionBomb_1009WithoutGoingOverTheLimit()
    {
        const int limit = 64 * 1024;
        using var deflater = new MessageDeflater();
        var bomb = Compress(deflater, new string('a', 8 << 20)); // 8 MiB of 'a' is about 8 KB compressed
        Assert.True(bomb.Length < 16 * 1024);
        using var decoder = new MessageDecoder(false, limit, new MessageInflater());
        var frame = Frame(0xc1, bomb);
        var status = decoder.Decode(frame, out _);
        Assert.Equal(DecodeStatus.ProtocolError, status);
        Assert.Equal(CloseStatus.MessageTooBig, decoder.Violation.CloseCode);
        Assert.True(decoder.AssemblyCapacity <= limit, $"{decoder.AssemblyCapacity} bytes held");
    }

    [Fact]
    public void Decode_MessageExactlyAtTheLimit_Accepted()
    {
        const int limit = 10_000;
        using var deflater = new MessageDeflater();
        using var decoder = new MessageDecoder(false, limit, new MessageInflater());
        var frame = Frame(0xc2, Compress(deflater, new string('x', limit)));
        Assert.Equal(DecodeStatus.Message, decoder.Decode(frame, out _));
        Assert.Equal(limit, decoder.Payload.Length);
    }

    [Theory]
    [InlineData(0xc9, "RSV1 set on a control frame")] // ping
    [InlineData(0xe1, "reserved bits other than RSV1 set")] // RSV1+RSV2
    public void Decode_IllegalRsv1_1002(byte first, string reason)
    {
        using var decoder = new MessageDecoder(false, 1000, new MessageInflater());
        Assert.Equal(DecodeStatus.ProtocolError, decoder.Decode([first, 0x00], out _));
        Assert.Equal(CloseStatus.ProtocolError, decoder.Violation.CloseCode);
        Assert.Equal(reason, decoder.Violation.Reason);
    }

    [Fact]
    public void Decode_Rsv1OnContinuation_1002()
    {
        using var decoder = new MessageDecoder(false, 1000, new MessageInflater());
        Assert.Equal(DecodeStatus.ProtocolError, decoder.Decode([0x41, 0x01, 0xf2, 0xc0, 0x01, 0x48], out _));
        Assert.Equal("RSV1 set on a continuation frame", decoder.Violation.Reason);
    }

    [Fact]
    public void Decode_Rsv1WithoutNegotiation_1002()
    {
        using var decoder = new MessageDecoder(false, 1000);
        Assert.Equal(DecodeStatus.ProtocolError, decoder.Decode([0xc1, 0x01, 0x00], out _));
        Assert.Equal(CloseStatus.ProtocolError, decoder.Violation.CloseCode);
    }

    [Fact]
    public void Decode_InvalidDeflateData_1007()
    {
        using var decoder = new MessageDecoder(false, 1000, new MessageInflater());
        Assert.Equal(DecodeStatus.ProtocolError, decoder.Decode([0xc1, 0x02, 0xff, 0xff], out _));
        Assert.Equal(CloseStatus.InvalidPayloadData, decoder.Violation.CloseCode);
    }

    [Fact]
    public void Decode_CompressedInvalidUtf8_1007()
    {
        using var deflater = new MessageDeflater();
        var compressed = new byte[64];
        var buffer = ArrayPool<byte>.Shared.Rent(64);
        var length = deflater.Compress([0x61, 0xff, 0x62], ref buffer, 0);
        buffer.AsSpan(0, length).CopyTo(compressed);
        ArrayPool<byte>.Shared.Return(buffer);
        using var decoder = new MessageDecoder(false, 1000, new MessageInflater());
        Assert.Equal(DecodeStatus.ProtocolError, decoder.Decode(Frame(0xc1, compressed[..length]), out _));
        Assert.Equal(CloseStatus.InvalidPayloadData, decoder.Violation.CloseCode);
    }

    [Fact]
    public void RoundTrip_ManyMessagesWithContextTakeover_ByteAtATime()
    {
        using var deflater = new MessageDeflater();
        using var decoder = new MessageDecoder(true, 1 << 20, new MessageInflater());
        var random = new Random(7);
        for (var i = 0; i < 200; i++)
        {
            var text = $"{{\"sensor\":\"counter\",\"value\":{i},\"pad\":\"{new string('z', random.Next(0, 3000))}\"}}";
            var frame = Frame(0xc1, Compress(deflater, text), masked: true);
            var status = DecodeStatus.NeedMoreData;
            var step = i % 2 == 0 ? 1 : frame.Length;
            for (var at = 0; at < frame.Length; at += step)
            {
                status = decoder.Decode(frame.AsSpan(at, Math.Min(step, frame.Length - at)), out var consumed);
                Assert.Equal(Math.Min(step, frame.Length - at), consumed);
            }
            Assert.Equal(DecodeStatus.Message, status);
            Assert.Equal(text, Encoding.UTF8.GetString(decoder.Payload));
        }
    }

    [Fact]
    public void NativeMemory_CountedAndReturned()
    {
        var before = PerMessageDeflate.NativeBytesInUse;
        var deflater = new MessageDeflater();
        var inflater = new MessageInflater();
        Compress(deflater, "Hello");
        using (var decoder = new MessageDecoder(false, 100, inflater))
            decoder.Decode([0xc1, 0x07, 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00], out _);
        // Not asserted exactly (other tests run in parallel): the deflater alone is 256 KiB plus its state.
        deflater.Dispose();
        Assert.True(PerMessageDeflate.NativeBytesInUse - before < 256 * 1024);
    }

    private static string DecodeText(params byte[] frames)
    {
        using var decoder = new MessageDecoder(false, 1000, new MessageInflater());
        var input = frames.AsSpan();
        string? last = null;
        while (!input.IsEmpty)
        {
            var status = decoder.Decode(input, out var consumed);
            input = input[consumed..];
            if (status == DecodeStatus.ProtocolError)
                throw new InvalidOperationException(decoder.Violation.Reason);
            if (status == DecodeStatus.Message)
            {
                var text = Encoding.UTF8.GetString(decoder.Payload);
                Assert.True(last is null || last == text);
                last = text;
            }
        }
        return last ?? throw new InvalidOperationException("no message");
    }

    private static byte[] Compress(MessageDeflater deflater, string text) =>
        Compress(deflater, Encoding.UTF8.GetBytes(text));

    private static byte[] Compress(MessageDeflater deflater, byte[] message)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(16);
        var length = deflater.Compress(message, ref buffer, 0);
        var result = buffer.AsSpan(0, length).ToArray();
        ArrayPool<byte>.Shared.Return(buffer);
        return result;
    }

    private static byte[] Frame(byte first, byte[] payload, bool masked = false)
    {
        var frame = new byte[FrameEncoder.GetFrameLength(payload.Length, masked)];
        FrameEncoder.Encode(frame, (Opcode)(first & 0x0F), payload, (first & 0x80) != 0,
            masked ? Masking.NewKey() : null, (byte)((first >> 4) & 7));
        return frame;
    }

    private static string InflateIndependently(byte[] compressed)
    {
        using var input = new MemoryStream([.. compressed, 0x00, 0x00, 0xff, 0xff]);
        using var inflate = new DeflateStream(input, CompressionMode.Decompress);
        using var output = new MemoryStream();
        try
        {
            inflate.CopyTo(output);
        }
        catch (InvalidDataException)
        {
            // The stream has no final block (permessage-deflate never ends it): what was inflated is all there is.
        }
        return Encoding.UTF8.GetString(output.ToArray());
    }

    // The largest back-reference distance in a raw DEFLATE stream: a small inflater of RFC 1951 that decodes only
    // what it needs to follow the blocks.
    private static int MaxDistance(byte[] data) => new DistanceScanner(data).Scan();

    private sealed class DistanceScanner(byte[] data)
    {
        private static readonly int[] LengthBase =
            [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195,
             227, 258];
        private static readonly int[] LengthExtra =
            [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0];
        private static readonly int[] DistanceBase =
            [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073,
             4097, 6145, 8193, 12289, 16385, 24577];
        private static readonly int[] DistanceExtra =
            [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13];
        private readonly long _bits = (long)data.Length * 8;
        private long _at;

        public int Scan()
        {
            var max = 0;
            while (_at + 3 <= _bits)
            {
                Bits(1); // BFINAL: permessage-deflate streams do not set it
                var type = Bits(2);
                if (type == 0)
                {
                    _at = (_at + 7) / 8 * 8;
                    if (_at + 32 > _bits)
                        break;
                    var length = Bits(16);
                    Bits(16);
                    _at += length * 8L;
                    continue;
                }
                int[] lit, dist;
                if (type == 1)
                {
                    lit = [.. Enumerable.Repeat(8, 144), .. Enumerable.Repeat(9, 112), .. Enumerable.Repeat(7, 24),
                        .. Enumerable.Repeat(8, 8)];
                    dist = [.. Enumerable.Repeat(5, 30)];
                }
                else
                {
                    (lit, dist) = ReadDynamicTables();
                }
                var litCodes = Canonical(lit);
                var distCodes = Canonical(dist);
                while (true)
                {
                    var symbol = Decode(litCodes);
                    if (symbol < 256)
                        continue;
                    if (symbol == 256)
                        break;
                    Bits(LengthExtra[symbol - 257]);
                    var d = Decode(distCodes);
                    max = Math.Max(max, DistanceBase[d] + Bits(DistanceExtra[d]));
                }
            }
            return max;
        }

        private (int[] Lit, int[] Dist) ReadDynamicTables()
        {
            var hlit = Bits(5) + 257;
            var hdist = Bits(5) + 1;
            var hclen = Bits(4) + 4;
            int[] order = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15];
            var codeLengths = new int[19];
            for (var i = 0; i < hclen; i++)
                codeLengths[order[i]] = Bits(3);
            var lengthCodes = Canonical(codeLengths);
            var lengths = new List<int>();
            while (lengths.Count < hlit + hdist)
            {
                var symbol = Decode(lengthCodes);
                if (symbol < 16)
                    lengths.Add(symbol);
                else if (symbol == 16)
                    lengths.AddRange(Enumerable.Repeat(lengths[^1], 3 + Bits(2)));
                else if (symbol == 17)
                    lengths.AddRange(Enumerable.Repeat(0, 3 + Bits(3)));
                else
                    lengths.AddRange(Enumerable.Repeat(0, 11 + Bits(7)));
            }
            return ([.. lengths.Take(hlit)], [.. lengths.Skip(hlit)]);
        }

        private static Dictionary<(int Length, int Code), int> Canonical(int[] lengths)
        {
            var codes = new Dictionary<(int, int), int>();
            var code = 0;
            for (var bits = 1; bits <= 15; bits++)
            {
                for (var symbol = 0; symbol < lengths.Length; symbol++)
                {
                    if (lengths[symbol] == bits)
                        codes[(bits, code++)] = symbol;
                }
                code <<= 1;
            }
            return codes;
        }

        private int Decode(Dictionary<(int Length, int Code), int> codes)
        {
            var code = 0;
            for (var length = 1; length <= 15; length++)
            {
                code = (code << 1) | Bits(1);
                if (codes.TryGetValue((length, code), out var symbol))
                    return symbol;
            }
            throw new InvalidDataException("bad Huffman code");
        }

        private int Bits(int count)
        {
            var value = 0;
            for (var i = 0; i < count; i++, _at++)
                value |= ((data[(int)(_at / 8)] >> (int)(_at % 8)) & 1) << i;
            return value;
        }
    }
}
