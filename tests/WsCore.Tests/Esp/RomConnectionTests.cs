using WsCore.Esp;

namespace WsCore.Tests.Esp;

/// <summary>RomConnection over an in-memory transport that plays back scripted replies.</summary>
public class RomConnectionTests
{
    private sealed class ScriptedTransport : ISerialTransport
    {
        private readonly Queue<byte[]> _replies = new();
        private byte[] _pending = [];
        public List<byte[]> Written { get; } = [];
        public string Name => "scripted";
        public bool CanControlLines => false;
        public void Enqueue(params byte[][] chunks)
        {
            foreach (var c in chunks)
                _replies.Enqueue(c);
        }
        public void Write(ReadOnlySpan<byte> data) => Written.Add(data.ToArray());
        public int Read(Span<byte> buffer, TimeSpan timeout)
        {
            if (_pending.Length == 0 && _replies.Count > 0)
                _pending = _replies.Dequeue();
            var n = Math.Min(buffer.Length, _pending.Length);
            _pending.AsSpan(0, n).CopyTo(buffer);
            _pending = _pending[n..];
            return n;
        }
        public void SetDtr(bool asserted) { }
        public void SetRts(bool asserted) { }
        public void SetBaudRate(int baud) { }
        public void DiscardInput()
        {
            _pending = [];
            _replies.Clear();
        }
        public void Dispose() { }
    }

    /// <summary>
    /// A clock whose wall time goes back an hour each time a silent line is read, while its monotonic time moves on by
    /// what the read waited: an NTP step or a user setting the date, in the middle of a wait.
    /// </summary>
    private sealed class SteppingBackClock : TimeProvider
    {
        private long _ticks;
        private DateTimeOffset _wall = new(2030, 1, 1, 0, 0, 0, TimeSpan.Zero);

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => Interlocked.Read(ref _ticks);

        public override DateTimeOffset GetUtcNow() => _wall;

        public void Waited(TimeSpan span)
        {
            Interlocked.Add(ref _ticks, span.Ticks);
            _wall -= TimeSpan.FromHours(1);
        }
    }

    /// <summary>A line that never answers: each read waits out its timeout (on the clock given).</summary>
    private sealed class SilentTransport(SteppingBackClock clock) : ISerialTransport
    {
        public int Reads { get; private set; }
        public string Name => "silent";
        public bool CanControlLines => false;
        public void Write(ReadOnlySpan<byte> data) { }
        public int Read(Span<byte> buffer, TimeSpan timeout)
        {
            Reads++;
            clock.Waited(timeout);
            return 0;
        }
        public void SetDtr(bool asserted) { }
        public void SetRts(bool asserted) { }
        public void SetBaudRate(int baud) { }
        public void DiscardInput() { }
        public void Dispose() { }
    }

    private static byte[] Reply(byte op, uint value, params byte[] data)
    {
        var body = new byte[8 + data.Length];
        body[0] = 0x01;
        body[1] = op;
        BitConverter.GetBytes((ushort)data.Length).CopyTo(body, 2);
        BitConverter.GetBytes(value).CopyTo(body, 4);
        data.CopyTo(body, 8);
        return Slip.Encode(body);
    }

    [Fact]
    public void Command_SkipsOtherOpsAndNoise_ReturnsMatchingReply()
    {
        var transport = new ScriptedTransport();
        transport.Enqueue(
            "rst:0x1 boot log\r\n"u8.ToArray(),
            Reply(0x08, 0x20120707, 0, 0, 0, 0),
            Reply(0x0A, 0x00F01D83, 0, 0, 0, 0));
        var rom = new RomConnection(transport);
        var response = rom.Command(
            RomCommand.ReadReg,
            RomPackets.Request(RomCommand.ReadReg, RomPackets.Words(0x40001000)),
            TimeSpan.FromSeconds(1));
        Assert.Equal(0x00F01D83u, response.Value);
        Assert.Equal(
            Slip.Encode(RomPackets.Request(RomCommand.ReadReg, RomPackets.Words(0x40001000))),
            transport.Written.Single());
        Assert.Equal(transport.Written.Single().Length, rom.BytesSent);
    }

    [Fact]
    public void Command_FailingStatus_ThrowsWithRomError()
    {
        var transport = new ScriptedTransport();
        transport.Enqueue(Reply(0x11, 0, 1, 0x07, 0, 0));
        var rom = new RomConnection(transport);
        var e = Assert.Throws<RomCommandException>(() => rom.Command(
            RomCommand.FlashDeflData,
            RomPackets.DataRequest(RomCommand.FlashDeflData, 0, [1]),
            TimeSpan.FromSeconds(1)));
        Assert.Equal((byte)RomErrorCode.BadChecksum, e.Error);
    }

    [Fact]
    public void Command_InvalidMessageWithOtherOp_IsUnsupported()
    {
        var transport = new ScriptedTransport();
        transport.Enqueue(Reply(0x00, 0, 1, 0x05, 0, 0), Reply(0x00, 0, 1, 0x05, 0, 0));
        var rom = new RomConnection(transport);
        Assert.Throws<RomUnsupportedCommandException>(() =>
            rom.Command(
                RomCommand.GetSecurityInfo,
                RomPackets.Request(RomCommand.GetSecurityInfo, []),
                TimeSpan.FromSeconds(1)));
    }

    [Fact]
    public void ReadResponse_MoreThan100OtherFrames_GivesUp()
    {
        var transport = new ScriptedTransport();
        for (var i = 0; i < 101; i++)
            transport.Enqueue(Reply(0x08, 0, 0, 0, 0, 0));
        transport.Enqueue(Reply(0x0A, 7, 0, 0, 0, 0));
        var rom = new RomConnection(transport);
        Assert.Null(rom.ReadResponse(RomCommand.ReadReg, TimeSpan.FromSeconds(1)));
    }

    [Fact]
    public void ReadResponse_BadEscapeFrame_DroppedThenNextFrameRead()
    {
        var transport = new ScriptedTransport();
        transport.Enqueue([0xC0, 0x01, 0x0A, 0xDB, 0x00, 0xC0], Reply(0x0A, 9, 0, 0, 0, 0));
        var rom = new RomConnection(transport);
        Assert.Equal(9u, rom.ReadResponse(RomCommand.ReadReg, TimeSpan.FromSeconds(1))!.Value.Value);
    }

    [Fact]
    public void ReadResponseAndDrain_WallClockStepsBackMeanwhile_EndAtTheirMonotonicTimeout()
    {
        var clock = new SteppingBackClock();
        var transport = new SilentTransport(clock);
        var rom = new RomConnection(transport, time: clock);

        Assert.Null(rom.ReadResponse(RomCommand.Sync, TimeSpan.FromSeconds(3)));
        rom.Drain(TimeSpan.FromSeconds(2));

        // One read waits out each whole timeout; a wall-clock deadline would have moved an hour away after it.
        Assert.Equal(2, transport.Reads);
        Assert.Equal(TimeSpan.FromSeconds(5), clock.GetElapsedTime(0));
    }

    [Fact]
    public void ReadResponse_NothingArrives_NullAfterTimeout()
    {
        var rom = new RomConnection(new ScriptedTransport());
        Assert.Null(rom.ReadResponse(RomCommand.Sync, TimeSpan.FromMilliseconds(50)));
    }

    /// <summary>
    /// A hostile socket:// peer (or a line at the wrong baud rate) answers with a start byte and megabytes that never
    /// end the frame: the command times out, what the connection allocates does not grow with the noise, and the retry
    /// gets its answer (the too-long frame was dropped, so the answer's start byte starts a frame again).
    /// </summary>
    [Fact]
    public void Command_MegabytesOfNoiseWithoutEnd_MemoryStaysFlatAndTheRetrySucceeds()
    {
        const int noiseBytes = 4 * 1024 * 1024;
        using var sim = new RomSimulator();
        var noise = new byte[1 + noiseBytes];
        noise.AsSpan(1).Fill(0x55);
        noise[0] = Slip.End;
        sim.ReplaceNextReply = noise;
        using var transport = TcpSerialTransport.Connect("127.0.0.1", sim.Port);
        var rom = new RomConnection(transport);
        var readMagic = RomPackets.Request(RomCommand.ReadReg, RomPackets.Words(0x40001000));
        var allocatedBefore = GC.GetAllocatedBytesForCurrentThread();

        Assert.Throws<RomTimeoutException>(() =>
            rom.Command(RomCommand.ReadReg, readMagic, TimeSpan.FromSeconds(1)));
        var retry = rom.Command(RomCommand.ReadReg, readMagic, TimeSpan.FromSeconds(20));

        Assert.Equal(sim.Magic, retry.Value);
        // Kept frames are at most Slip.MaxFrameLength: a bound that does not depend on the noise's length.
        Assert.InRange(GC.GetAllocatedBytesForCurrentThread() - allocatedBefore, 0, noiseBytes / 8);
    }
}
