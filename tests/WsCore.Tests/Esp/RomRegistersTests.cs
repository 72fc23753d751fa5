using WsCore.Chips;
using WsCore.Esp;

namespace WsCore.Tests.Esp;

/// <summary>
/// RomRegisters against the simulated ROM loader: READ_REG, WRITE_REG, the SPI flash command, watchdogs.
/// </summary>
public class RomRegistersTests
{
    private static (RomRegisters Registers, ISerialTransport Transport) Open(RomSimulator sim)
    {
        var transport = TcpSerialTransport.Connect("127.0.0.1", sim.Port);
        return (new RomRegisters(new RomCommandRunner(new RomConnection(transport))), transport);
    }

    /// <summary>The (address, value) of every WRITE_REG sent, in order.</summary>
    private static List<(uint Address, uint Value)> Writes(RomSimulator sim) => sim.Requests
        .Where(r => r.Op == 0x09)
        .Select(r => (BitConverter.ToUInt32(r.Data, 0), BitConverter.ToUInt32(r.Data, 4)))
        .ToList();

    [Fact]
    public void WriteThenRead_TheValueComesBack_WriteIsAWholeWordWithoutDelay()
    {
        using var sim = new RomSimulator();
        var (registers, transport) = Open(sim);
        using (transport)
        {
            registers.Write(0x3FF00010, 0xCAFEF00D);
            Assert.Equal(0xCAFEF00Du, registers.Read(0x3FF00010));
        }
        var write = sim.Requests.Single(r => r.Op == 0x09).Data;
        Assert.Equal(RomPackets.Words(0x3FF00010, 0xCAFEF00D, 0xFFFFFFFF, 0), write);
    }

    public static TheoryData<string> Chips() => ["esp32", "esp32s3"];

    [Theory]
    [MemberData(nameof(Chips))]
    public void ReadFlashId_RunsRdidThroughTheSpiController_AndPutsItsRegistersBack(string chipId)
    {
        var chip = KnownChips.ById(chipId)!;
        var spi = chip.Spi;
        using var sim = new RomSimulator(chip: chip) { JedecId = 0x174020 };
        sim.Registers[spi.Base + spi.UsrOffset] = 0x11111111;
        sim.Registers[spi.Base + spi.Usr2Offset] = 0x22222222;
        var (registers, transport) = Open(sim);
        using (transport)
            Assert.Equal(0x174020u, registers.ReadFlashId(spi));
        var writes = Writes(sim);
        Assert.Contains((spi.Base + spi.MisoDlenOffset, 23u), writes); // 24 bits read back
        Assert.Contains((spi.Base + spi.Usr2Offset, 0x7000009Fu), writes); // an 8-bit command, 0x9F
        Assert.Equal(
            [(spi.Base + spi.UsrOffset, 0x11111111u), (spi.Base + spi.Usr2Offset, 0x22222222u)],
            writes.TakeLast(2));
    }

    [Fact]
    public void ReadFlashId_CommandNeverCompletes_DeviceFailureAfterTenPolls()
    {
        using var sim = new RomSimulator { SpiUserCommandHangs = true };
        var (registers, transport) = Open(sim);
        WsCoreException e;
        using (transport)
            e = Assert.Throws<WsCoreException>(() => registers.ReadFlashId(KnownChips.Esp32.Spi));
        Assert.Equal(FailureKind.Device, e.Kind);
        Assert.Equal("the SPI flash command did not complete", e.Message);
        var spi = KnownChips.Esp32.Spi;
        Assert.Equal(10, sim.Requests.Count(r => r.Op == 0x0A && BitConverter.ToUInt32(r.Data) == spi.Base));
    }

    [Fact]
    public void DisableWatchdogs_S3_EachUnlockedChangedAndLockedAgain_InEsptoolsOrder()
    {
        using var sim = new RomSimulator(chip: KnownChips.Esp32S3);
        var watchdogs = KnownChips.Esp32S3.Watchdogs!;
        sim.Registers[watchdogs.SwdConf] = 0x00000123;
        var (registers, transport) = Open(sim);
        using (transport)
            registers.DisableWatchdogs(watchdogs);
        Assert.Equal(
            [
                (watchdogs.WdtProtect, WatchdogRegisters.WdtKey),
                (watchdogs.WdtConfig0, 0u),
                (watchdogs.WdtProtect, 0u),
                (watchdogs.SwdProtect, WatchdogRegisters.SwdKey),
                (watchdogs.SwdConf, 0x00000123u | WatchdogRegisters.SwdAutoFeed),
                (watchdogs.SwdProtect, 0u),
            ],
            Writes(sim));
    }
}
