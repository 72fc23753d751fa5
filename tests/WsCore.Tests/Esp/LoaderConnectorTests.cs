using WsCore.Chips;
using WsCore.Esp;

namespace WsCore.Tests.Esp;

/// <summary>LoaderConnector against the simulated ROM loader: reset, SYNC, detection, the checks after it.</summary>
public class LoaderConnectorTests
{
    private static readonly ConnectOptions NoReset = new() { Before = BeforeReset.NoReset };

    private sealed class Recorder : IFlashObserver
    {
        public List<FlashEvent> Events { get; } = [];
        public void OnEvent(in FlashEvent e) => Events.Add(e);
    }

    /// <summary>
    /// A transport over another that records what is done to its modem lines; it is no <see cref="TcpSerialTransport"/>
    /// (so the connector does not rule resets out) and says it has no lines (so the resets do not sleep).
    /// </summary>
    private sealed class LineRecorder(ISerialTransport inner) : ISerialTransport
    {
        public List<string> Lines { get; } = [];
        public string Name => inner.Name;
        public bool CanControlLines => false;
        public void Write(ReadOnlySpan<byte> data) => inner.Write(data);
        public int Read(Span<byte> buffer, TimeSpan timeout) => inner.Read(buffer, timeout);
        public void SetDtr(bool asserted) => Lines.Add($"DTR={(asserted ? 1 : 0)}");
        public void SetRts(bool asserted) => Lines.Add($"RTS={(asserted ? 1 : 0)}");
        public void SetBaudRate(int baud) => inner.SetBaudRate(baud);
        public void DiscardInput() => inner.DiscardInput();
        public void Dispose() => inner.Dispose();
    }

    private static RomLoader Connect(
        ISerialTransport transport, ConnectOptions options, IFlashObserver? observer = null) =>
        LoaderConnector.Connect(new RomConnection(transport), options, observer: observer);

    private static TcpSerialTransport Open(RomSimulator sim) => TcpSerialTransport.Connect("127.0.0.1", sim.Port);

    [Fact]
    public void Connect_Esp32_DetectedByTheMagicRegister_ConnectingThenConnectedReported()
    {
        using var sim = new RomSimulator();
        var recorder = new Recorder();
        using (var transport = Open(sim))
            Assert.Same(KnownChips.Esp32, Connect(transport, NoReset, recorder).Chip);
        // SYNC, GET_SECURITY_INFO (unknown to the ESP32 ROM), then READ_REG of the magic register.
        Assert.Equal(new byte[] { 0x08, 0x14, 0x0A }, sim.Ops.Distinct());
        Assert.Equal(KnownChips.MagicRegister, BitConverter.ToUInt32(sim.Requests.Single(r => r.Op == 0x0A).Data));
        Assert.Equal([FlashEventKind.Connecting, FlashEventKind.Connected], recorder.Events.Select(e => e.Kind));
        Assert.Equal("ESP32", recorder.Events[1].Message);
    }

    [Fact]
    public void Connect_C3_DetectedFromGetSecurityInfo_MagicRegisterNotRead()
    {
        using var sim = new RomSimulator(chip: KnownChips.Esp32C3);
        using (var transport = Open(sim))
            Assert.Same(KnownChips.Esp32C3, Connect(transport, NoReset).Chip);
        Assert.DoesNotContain((byte)0x0A, sim.Ops);
    }

    [Fact]
    public void Connect_AnotherChipThanExpected_RefusedNamingTheChipField()
    {
        using var sim = new RomSimulator(chip: KnownChips.Esp32C3);
        using var transport = Open(sim);
        var e = Assert.Throws<WsCoreException>(() =>
            Connect(transport, NoReset with { ExpectedChip = KnownChips.Esp32 }));
        Assert.Equal(FailureKind.Device, e.Kind);
        Assert.Equal("ESP32-C3 detected, but ESP32 was expected", e.Message);
        Assert.Equal((InputField.Chip, InputField.Chip), (e.Field, e.HintField));
    }

    [Fact]
    public void Connect_UnknownMagic_RefusedListingTheChipsItKnows()
    {
        using var sim = new RomSimulator(magic: 0x12345678);
        using var transport = Open(sim);
        var e = Assert.Throws<WsCoreException>(() => Connect(transport, NoReset));
        Assert.Equal(FailureKind.Device, e.Kind);
        Assert.Contains("magic register 0x12345678", e.Message);
        Assert.Contains("ESP32, ESP32-S2, ESP32-S3, ESP32-C3", e.Message);
    }

    [Fact]
    public void Connect_BaudOnAChipThatDoesNotScaleIt_SendsTheRateAsAsked()
    {
        using var sim = new RomSimulator(chip: KnownChips.Esp32C3);
        using (var transport = Open(sim))
            Connect(transport, NoReset with { Baud = 921600 });
        Assert.Equal(921600u, sim.RequestedBaud);
        // The ESP32's clock registers are read only where the rate is scaled.
        Assert.DoesNotContain(sim.Requests, r => r.Op == 0x0A && BitConverter.ToUInt32(r.Data) == 0x3FF5F06C);
    }

    /// <summary>
    /// A transport whose adapter refuses rates above 115200 as SerialPortTransport does (a WsCoreException on field
    /// Baud): no pty or adapter here refuses a standard rate, so this one stands in for it.
    /// </summary>
    private sealed class RateRefusingTransport(ISerialTransport inner) : ISerialTransport
    {
        public string Name => inner.Name;
        public bool CanControlLines => false;
        public void Write(ReadOnlySpan<byte> data) => inner.Write(data);
        public int Read(Span<byte> buffer, TimeSpan timeout) => inner.Read(buffer, timeout);
        public void SetDtr(bool asserted) { }
        public void SetRts(bool asserted) { }
        public void SetBaudRate(int baud)
        {
            if (baud > LoaderConnector.RomBaudRate)
                throw new WsCoreException(FailureKind.Device, $"{Name}: cannot set {baud} baud (not supported)")
                {
                    Field = InputField.Baud,
                };
        }
        public void DiscardInput() => inner.DiscardInput();
        public void Dispose() => inner.Dispose();
    }

    [Fact]
    public void Connect_AdapterRefusesTheRate_ChipNeverAskedToChange_StaysAt115200()
    {
        using var sim = new RomSimulator();
        using var transport = new RateRefusingTransport(Open(sim));
        var loader = Connect(transport, NoReset with { Baud = 921600 });
        Assert.Equal(LoaderConnector.RomBaudRate, loader.BaudRate);
        Assert.DoesNotContain((byte)0x0F, sim.Ops);
        // The session goes on at 115200.
        Assert.Equal(KnownChips.Esp32.MagicValues[0], loader.Registers.Read(KnownChips.MagicRegister));
    }

    [Fact]
    public void Connect_RomBaudRate_NoChangeBaudrateSent()
    {
        using var sim = new RomSimulator();
        using (var transport = Open(sim))
            Connect(transport, NoReset with { Baud = LoaderConnector.RomBaudRate });
        Assert.DoesNotContain((byte)0x0F, sim.Ops);
    }

    [Fact]
    public void Connect_DefaultReset_DrivesTheLinesAsEsptoolsTightReset_NoResetLeavesThemAlone()
    {
        using var sim = new RomSimulator();
        using (var lines = new LineRecorder(Open(sim)))
        {
            Connect(lines, new ConnectOptions());
            // The first attempt's reset (esptool's UnixTightReset): both lines set together, EN held low with IO0
            // high, then released with IO0 low, then both released.
            Assert.Equal(
                ["DTR=0", "RTS=0", "DTR=1", "RTS=1", "DTR=0", "RTS=1", "DTR=1", "RTS=0", "DTR=0", "RTS=0", "DTR=0"],
                lines.Lines);
        }
        sim.WaitIdle(TimeSpan.FromSeconds(10));
        using (var lines = new LineRecorder(Open(sim)))
        {
            Connect(lines, NoReset);
            Assert.Empty(lines.Lines);
        }
    }

    [Fact]
    public void CorrectedBaud_NoCalibrationData_TheRateAsAsked()
    {
        Assert.Equal(115200u, LoaderConnector.CorrectedBaud(115200, rtcCaliRegister: 0, efuseBlk0Word4: 0x64));
    }
}
