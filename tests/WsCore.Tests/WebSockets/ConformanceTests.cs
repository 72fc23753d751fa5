using System.Text;
using WsCore.Tests.Support;
using WsCore.WebSockets.Server;

namespace WsCore.Tests.WebSockets;

/// <summary>
/// RFC 6455 conformance, modeled on the Autobahn|Testsuite sections (which cannot be installed here), driven with raw
/// frames against the in-process server in echo mode: each case asserts the echo, the pong, or the close code.
/// </summary>
public class ConformanceTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);
    private TestServer _server = null!;

    public Task InitializeAsync()
    {
        _server = TestServer.Start(echo: true, o =>
        {
            o.MaxMessageBytes = 16 * 1024 * 1024;
            o.MaxQueuedBytesPerClient = WebSocketServerOptions.QueueBoundFor(o.MaxMessageBytes);
        });
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private Task<RawWebSocket> ConnectAsync() => RawWebSocket.ConnectAsync(_server.Port);

    private static async Task ExpectFrameAsync(RawWebSocket ws, int opcode, byte[] payload)
    {
        var (gotOpcode, gotPayload) = await ws.ReceiveFrameAsync(Timeout);
        Assert.Equal(opcode, gotOpcode);
        Assert.Equal(payload, gotPayload);
    }

    private static async Task ExpectCleanCloseAsync(RawWebSocket ws)
    {
        await ws.SendFrameAsync(8, RawWebSocket.ClosePayload(1000));
        Assert.Equal(1000, await ws.ReceiveCloseCodeAsync(Timeout));
        Assert.True(await ws.WaitForEndAsync(Timeout));
    }

    private static async Task ExpectFailAsync(RawWebSocket ws, int code)
    {
        Assert.Equal(code, await ws.ReceiveCloseCodeAsync(Timeout));
        Assert.True(await ws.WaitForEndAsync(Timeout));
    }

    // Section 1: framing, text and binary at the length-encoding boundaries.
    [Theory]
    [InlineData(1, 0)]
    [InlineData(1, 125)]
    [InlineData(1, 126)]
    [InlineData(1, 127)]
    [InlineData(1, 128)]
    [InlineData(1, 65535)]
    [InlineData(1, 65536)]
    [InlineData(2, 0)]
    [InlineData(2, 125)]
    [InlineData(2, 126)]
    [InlineData(2, 65535)]
    [InlineData(2, 65536)]
    [InlineData(2, 1 << 20)]
    public async Task Section1_Framing_MessageOfLengthIsEchoed(int opcode, int length)
    {
        using var ws = await ConnectAsync();
        var payload = Enumerable.Range(0, length).Select(i => (byte)('a' + i % 26)).ToArray();
        await ws.SendFrameAsync(opcode, payload);
        await ExpectFrameAsync(ws, opcode, payload);
        await ExpectCleanCloseAsync(ws);
    }

    // Section 9 (limits and performance): 9.1/9.2 whole text and binary messages of 64 KiB to 16 MiB; 9.3/9.4
    // 4 MiB messages in fragments of 64 B to 4 MiB (9.x.1 is 65,536 fragments). Each must come back whole.
    public static TheoryData<string, int, int, int> Section9Cases()
    {
        var cases = new TheoryData<string, int, int, int>();
        int[] whole = [64 << 10, 256 << 10, 1 << 20, 4 << 20, 8 << 20, 16 << 20];
        for (var i = 0; i < whole.Length; i++)
        {
            cases.Add($"9.1.{i + 1}", 1, whole[i], whole[i]);
            cases.Add($"9.2.{i + 1}", 2, whole[i], whole[i]);
        }
        int[] fragments = [64, 256, 1 << 10, 4 << 10, 16 << 10, 64 << 10, 256 << 10, 1 << 20, 4 << 20];
        for (var i = 0; i < fragments.Length; i++)
        {
            cases.Add($"9.3.{i + 1}", 1, 4 << 20, fragments[i]);
            cases.Add($"9.4.{i + 1}", 2, 4 << 20, fragments[i]);
        }
        return cases;
    }

    [Theory]
    [MemberData(nameof(Section9Cases))]
    public async Task Section9_BigMessage_IsEchoedWhole(string @case, int opcode, int length, int fragment)
    {
        _ = @case;
        using var ws = await ConnectAsync();
        var payload = new byte[length];
        for (var i = 0; i < length; i++)
            payload[i] = (byte)('*' + i % 80);
        using (var frames = new MemoryStream())
        {
            for (var offset = 0; offset < length; offset += fragment)
            {
                var piece = payload.AsSpan(offset, Math.Min(fragment, length - offset)).ToArray();
                frames.Write(RawWebSocket.BuildFrame(
                    offset == 0 ? opcode : 0, piece, fin: offset + fragment >= length));
            }
            await ws.SendRawAsync(frames.ToArray());
        }
        var (gotOpcode, echoed) = await ws.ReceiveFrameAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(opcode, gotOpcode);
        Assert.True(payload.AsSpan().SequenceEqual(echoed), "the echo differs");
        await ExpectCleanCloseAsync(ws);
    }

    // Section 2: pings and pongs.
    [Theory]
    [InlineData(0)]
    [InlineData(10)]
    [InlineData(125)]
    public async Task Section2_Ping_IsAnsweredWithSamePayload(int length)
    {
        using var ws = await ConnectAsync();
        var payload = Enumerable.Range(0, length).Select(i => (byte)i).ToArray();
        await ws.SendFrameAsync(9, payload);
        await ExpectFrameAsync(ws, 10, payload);
        await ExpectCleanCloseAsync(ws);
    }

    [Fact]
    public async Task Section2_Ping126Bytes_Fails1002()
    {
        using var ws = await ConnectAsync();
        await ws.SendFrameAsync(9, new byte[126]);
        await ExpectFailAsync(ws, 1002);
    }

    [Fact]
    public async Task Section2_UnsolicitedPong_IsIgnored()
    {
        using var ws = await ConnectAsync();
        await ws.SendFrameAsync(10, "unsolicited"u8.ToArray());
        await ws.SendFrameAsync(1, "after"u8.ToArray());
        await ExpectFrameAsync(ws, 1, "after"u8.ToArray());
        await ExpectCleanCloseAsync(ws);
    }

    [Fact]
    public async Task Section2_TenPingsInOneWrite_TenPongsInOrder()
    {
        using var ws = await ConnectAsync();
        await ws.SendRawAsync(Enumerable.Range(0, 10).SelectMany(i => RawWebSocket.BuildFrame(9, [(byte)i])).ToArray());
        for (var i = 0; i < 10; i++)
            await ExpectFrameAsync(ws, 10, [(byte)i]);
        await ExpectCleanCloseAsync(ws);
    }

    // Section 3: reserved bits.
    [Theory]
    [InlineData(1, 1)]
    [InlineData(2, 1)]
    [InlineData(4, 1)]
    [InlineData(7, 2)]
    [InlineData(5, 9)]
    public async Task Section3_ReservedBits_Fail1002(int rsv, int opcode)
    {
        using var ws = await ConnectAsync();
        await ws.SendFrameAsync(opcode, "x"u8.ToArray(), rsv: rsv);
        await ExpectFailAsync(ws, 1002);
    }

    [Fact]
    public async Task Section3_ReservedBitsAfterValidMessage_EchoThenFail1002()
    {
        using var ws = await ConnectAsync();
        await ws.SendFrameAsync(1, "ok"u8.ToArray());
        await ExpectFrameAsync(ws, 1, "ok"u8.ToArray());
        await ws.SendFrameAsync(1, "bad"u8.ToArray(), rsv: 2);
        await ExpectFailAsync(ws, 1002);
    }

    // Section 4: reserved opcodes.
    [Theory]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(6)]
    [InlineData(7)]
    [InlineData(11)]
    [InlineData(12)]
    [InlineData(13)]
    [InlineData(14)]
    [InlineData(15)]
    public async Task Section4_ReservedOpcode_Fails1002(int opcode)
    {
        using var ws = await ConnectAsync();
        await ws.SendFrameAsync(opcode, "x"u8.ToArray());
        await ExpectFailAsync(ws, 1002);
    }

    // Section 5: fragmentation.
    [Fact]
    public async Task Section5_FragmentedTextWithPingsBetween_PongsThenEcho()
    {
        using var ws = await ConnectAsync();
        await ws.SendFrameAsync(1, "frag1"u8.ToArray(), fin: false);
        await ws.SendFrameAsync(9, "p1"u8.ToArray());
        await ws.SendFrameAsync(0, "frag2"u8.ToArray(), fin: false);
        await ws.SendFrameAsync(9, "p2"u8.ToArray());
        await ws.SendFrameAsync(0, "frag3"u8.ToArray());
        await ExpectFrameAsync(ws, 10, "p1"u8.ToArray());
        await ExpectFrameAsync(ws, 10, "p2"u8.ToArray());
        await ExpectFrameAsync(ws, 1, "frag1frag2frag3"u8.ToArray());
        await ExpectCleanCloseAsync(ws);
    }

    [Fact]
    public async Task Section5_FragmentedBinaryOfEmptyFragments_EchoesEmpty()
    {
        using var ws = await ConnectAsync();
        await ws.SendFrameAsync(2, [], fin: false);
        await ws.SendFrameAsync(0, [], fin: false);
        await ws.SendFrameAsync(0, []);
        await ExpectFrameAsync(ws, 2, []);
        await ExpectCleanCloseAsync(ws);
    }

    [Fact]
    public async Task Section5_FragmentedPing_Fails1002()
    {
        using var ws = await ConnectAsync();
        await ws.SendFrameAsync(9, "a"u8.ToArray(), fin: false);
        await ws.SendFrameAsync(0, "b"u8.ToArray());
        await ExpectFailAsync(ws, 1002);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Section5_ContinuationWithNothingToContinue_Fails1002(bool fin)
    {
        using var ws = await ConnectAsync();
        await ws.SendFrameAsync(0, "orphan"u8.ToArray(), fin: fin);
        await ExpectFailAsync(ws, 1002);
    }

    [Fact]
    public async Task Section5_ContinuationAfterFinishedMessage_Fails1002()
    {
        using var ws = await ConnectAsync();
        await ws.SendFrameAsync(1, "done"u8.ToArray());
        await ExpectFrameAsync(ws, 1, "done"u8.ToArray());
        await ws.SendFrameAsync(0, "late"u8.ToArray());
        await ExpectFailAsync(ws, 1002);
    }

    [Fact]
    public async Task Section5_NewTextInsideFragmentedMessage_Fails1002()
    {
        using var ws = await ConnectAsync();
        await ws.SendFrameAsync(1, "a"u8.ToArray(), fin: false);
        await ws.SendFrameAsync(1, "b"u8.ToArray());
        await ExpectFailAsync(ws, 1002);
    }

    [Fact]
    public async Task Section5_ManySmallFragmentsOneByteAtATime_EchoesWhole()
    {
        using var ws = await ConnectAsync();
        var frames = Enumerable.Range(0, 20)
            .SelectMany(i => RawWebSocket.BuildFrame(i == 0 ? 1 : 0, [(byte)('A' + i)], fin: i == 19))
            .ToArray();
        await ws.SendBytewiseAsync(frames);
        await ExpectFrameAsync(ws, 1, Encoding.ASCII.GetBytes("ABCDEFGHIJKLMNOPQRST"));
        await ExpectCleanCloseAsync(ws);
    }

    // Section 6: UTF-8.
    [Theory]
    [InlineData("Hello-µ@ßöäüàá-UTF-8!!")]
    [InlineData("κόσμε")]
    [InlineData("\U0001F600 emoji")]
    [InlineData("\uFEFF BOM")]
    public async Task Section6_ValidUtf8_IsEchoed(string text)
    {
        using var ws = await ConnectAsync();
        var bytes = Encoding.UTF8.GetBytes(text);
        await ws.SendFrameAsync(1, bytes);
        await ExpectFrameAsync(ws, 1, bytes);
        await ExpectCleanCloseAsync(ws);
    }

    [Fact]
    public async Task Section6_ValidUtf8SplitAtEveryByteIntoFragments_IsEchoed()
    {
        using var ws = await ConnectAsync();
        var bytes = Encoding.UTF8.GetBytes("κόσμε€\U0001F600");
        for (var i = 0; i < bytes.Length; i++)
            await ws.SendFrameAsync(i == 0 ? 1 : 0, [bytes[i]], fin: i == bytes.Length - 1);
        await ExpectFrameAsync(ws, 1, bytes);
        await ExpectCleanCloseAsync(ws);
    }

    [Theory]
    [InlineData(new byte[] { 0xce, 0xba, 0xe1, 0xbd, 0xb9, 0xcf, 0x83, 0xce, 0xbc, 0xce, 0xb5, 0xed, 0xa0, 0x80, 0x65,
        0x64, 0x69, 0x74, 0x65, 0x64 })]
    [InlineData(new byte[] { 0xc0, 0xaf })]
    [InlineData(new byte[] { 0xf4, 0x90, 0x80, 0x80 })]
    [InlineData(new byte[] { 0xfe })]
    [InlineData(new byte[] { 0x80 })]
    [InlineData(new byte[] { 0xce, 0xba, 0xe1 })]
    public async Task Section6_InvalidUtf8_Fails1007(byte[] bytes)
    {
        using var ws = await ConnectAsync();
        await ws.SendFrameAsync(1, bytes);
        await ExpectFailAsync(ws, 1007);
    }

    [Fact]
    public async Task Section6_InvalidUtf8InFirstFragment_FailsBeforeTheMessageEnds()
    {
        // Fail fast (Autobahn 6.4.x): the server closes on the bad fragment without waiting for the final one.
        using var ws = await ConnectAsync();
        await ws.SendFrameAsync(1, [0xce, 0xba, 0xed, 0xa0, 0x80], fin: false);
        await ExpectFailAsync(ws, 1007);
    }

    [Fact]
    public async Task Section6_InvalidByteMidFrameSentBytewise_FailsAtThatByte()
    {
        using var ws = await ConnectAsync();
        var frame = RawWebSocket.BuildFrame(1, [0x41, 0x42, 0xf4, 0x90, .. Enumerable.Repeat((byte)0x41, 60)]);
        // Send the header and the bytes up to the invalid one; the rest never comes.
        await ws.SendBytewiseAsync(frame[..(6 + 4)]);
        await ExpectFailAsync(ws, 1007);
    }

    // Section 7: close handling.
    [Theory]
    [InlineData(1000)]
    [InlineData(1001)]
    [InlineData(1002)]
    [InlineData(1003)]
    [InlineData(1007)]
    [InlineData(1008)]
    [InlineData(1009)]
    [InlineData(1010)]
    [InlineData(1011)]
    [InlineData(3000)]
    [InlineData(3999)]
    [InlineData(4000)]
    [InlineData(4999)]
    public async Task Section7_ValidCloseCode_IsEchoed(int code)
    {
        using var ws = await ConnectAsync();
        await ws.SendFrameAsync(8, RawWebSocket.ClosePayload(code, "reason"));
        Assert.Equal(code, await ws.ReceiveCloseCodeAsync(Timeout));
        Assert.True(await ws.WaitForEndAsync(Timeout));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(999)]
    [InlineData(1004)]
    [InlineData(1005)]
    [InlineData(1006)]
    [InlineData(1015)]
    [InlineData(1016)]
    [InlineData(1100)]
    [InlineData(2000)]
    [InlineData(2999)]
    [InlineData(5000)]
    [InlineData(65535)]
    public async Task Section7_InvalidCloseCode_Fails1002(int code)
    {
        using var ws = await ConnectAsync();
        await ws.SendFrameAsync(8, RawWebSocket.ClosePayload(code));
        await ExpectFailAsync(ws, 1002);
    }

    [Fact]
    public async Task Section7_EmptyClose_IsAnsweredWithClose()
    {
        using var ws = await ConnectAsync();
        await ws.SendFrameAsync(8, []);
        Assert.NotNull(await ws.ReceiveCloseCodeAsync(Timeout));
        Assert.True(await ws.WaitForEndAsync(Timeout));
    }

    [Fact]
    public async Task Section7_OneByteClosePayload_Fails1002()
    {
        using var ws = await ConnectAsync();
        await ws.SendFrameAsync(8, [0x03]);
        await ExpectFailAsync(ws, 1002);
    }

    [Fact]
    public async Task Section7_CloseReasonInvalidUtf8_Fails1007()
    {
        using var ws = await ConnectAsync();
        await ws.SendFrameAsync(8, [0x03, 0xe8, 0xce, 0xba, 0xed, 0xa0, 0x80]);
        await ExpectFailAsync(ws, 1007);
    }

    [Fact]
    public async Task Section7_CloseWith123ByteReason_IsEchoed()
    {
        using var ws = await ConnectAsync();
        await ws.SendFrameAsync(8, RawWebSocket.ClosePayload(1000, new string('r', 123)));
        Assert.Equal(1000, await ws.ReceiveCloseCodeAsync(Timeout));
    }

    [Fact]
    public async Task Section7_DataAfterClose_IsIgnored()
    {
        using var ws = await ConnectAsync();
        await ws.SendRawAsync([.. RawWebSocket.BuildFrame(8, RawWebSocket.ClosePayload(1000)),
            .. RawWebSocket.BuildFrame(1, "late"u8.ToArray())]);
        var (opcode, _) = await ws.ReceiveFrameAsync(Timeout);
        Assert.Equal(8, opcode);
        Assert.True(await ws.WaitForEndAsync(Timeout));
    }

    // Delivery in pieces and in bulk.
    [Fact]
    public async Task Delivery_WholeConversationOneByteAtATime_AllEchoed()
    {
        using var ws = await ConnectAsync();
        // The ping goes first: the server answers pings at once, while echoes pass through the application.
        var bytes = new[]
        {
            RawWebSocket.BuildFrame(9, "ping"u8.ToArray()),
            RawWebSocket.BuildFrame(1, "one"u8.ToArray()),
            RawWebSocket.BuildFrame(2, new byte[300]),
        }.SelectMany(f => f).ToArray();
        await ws.SendBytewiseAsync(bytes);
        await ExpectFrameAsync(ws, 10, "ping"u8.ToArray());
        await ExpectFrameAsync(ws, 1, "one"u8.ToArray());
        await ExpectFrameAsync(ws, 2, new byte[300]);
        await ExpectCleanCloseAsync(ws);
    }

    [Fact]
    public async Task Delivery_ThousandFramesInOneWrite_AllEchoedInOrder()
    {
        using var ws = await ConnectAsync();
        await ws.SendRawAsync(Enumerable.Range(0, 1000)
            .SelectMany(i => RawWebSocket.BuildFrame(1, Encoding.ASCII.GetBytes($"m{i}")))
            .ToArray());
        for (var i = 0; i < 1000; i++)
            await ExpectFrameAsync(ws, 1, Encoding.ASCII.GetBytes($"m{i}"));
        await ExpectCleanCloseAsync(ws);
    }
}
