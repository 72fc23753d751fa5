using WsCore.Esp;

namespace WsCore.Tests.Esp;

public class RomPacketTests
{
    [Fact]
    public void Checksum_SeedIsEf_XorOfBytes()
    {
        Assert.Equal(0xEF, RomPackets.Checksum([]));
        Assert.Equal(0xEF ^ 0x01 ^ 0xFF, RomPackets.Checksum([0x01, 0xFF]));
    }

    [Fact]
    public void SyncRequest_IsEsptoolsBytes()
    {
        var packet = RomPackets.Request(RomCommand.Sync, RomPackets.SyncPayload());
        Assert.Equal(new byte[] { 0x00, 0x08, 0x24, 0x00, 0, 0, 0, 0, 0x07, 0x07, 0x12, 0x20 }, packet[..12]);
        Assert.All(packet[12..], b => Assert.Equal(0x55, b));
        Assert.Equal(44, packet.Length);
    }

    [Fact]
    public void FlashBeginWords_MatchWorkedExamples()
    {
        // docs/esp32-rom-protocol.md §4, worked examples: 5000-byte app at 0x10000; 0x6000 NVS at 0x9000.
        Assert.Equal(
            Convert.FromHexString("88130000050000000004000000000100"), RomPackets.Words(5000, 5, 0x400, 0x10000));
        Assert.Equal(
            Convert.FromHexString("00600000180000000004000000900000"), RomPackets.Words(0x6000, 0x18, 0x400, 0x9000));
    }

    [Fact]
    public void DataRequest_HasHeaderAndChecksumOverBlockOnly()
    {
        var packet = RomPackets.DataRequest(RomCommand.FlashDeflData, 3, [0x10, 0x20]);
        Assert.Equal(
            new byte[] { 0x00, 0x11, 0x12, 0x00, 0xEF ^ 0x10 ^ 0x20, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                0, 0, 0x10, 0x20 },
            packet);
    }

    [Fact]
    public void ResponseParse_ObservedSyncAndReadRegReplies()
    {
        Assert.True(RomResponse.TryParse(Convert.FromHexString("0108040007071220" + "00000000"), out var sync));
        Assert.Equal(0x20120707u, sync.Value);
        Assert.True(sync.TryGetStatus(0, out var failed, out _));
        Assert.False(failed);
        Assert.True(RomResponse.TryParse(Convert.FromHexString("010a0400831df000" + "00000000"), out var reg));
        Assert.Equal(0x00F01D83u, reg.Value);
    }

    [Fact]
    public void ResponseStatus_TwoOrFourBytes_ParsedGenerically()
    {
        Assert.True(RomResponse.TryParse(
            Convert.FromHexString("0113220000000000" + new string('a', 0) + Convert.ToHexString(new byte[32]) + "0107"),
            out var stub));
        Assert.True(stub.TryGetStatus(32, out var failed, out var error));
        Assert.True(failed);
        Assert.Equal((byte)RomErrorCode.BadChecksum, error);
        Assert.True(RomResponse.TryParse(Convert.FromHexString("011104000000000001080000"), out var rom));
        Assert.True(rom.TryGetStatus(0, out failed, out error));
        Assert.True(failed);
        Assert.Equal("flash write error", RomErrors.Describe(error));
        Assert.Equal("other (0x42)", RomErrors.Describe(0x42));
    }

    [Fact]
    public void UnsupportedAnswer_DifferentOpWithInvalidMessage_IsRecognised()
    {
        Assert.True(RomResponse.TryParse(Convert.FromHexString("010004000000000001050000"), out var reply));
        Assert.True(reply.IsUnsupportedAnswerTo(RomCommand.GetSecurityInfo));
        Assert.True(RomResponse.TryParse(Convert.FromHexString("010804000000000000000000"), out var sync));
        Assert.False(sync.IsUnsupportedAnswerTo(RomCommand.GetSecurityInfo));
    }

    [Fact]
    public void Timeouts_FollowEsptoolPerMegabyteRules()
    {
        Assert.Equal(TimeSpan.FromSeconds(3), RomTimeouts.Erase(0x6000));
        Assert.Equal(TimeSpan.FromSeconds(60), RomTimeouts.Erase(2_000_000));
        Assert.Equal(TimeSpan.FromSeconds(16), RomTimeouts.Md5(2_000_000));
    }

    [Fact]
    public void CorrectedBaud_AppliesEsp32RomClockFormula()
    {
        // cali = 0x20300 >> 7 = 1030, ck8m = 100: romfreq = 1030*15625*100/40 = 40234375 (> 33 MHz, so / 40e6):
        // 921600 * 40234375 // 40e6 = 927000 (value worked out with Python's float arithmetic, as esptool does it).
        Assert.Equal(927000u, LoaderConnector.CorrectedBaud(921600, 0x20300, 0x64));
        Assert.Equal(460800u, LoaderConnector.CorrectedBaud(460800, 0, 0));
    }
}
