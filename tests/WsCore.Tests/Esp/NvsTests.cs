using System.Buffers.Binary;
using System.Text;
using WsCore.Nvs;

namespace WsCore.Tests.Esp;

public class NvsTests
{
    private static byte[] Entry(byte[] image, int page, int index) => image
        .AsSpan(page * 4096 + 64 + index * 32, 32)
        .ToArray();

    [Fact]
    public void Crc_DocumentCheckValues()
    {
        // docs/esp32-rom-protocol.md §11: the reference page header's bytes 4..27, and "MyNet\0".
        var header = new byte[24];
        header.AsSpan().Fill(0xFF);
        header.AsSpan(0, 4).Clear();
        header[4] = 0xFE;
        Assert.Equal(0xB9BA2D84u, NvsCrc.Compute(header));
        Assert.Equal(0xC67FFEC4u, NvsCrc.Compute("MyNet\0"u8));
    }

    [Fact]
    public void DeviceImage_0x6000_OnlyPageZeroUsed_WithActiveV2Header()
    {
        var image = new DeviceSettings("MyNet", "password123").BuildNvsImage(0x6000);
        Assert.Equal(0x6000, image.Length);
        Assert.All(image.AsSpan(4096).ToArray(), b => Assert.Equal(0xFF, b));
        Assert.Equal(Convert.FromHexString("FEFFFFFF00000000FE"), image[..9]);
        Assert.Equal(0xB9BA2D84u, BinaryPrimitives.ReadUInt32LittleEndian(image.AsSpan(28)));
        // 9 entries written: namespace, ssid(2), pass(2), hostname(2), port, max_clients.
        Assert.Equal(new byte[] { 0xAA, 0xAA, 0xFE, 0xFF }, image[32..36]);
    }

    [Fact]
    public void DeviceImage_EntriesInOrder_WithGeneratorLayout()
    {
        var image = new DeviceSettings("MyNet", "password123", "esp32ws", 8080, 5).BuildNvsImage(0x6000);
        var ns = Entry(image, 0, 0);
        Assert.Equal(new byte[] { 0x00, 0x01, 0x01, 0xFF }, ns[..4]);
        Assert.Equal("wsctl\0\0\0\0\0\0\0\0\0\0\0", Encoding.ASCII.GetString(ns, 8, 16));
        Assert.Equal(new byte[] { 0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF }, ns[24..]);
        var ssid = Entry(image, 0, 1);
        Assert.Equal(new byte[] { 0x01, 0x21, 0x02, 0xFF }, ssid[..4]);
        Assert.Equal(new byte[] { 0x06, 0x00, 0xFF, 0xFF }, ssid[24..28]);
        Assert.Equal(0xC67FFEC4u, BinaryPrimitives.ReadUInt32LittleEndian(ssid.AsSpan(28)));
        Assert.Equal("MyNet\0"u8.ToArray().Concat(Enumerable.Repeat((byte)0xFF, 26)), Entry(image, 0, 2));
        Assert.Equal("pass", Encoding.ASCII.GetString(Entry(image, 0, 3), 8, 4));
        Assert.Equal("hostname", Encoding.ASCII.GetString(Entry(image, 0, 5), 8, 8));
        var port = Entry(image, 0, 7);
        Assert.Equal(new byte[] { 0x01, 0x02, 0x01, 0xFF }, port[..4]);
        Assert.Equal(Convert.FromHexString("901FFFFFFFFFFFFF"), port[24..]);
        var max = Entry(image, 0, 8);
        Assert.Equal(new byte[] { 0x01, 0x01, 0x01, 0xFF }, max[..4]);
        Assert.Equal(Convert.FromHexString("05FFFFFFFFFFFFFF"), max[24..]);
        // Every entry's CRC covers bytes 0..3 and 8..31.
        foreach (var i in new[] { 0, 1, 3, 5, 7, 8 })
        {
            var e = Entry(image, 0, i);
            Assert.Equal(NvsCrc.Compute([.. e[..4], .. e[8..]]), BinaryPrimitives.ReadUInt32LittleEndian(e.AsSpan(4)));
        }
    }

    [Fact]
    public void DeviceImage_EchoAndCounterInterval_U8AndU32AfterMaxClients()
    {
        var image = new DeviceSettings("MyNet", "password123", Echo: true, CounterInterval: TimeSpan.FromSeconds(2))
            .BuildNvsImage(0x6000);
        var echo = Entry(image, 0, 9);
        Assert.Equal(new byte[] { 0x01, (byte)NvsItemType.U8, 0x01, 0xFF }, echo[..4]);
        Assert.Equal("echo", Encoding.ASCII.GetString(echo, 8, 4));
        Assert.Equal(Convert.FromHexString("01FFFFFFFFFFFFFF"), echo[24..]);
        var counter = Entry(image, 0, 10);
        Assert.Equal(new byte[] { 0x01, (byte)NvsItemType.U32, 0x01, 0xFF }, counter[..4]);
        Assert.Equal("counter_ms", Encoding.ASCII.GetString(counter, 8, 10));
        Assert.Equal(Convert.FromHexString("D0070000FFFFFFFF"), counter[24..]); // 2000, little-endian
        foreach (var e in new[] { echo, counter })
            Assert.Equal(NvsCrc.Compute([.. e[..4], .. e[8..]]), BinaryPrimitives.ReadUInt32LittleEndian(e.AsSpan(4)));
    }

    [Fact]
    public void DeviceImage_EchoAndCounterNotSet_SameImageAsBeforeTheyExisted()
    {
        // Entry 9 stays empty: the device keeps its own defaults (no echo, its Kconfig counter interval).
        var image = new DeviceSettings("MyNet", "password123").BuildNvsImage(0x6000);
        Assert.All(Entry(image, 0, 9), b => Assert.Equal(0xFF, b));
        Assert.Equal(image, new DeviceSettings("MyNet", "password123", Echo: null, CounterInterval: null)
            .BuildNvsImage(0x6000));
        var echoOnly = new DeviceSettings("MyNet", "password123", Echo: false).BuildNvsImage(0x6000);
        Assert.Equal("echo", Encoding.ASCII.GetString(Entry(echoOnly, 0, 9), 8, 4));
        Assert.All(Entry(echoOnly, 0, 10), b => Assert.Equal(0xFF, b));
    }

    [Fact]
    public void LongPassword_SpansThreeEntries()
    {
        var password = new string('p', 63); // 64 bytes with the NUL: two data entries
        var image = new DeviceSettings("MyNet", password).BuildNvsImage(0x6000);
        var pass = Entry(image, 0, 3);
        Assert.Equal(3, pass[2]);
        Assert.Equal(64, BinaryPrimitives.ReadUInt16LittleEndian(pass.AsSpan(24)));
        Assert.Equal(Encoding.ASCII.GetBytes(password + "\0"), image.AsSpan(64 + 4 * 32, 64).ToArray());
        Assert.Equal("hostname", Encoding.ASCII.GetString(Entry(image, 0, 6), 8, 8));
    }

    [Fact]
    public void ManyEntries_OverflowToNextPage_PreviousMarkedFull()
    {
        var builder = new NvsPartitionBuilder(0x6000).Namespace("big");
        for (var i = 0; i < 130; i++)
            builder.U8($"k{i}", (byte)i);
        var image = builder.Build();
        Assert.Equal(0xFFFFFFFCu, BinaryPrimitives.ReadUInt32LittleEndian(image)); // page 0 FULL
        Assert.Equal(0xFFFFFFFEu, BinaryPrimitives.ReadUInt32LittleEndian(image.AsSpan(4096))); // page 1 ACTIVE
        Assert.Equal(1u, BinaryPrimitives.ReadUInt32LittleEndian(image.AsSpan(4096 + 4)));
        Assert.All(image.AsSpan(32, 32).ToArray()[..31], b => Assert.Equal(0xAA, b)); // 126 entries written
        Assert.Equal("k125", Encoding.ASCII.GetString(Entry(image, 1, 0), 8, 4));
        Assert.Equal(0xFFFFFFFFu, BinaryPrimitives.ReadUInt32LittleEndian(image.AsSpan(2 * 4096)));
    }

    [Fact]
    public void StringThatDoesNotFit_StartsNewPage()
    {
        var builder = new NvsPartitionBuilder(0x6000).Namespace("s");
        for (var i = 0; i < 122; i++)
            builder.U8($"k{i}", 1);
        // 123 entries used: a 2-entry string ends at 125
        // (< 126) and fits; then a 3-entry one would reach 128: new page.
        builder.String("fits", new string('x', 31));
        builder.String("moves", new string('y', 40));
        var image = builder.Build();
        Assert.Equal("fits", Encoding.ASCII.GetString(Entry(image, 0, 123), 8, 4));
        Assert.Equal("moves", Encoding.ASCII.GetString(Entry(image, 1, 0), 8, 5));
    }

    [Fact]
    public void TooManyEntries_ForPartition_Throws()
    {
        var builder = new NvsPartitionBuilder(0x3000).Namespace("n");
        Assert.Throws<ArgumentException>(() =>
        {
            for (var i = 0; i < 300; i++)
                builder.U8($"k{i}", 1);
        });
    }
}
