using WsCore.Chips;
using WsCore.Esp;
using WsCore.Flashing;

namespace WsCore.Tests.Esp;

/// <summary>FlashWriter against the simulated ROM loader, connected and with its flash attached.</summary>
public sealed class FlashWriterTests : IDisposable
{
    private readonly RomSimulator _sim = new();
    private readonly TcpSerialTransport _transport;
    private readonly Recorder _events = new();
    private readonly FlashWriter _writer;

    private sealed class Recorder : IFlashObserver
    {
        public List<FlashEvent> Events { get; } = [];
        public void OnEvent(in FlashEvent e) => Events.Add(e);
    }

    public FlashWriterTests()
    {
        _transport = TcpSerialTransport.Connect("127.0.0.1", _sim.Port);
        var loader = LoaderConnector.Connect(
            new RomConnection(_transport), new ConnectOptions { Before = BeforeReset.NoReset });
        loader.Commands.AttachFlash();
        loader.Commands.SetFlashSize(RomSimulator.FlashSize);
        _writer = new FlashWriter(loader, blockAttempts: 3, observer: _events);
        _sim.Ops.Clear();
        _sim.Requests.Clear();
    }

    public void Dispose()
    {
        _transport.Dispose();
        _sim.Dispose();
    }

    private static RegionWrite Planned(FlashRegion region, int spillWindow = 0) =>
        WritePlanner.Plan([region], spillWindow, data => FlashCompressor.Compress(data)).Single();

    [Fact]
    public void Write_CompressedHeadAndPlainTail_FlashHoldsTheRegion_VerifiedOnce()
    {
        var app = new FlashRegion("app", 0x10000, FirmwareFixture.BuildApp(100 * 1024)) { IsImage = true };
        var write = Planned(app, KnownChips.Esp32.DeflateSpillWindow);
        Assert.Equal([true, false], write.Pieces.Select(p => p.IsCompressed));
        _writer.Write(write);
        Assert.Equal(app.Data, _sim.Flash.AsSpan(0x10000, app.Data.Length).ToArray());
        var verified = Assert.Single(_events.Events, e => e.Kind == FlashEventKind.RegionVerified);
        Assert.Equal(FlashPlan.Md5Of(app), verified.Message);
        Assert.Single(_sim.Ops, op => op == 0x13); // one SPI_FLASH_MD5: the verification
        Assert.Equal(FlashEventKind.RegionStarted, _events.Events[0].Kind);
        Assert.Contains("bytes compressed", _events.Events[0].Message);
        Assert.Contains("plain", _events.Events[0].Message);
    }

    [Fact]
    public void Write_SecretRegion_ItsMd5NeverReported()
    {
        var nvs = new FlashRegion("nvs", 0x9000, Enumerable.Repeat((byte)0x42, 0x1000).ToArray()) { Secret = true };
        _writer.Write(Planned(nvs));
        Assert.All(_events.Events.Where(e => e.Message is not null), e => Assert.DoesNotContain(
            FlashPlan.Md5Of(nvs), e.Message));
        Assert.Equal("(secret)", _events.Events.Single(e => e.Kind == FlashEventKind.RegionVerified).Message);
    }

    [Fact]
    public void Write_BlockRefusedOnce_SentAgain_RegionNotRestarted()
    {
        _sim.InjectFault(RomFault.CorruptChecksum, atDataPacket: 2);
        var data = new byte[8 * 1024];
        new Random(5).NextBytes(data);
        _writer.Write(Planned(new FlashRegion("noise", 0x20000, data)));
        Assert.Equal(data, _sim.Flash.AsSpan(0x20000, data.Length).ToArray());
        Assert.Equal(9, _sim.Ops.Count(op => op == 0x03)); // 8 blocks, one of them twice
        Assert.Single(_sim.Ops, op => op == 0x02);
        Assert.DoesNotContain(_events.Events, e => e.Kind == FlashEventKind.Retrying);
    }

    [Fact]
    public void Write_FlashKeepsCorrupting_WrittenTwice_ThenVerificationFailedNamingTheOffset()
    {
        _sim.InjectFault(RomFault.CorruptFlashAlways, atDataPacket: 1);
        var region = new FlashRegion("app", 0x10000, FirmwareFixture.BuildApp(8192));
        var e = Assert.Throws<WsCoreException>(() => _writer.Write(Planned(region)));
        Assert.Equal(FailureKind.VerificationFailed, e.Kind);
        Assert.Contains("app at 0x10000", e.Message);
        Assert.Equal(2, _sim.Ops.Count(op => op == 0x13));
        Assert.Single(_events.Events, ev => ev.Kind == FlashEventKind.Retrying);
    }

    [Fact]
    public void AlreadyInFlash_LargeRegionThere_SkippedAndReported_SmallOneNotEvenChecked()
    {
        var large = new FlashRegion("app", 0x10000, FirmwareFixture.BuildApp(FlashWriter.CheckFirstThreshold + 16));
        large.Data.CopyTo(_sim.Flash, 0x10000);
        var small = new FlashRegion("table", 0x8000, new byte[FlashWriter.CheckFirstThreshold]);
        small.Data.CopyTo(_sim.Flash, 0x8000);
        Assert.True(_writer.AlreadyInFlash(large));
        Assert.Equal(FlashEventKind.RegionSkipped, Assert.Single(_events.Events).Kind);
        Assert.False(_writer.AlreadyInFlash(small));
        Assert.Single(_sim.Ops, op => op == 0x13);
    }

    [Fact]
    public void CheckUnchanged_NeighbourChangedAfterTheChecksums_FailsNamingTheRange()
    {
        FlashRange[] guards = [new(0x30000, 0x38000), new(0x40000, 0x41000)];
        var before = _writer.ReadChecksums(guards);
        _writer.CheckUnchanged(guards, before);
        _sim.Flash[0x40010] ^= 0x01;
        var e = Assert.Throws<WsCoreException>(() => _writer.CheckUnchanged(guards, before));
        Assert.Equal(FailureKind.VerificationFailed, e.Kind);
        Assert.StartsWith("flash outside the written regions changed at 0x40000-0x40FFF", e.Message);
        Assert.Equal(InputField.Firmware, e.HintField);
    }
}
