using System.Security.Cryptography;
using WsCore.Chips;
using WsCore.Esp;
using WsCore.Flashing;
using WsCore.Nvs;

namespace WsCore.Tests.Esp;

public class PartitionTableTests
{
    [Fact]
    public void ParseBinary_FindsNvs()
    {
        var table = PartitionTable.ParseBinary(FirmwareFixture.BuildPartitionTable(0xA000, 0x4000));
        Assert.Equal(3, table.Count);
        Assert.Equal(new Partition("nvs", 1, 2, 0xA000, 0x4000), PartitionTable.FindNvs(table));
        Assert.Equal("factory", table[2].Label);
    }

    [Fact]
    public void ParseCsv_ExplicitAndAutomaticOffsets()
    {
        var csv = """
            # Name,   Type, SubType, Offset,  Size, Flags
            nvs,      data, nvs,     ,        0x6000,
            phy_init, data, phy,     ,        0x1000,
            factory,  app,  factory, ,        1M,
            """;
        var table = PartitionTable.ParseCsv(csv);
        Assert.Equal(new Partition("nvs", 1, 2, 0x9000, 0x6000), PartitionTable.FindNvs(table));
        Assert.Equal(0xF000u, table[1].Offset);
        Assert.Equal(0x10000u, table[2].Offset);
        Assert.Equal(0x100000u, table[2].Size);
    }
}
