using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using WsCore.Esp;

namespace WsCore.Tests.Esp;

/// <summary>RomCommandRunner: each way a command can fail becomes one Device failure with its cause inside.</summary>
public class RomCommandRunnerTests
{
    private static (RomCommandRunner Commands, ISerialTransport Transport) Open(int port)
    {
        var transport = TcpSerialTransport.Connect("127.0.0.1", port);
        return (new RomCommandRunner(new RomConnection(transport)), transport);
    }

    [Fact]
    public void Run_RefusedByTheLoader_DeviceFailureNamingCommandAndError()
    {
        using var sim = new RomSimulator();
        var (commands, transport) = Open(sim.Port);
        WsCoreException e;
        using (transport) // FLASH_BEGIN before SPI_ATTACH: the ROM answers "failed to act"
            e = Assert.Throws<WsCoreException>(() =>
                commands.Run(RomCommand.FlashBegin, RomPackets.Words(0x1000, 4, 0x400, 0x10000)));
        Assert.Equal(FailureKind.Device, e.Kind);
        Assert.Equal("the ESP32 refused FlashBegin: failed to act", e.Message);
        Assert.IsType<RomCommandException>(e.InnerException);
        Assert.Contains("download mode", e.Hint);
    }

    [Fact]
    public void Run_UnknownToTheLoader_DeviceFailureSayingSo()
    {
        // The ESP32 ROM does not know GET_SECURITY_INFO; one that says so with another op means "unknown command".
        using var sim = new RomSimulator { UnsupportedReplyOp = 0x00 };
        var (commands, transport) = Open(sim.Port);
        WsCoreException e;
        using (transport)
            e = Assert.Throws<WsCoreException>(() => commands.Run(RomCommand.GetSecurityInfo, []));
        Assert.Equal("the loader does not support GetSecurityInfo", e.Message);
        Assert.IsType<RomUnsupportedCommandException>(e.InnerException);
    }

    [Fact]
    public void Run_NoAnswer_DeviceFailureWithTheDownloadModeHint()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var (commands, transport) = Open(((IPEndPoint)listener.LocalEndpoint).Port);
        WsCoreException e;
        using (transport)
            e = Assert.Throws<WsCoreException>(() =>
                commands.Run(RomCommand.ReadReg, RomPackets.Words(0x40001000), TimeSpan.FromMilliseconds(200)));
        Assert.Equal(FailureKind.Device, e.Kind);
        Assert.StartsWith("the ESP32 stopped answering: no answer to ReadReg within 0.2 s", e.Message);
        Assert.EndsWith(RomCommandRunner.DownloadModeHint, e.Hint);
    }

    [Fact]
    public void FlashMd5_TheRomsHexDigestOfTheRange()
    {
        using var sim = new RomSimulator();
        new Random(3).NextBytes(sim.Flash.AsSpan(0x20000, 0x3000));
        var (commands, transport) = Open(sim.Port);
        using (transport)
            Assert.Equal(
                Convert.ToHexStringLower(MD5.HashData(sim.Flash.AsSpan(0x20100, 0x2000))),
                commands.FlashMd5(new FlashRange(0x20100, 0x22100)));
        Assert.Equal(RomPackets.Words(0x20100, 0x2000, 0, 0), sim.Requests.Single(r => r.Op == 0x13).Data);
    }

    [Fact]
    public void AttachFlashThenSetFlashSize_TheRomsPayloads()
    {
        using var sim = new RomSimulator();
        var (commands, transport) = Open(sim.Port);
        using (transport)
        {
            commands.AttachFlash();
            commands.SetFlashSize(8 * 1024 * 1024);
        }
        Assert.Equal([0x0D, 0x0B], sim.Ops);
        Assert.Equal(new byte[8], sim.Requests[0].Data); // default pins, and the 4 bytes only the ROM takes
        Assert.Equal(RomPackets.Words(0, 8 * 1024 * 1024, 0x10000, 0x1000, 0x100, 0xFFFF), sim.Requests[1].Data);
    }
}
