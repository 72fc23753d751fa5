using WsCore.Chips;
using WsCore.Esp;
using WsCore.FlashFiles;
using WsCore.Flashing;
using WsCore.Nvs;

namespace WsCore.Tests.Esp;

/// <summary>EspFlasher against the simulated ROM loader over loopback TCP.</summary>
public class FlasherTests
{
    private sealed class Recorder : IFlashObserver
    {
        public List<FlashEvent> Events { get; } = [];
        public void OnEvent(in FlashEvent e) => Events.Add(e);
    }

    private static FlashSessionOptions NoReset => new() { Before = BeforeReset.NoReset, After = AfterReset.NoReset };

    private static (
        byte[] Expected, IReadOnlyList<FlashRegion> Regions) Plan(FirmwareFixture fw, DeviceSettings? settings)
    {
        var plan = FlashFileLoader.Plan(new FlashRequest { Firmware = fw.Dir, Settings = settings });
        return (FirmwareFixture.ExpectedFlash(plan.Regions.Select(r => (r.Offset, r.Data))), plan.Regions);
    }

    private static void Flash(
        RomSimulator sim,
        IReadOnlyList<FlashRegion> regions,
        Recorder? recorder = null,
        FlashSessionOptions? options = null)
    {
        using (var transport = TcpSerialTransport.Connect("127.0.0.1", sim.Port))
            new EspFlasher(transport, options ?? NoReset, null, recorder).FlashAll(regions);
        sim.WaitIdle(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public void FlashAll_BuildDirAndSettings_FlashMatchesByteForByte()
    {
        using var fw = new FirmwareFixture();
        using var sim = new RomSimulator();
        var (expected, regions) = Plan(fw, new DeviceSettings("MyNet", "password123"));
        var recorder = new Recorder();
        Flash(sim, regions, recorder);
        Assert.Equal(expected, sim.Flash);
        Assert.Equal(4, recorder.Events.Count(e => e.Kind == FlashEventKind.RegionVerified));
        // The ESP32 ROM path: GET_SECURITY_INFO (unsupported), READ_REG magic, SPI_ATTACH (8 bytes), SPI_SET_PARAMS,
        // compressed writes, MD5; never FLASH_END.
        Assert.Equal(new byte[] { 0x08, 0x14, 0x0A, 0x0D, 0x0B }, sim.Ops.Distinct().Take(5));
        Assert.DoesNotContain((byte)0x04, sim.Ops);
        Assert.DoesNotContain((byte)0x12, sim.Ops);
        Assert.Contains((byte)0x10, sim.Ops);
        var attach = sim.Requests.First(r => r.Op == 0x0D);
        Assert.Equal(new byte[8], attach.Data);
        var setParams = sim.Requests.First(r => r.Op == 0x0B);
        Assert.Equal(RomPackets.SpiSetParamsPayload(4 * 1024 * 1024), setParams.Data);
        // The 0x6000 NVS has nothing written after it that would absorb a compressed write's spill: a plain
        // FLASH_BEGIN erasing all of it, 4 words only, and only the blocks before its trailing 0xFF.
        var nvsBegin = sim.Requests.Where(r => r.Op == 0x02)
            .Select(r => r.Data)
            .Single(d => BitConverter.ToUInt32(d, 12) == 0x9000);
        Assert.Equal(16, nvsBegin.Length);
        Assert.Equal(0x6000u, BitConverter.ToUInt32(nvsBegin, 0));
        Assert.InRange(BitConverter.ToUInt32(nvsBegin, 4), 1u, 2u);
        Assert.Equal(0x400u, BitConverter.ToUInt32(nvsBegin, 8));
    }

    [Fact]
    public void FlashAll_SecondRun_SkipsRegionsWhoseMd5Matches()
    {
        using var fw = new FirmwareFixture();
        using var sim = new RomSimulator();
        var (expected, regions) = Plan(fw, new DeviceSettings("MyNet", "password123"));
        Flash(sim, regions);
        sim.Ops.Clear();
        sim.Requests.Clear();
        var recorder = new Recorder();
        Flash(sim, regions, recorder);
        Assert.Equal(expected, sim.Flash);
        // The app and the NVS (over 16 KiB) are checked and skipped; the small regions are cheaper to write
        // again than to check.
        var skipped = recorder.Events.Where(e => e.Kind == FlashEventKind.RegionSkipped).Select(e => e.Region!.Offset);
        Assert.Equal([0x9000u, 0x10000u], skipped);
        Assert.DoesNotContain(sim.Requests, r => r.Op is 0x02 or 0x10 && BitConverter.ToUInt32(r.Data, 12) >= 0x9000);
    }

    [Fact]
    public void FlashAll_IncompressibleData_UsesPlainFlashDataPaddedBlocks()
    {
        using var sim = new RomSimulator();
        var noise = new byte[3000];
        new Random(7).NextBytes(noise);
        var regions = new[] { new FlashRegion("noise", 0x20000, noise) };
        Flash(sim, regions);
        Assert.Equal(FirmwareFixture.ExpectedFlash([(0x20000u, noise)]), sim.Flash);
        Assert.Contains((byte)0x02, sim.Ops);
        Assert.All(sim.Requests.Where(r => r.Op == 0x03), r => Assert.Equal(16 + 0x400, r.Data.Length));
        Assert.Equal(3000u, BitConverter.ToUInt32(sim.Requests.Single(r => r.Op == 0x02).Data, 0));
    }

    [Fact]
    public void FlashAll_EraseCoversWholeSectors_StaleBytesAroundRegionErased()
    {
        using var sim = new RomSimulator();
        sim.Flash.AsSpan(0x30000, 0x2000).Fill(0x00);
        var data = Enumerable.Repeat((byte)0x11, 100).ToArray();
        Flash(sim, [new FlashRegion("small", 0x30000, data)]);
        Assert.All(sim.Flash.AsSpan(0x30000, 100).ToArray(), b => Assert.Equal(0x11, b));
        Assert.All(sim.Flash.AsSpan(0x30000 + 100, 0x1000 - 100).ToArray(), b => Assert.Equal(0xFF, b));
        Assert.All(sim.Flash.AsSpan(0x31000, 0x1000).ToArray(), b => Assert.Equal(0x00, b)); // next sector untouched
    }

    [Theory]
    [InlineData(RomFault.DropRequestBytes)]
    [InlineData(RomFault.CorruptChecksum)]
    [InlineData(RomFault.MissingResponse)]
    [InlineData(RomFault.GarbledEscape)]
    [InlineData(RomFault.DropResponseBytes)]
    public void FlashAll_TransientFault_EndsInCorrectFlash(RomFault fault)
    {
        using var fw = new FirmwareFixture();
        using var sim = new RomSimulator();
        var (expected, regions) = Plan(fw, new DeviceSettings("MyNet", "password123"));
        int cleanDataPackets;
        using (var clean = new RomSimulator())
        {
            Flash(clean, regions);
            cleanDataPackets = clean.Ops.Count(op => op == 0x11);
        }
        sim.InjectFault(fault, atDataPacket: 4);
        Flash(sim, regions);
        Assert.Equal(expected, sim.Flash);
        Assert.True(sim.Ops.Count(op => op == 0x11) > cleanDataPackets, "the fault was recovered by sending again");
    }

    [Fact]
    public void FlashAll_ResetMidWrite_FailsAsDeviceError()
    {
        using var fw = new FirmwareFixture();
        using var sim = new RomSimulator();
        var (_, regions) = Plan(fw, null);
        sim.InjectFault(RomFault.ResetMidWrite, atDataPacket: 3);
        var e = Assert.Throws<WsCoreException>(() => Flash(sim, regions));
        Assert.Equal(FailureKind.Device, e.Kind);
        Assert.NotNull(e.Hint);
    }

    [Fact]
    public void FlashAll_FlashKeepsCorrupting_FailsVerificationWithOffset()
    {
        using var sim = new RomSimulator();
        sim.InjectFault(RomFault.CorruptFlashAlways, atDataPacket: 1);
        var data = FirmwareFixture.BuildApp(8192);
        var recorder = new Recorder();
        var e = Assert.Throws<WsCoreException>(() => Flash(sim, [new FlashRegion("app", 0x10000, data)], recorder));
        Assert.Equal(FailureKind.VerificationFailed, e.Kind);
        Assert.Contains("0x10000", e.Message);
        Assert.Single(recorder.Events, ev => ev.Kind == FlashEventKind.Retrying);
    }

    [Fact]
    public void Connect_S2_DetectedByMagicAfterItsShortSecurityInfo()
    {
        using var sim = new RomSimulator(magic: 0x000007C6);
        using var transport = TcpSerialTransport.Connect("127.0.0.1", sim.Port);
        var flasher = new EspFlasher(transport, NoReset);
        flasher.Connect();
        Assert.Equal(KnownChips.Esp32S2, flasher.Chip);
    }

    public static TheoryData<string> LaterChips() => ["esp32s2", "esp32s3", "esp32c3"];

    [Theory]
    [MemberData(nameof(LaterChips))]
    public void FlashAll_BuildForALaterChip_BootloaderAtItsOffset_FiveWordBegin_FlashMatches(string chipId)
    {
        var chip = KnownChips.ById(chipId)!;
        using var fw = new FirmwareFixture(chip: chip);
        using var sim = new RomSimulator(chip: chip);
        var plan = FlashFileLoader.Plan(new FlashRequest
        {
            Firmware = fw.Dir,
            Settings = new DeviceSettings("MyNet", "password123")
        });
        Assert.Equal(chip.BootloaderOffset, plan.Regions[0].Offset);
        Flash(sim, plan.Regions);
        Assert.Equal(FirmwareFixture.ExpectedFlash(plan.Regions.Select(r => (r.Offset, r.Data))), sim.Flash);
        Assert.All(sim.Requests.Where(r => r.Op is 0x02 or 0x10), r => Assert.Equal(20, r.Data.Length));
        if (chip.DeflateSpillWindow == 0)
            Assert.DoesNotContain((byte)0x02, sim.Ops); // no spill: everything compressed, the NVS too
    }

    [Fact]
    public void FlashAll_FlashSizeDetect_ReadsTheJedecIdAndPatchesTheBootloader()
    {
        using var fw = new FirmwareFixture(flashSize: "detect");
        using var sim = new RomSimulator { JedecId = 0x174020 }; // capacity 0x17: 8 MB
        var plan = FlashFileLoader.Plan(new FlashRequest { Firmware = fw.Dir });
        Assert.True(plan.DetectFlashSize);
        using (var transport = TcpSerialTransport.Connect("127.0.0.1", sim.Port))
        {
            var flasher = new EspFlasher(transport, NoReset with { FlashSize = null });
            flasher.FlashAll(plan.Regions);
            Assert.Equal("8MB", flasher.DetectedFlashSize);
        }
        sim.WaitIdle(TimeSpan.FromSeconds(10));
        Assert.Equal(RomPackets.SpiSetParamsPayload(8 * 1024 * 1024), sim.Requests.First(r => r.Op == 0x0B).Data);
        Assert.Equal(0x30, sim.Flash[0x1000 + 3] & 0xF0); // header byte 3: size nibble 8MB
    }

    [Fact]
    public void Connect_UsbJtagSerialC3_StopsTheWatchdogs()
    {
        using var sim = new RomSimulator(chip: KnownChips.Esp32C3);
        using var transport = TcpSerialTransport.Connect("127.0.0.1", sim.Port);
        new EspFlasher(transport, NoReset with { UsbJtagSerial = true }).Connect();
        var watchdogs = KnownChips.Esp32C3.Watchdogs!;
        Assert.Equal(0u, sim.Registers[watchdogs.WdtConfig0]);
        Assert.Equal(WatchdogRegisters.SwdAutoFeed, sim.Registers[watchdogs.SwdConf] & WatchdogRegisters.SwdAutoFeed);
        Assert.Equal(0u, sim.Registers[watchdogs.WdtProtect]); // locked again
    }

    [Fact]
    public void Connect_UnsupportedReplyWithOtherOp_FallsBackToMagicRegister()
    {
        using var sim = new RomSimulator { UnsupportedReplyOp = 0x00 };
        using var transport = TcpSerialTransport.Connect("127.0.0.1", sim.Port);
        var flasher = new EspFlasher(transport, NoReset);
        flasher.Connect();
        Assert.Equal(KnownChips.Esp32, flasher.Chip);
    }

    [Fact]
    public void Connect_WithBaud_SendsCorrectedRate()
    {
        using var sim = new RomSimulator();
        using var transport = TcpSerialTransport.Connect("127.0.0.1", sim.Port);
        new EspFlasher(transport, NoReset with { Baud = 921600 }).Connect();
        Assert.Equal(927000u, sim.RequestedBaud);
    }

    [Fact]
    public void Connect_NobodyAnswers_FailsWithSyncHint()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        using var transport = TcpSerialTransport.Connect(
            "127.0.0.1", ((System.Net.IPEndPoint)listener.LocalEndpoint).Port);
        var e = Assert.Throws<WsCoreException>(() => new EspFlasher(
            transport, NoReset with { ConnectAttempts = 2 }).Connect());
        Assert.Equal(FailureKind.Device, e.Kind);
        Assert.Contains("hold BOOT and tap EN", e.Hint);
    }

    [Fact]
    public void FlashAll_CredentialsOnlyOntoAChipWithAnApp_AppAndEverythingElseIntact()
    {
        using var sim = new RomSimulator();
        var before = FlashExpectations.UsedChip(1);
        before.CopyTo(sim.Flash, 0);
        var plan = FlashFileLoader.Plan(new FlashRequest { Settings = new DeviceSettings("MyNet", "password123") });
        Flash(sim, plan.Regions);
        FlashExpectations.AssertSameFlash(FlashExpectations.ExpectedOnto(before, plan.Regions), sim.Flash);
    }

    [Fact]
    public void FlashAll_FullBuildOntoAUsedChip_OnlyTheRegionsSectorsChange()
    {
        using var fw = new FirmwareFixture(appSize: 200 * 1024 + 112);
        using var sim = new RomSimulator();
        var before = FlashExpectations.UsedChip(2);
        before.CopyTo(sim.Flash, 0);
        var (_, regions) = Plan(fw, new DeviceSettings("MyNet", "password123"));
        Flash(sim, regions);
        FlashExpectations.AssertSameFlash(FlashExpectations.ExpectedOnto(before, regions), sim.Flash);
        // Still compressed where that is safe: the app's head.
        Assert.Contains(sim.Requests, r => r.Op == 0x10 && BitConverter.ToUInt32(r.Data, 12) == 0x10000);
    }

    [Fact]
    public void FlashAll_AppFollowedByADataPartition_DataIntact()
    {
        using var sim = new RomSimulator();
        var before = FlashExpectations.UsedChip(3);
        before.CopyTo(sim.Flash, 0);
        // An app ending 3 sectors before a SPIFFS partition at 0x50000 that is not written.
        var app = FirmwareFixture.BuildApp(0x50000 - 0x10000 - 0x3000 - 80);
        var regions = new[] { new FlashRegion("app", 0x10000, app) };
        Flash(sim, regions);
        FlashExpectations.AssertSameFlash(FlashExpectations.ExpectedOnto(before, regions), sim.Flash);
    }

    [Fact]
    public void FlashAll_RomSpillsFurtherThanKnown_FailsVerificationNamingTheRange()
    {
        // A ROM whose spill reaches further than the chip's known window: the regions verify, the guard does not.
        using var sim = new RomSimulator { DeflateSpillWindow = 256 * 1024 };
        sim.Flash.AsSpan().Fill(0x5A);
        var app = FirmwareFixture.BuildApp(100 * 1024);
        var e = Assert.Throws<WsCoreException>(() => Flash(sim, [new FlashRegion("app", 0x10000, app)]));
        Assert.Equal(FailureKind.VerificationFailed, e.Kind);
        Assert.Contains("outside the written regions changed at 0x29000-", e.Message);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    public void FlashAll_LostAnswerMidDeflate_PieceStartsAgainAndEndsRight(int which)
    {
        using var sim = new RomSimulator();
        using var proxy = new ReplyDroppingProxy("127.0.0.1", sim.Port, op: 0x11, which);
        var app = FirmwareFixture.BuildApp(120 * 1024);
        var recorder = new Recorder();
        using (var transport = TcpSerialTransport.Connect("127.0.0.1", proxy.Port))
            new EspFlasher(transport, NoReset, null, recorder).FlashAll([new FlashRegion("app", 0x10000, app)]);
        sim.WaitIdle(TimeSpan.FromSeconds(10));
        Assert.True(proxy.Dropped);
        Assert.Equal(FirmwareFixture.ExpectedFlash([(0x10000u, app)]), sim.Flash);
        // The compressed piece began twice (never a block sent twice into the same inflater), the region once.
        Assert.Equal(2, sim.Requests.Count(r => r.Op == 0x10 && BitConverter.ToUInt32(r.Data, 12) == 0x10000));
        var retry = Assert.Single(recorder.Events, e => e.Kind == FlashEventKind.Retrying);
        Assert.Contains("writing 0x10000 again", retry.Message);
    }
}
