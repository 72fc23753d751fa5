using WsCore.Esp;
using WsCore.Flashing;

namespace WsCore.Tests.Esp;

/// <summary>
/// The write plan against a model of the ESP32 ROM (erase whole sectors at FLASH_BEGIN; a compressed stream of n
/// bytes programs zeros up to start + (⌊n / 32 KiB⌋ + 1) × 32 KiB): over many layouts, nothing outside the
/// regions' sectors changes, the regions hold their bytes, and the rest of their sectors is erased (as esptool leaves
/// it).
/// </summary>
public class WritePlannerTests
{
    private const int FlashSize = 0x100000;
    private const int Window = 32 * 1024;

    /// <summary>Applies the plan to <paramref name="flash"/> the way the ROM does.</summary>
    private static void Apply(byte[] flash, IEnumerable<RegionWrite> writes, int window)
    {
        foreach (var piece in writes.SelectMany(w => w.Pieces))
        {
            var erased = WritePlanner.Erased(piece.Offset, piece.EraseSize);
            flash.AsSpan((int)erased.Start, (int)erased.Length).Fill(0xFF);
            var sent = piece.IsCompressed ? piece.Data.Length : piece.SentLength;
            piece.Data.AsSpan(0, sent).CopyTo(flash.AsSpan((int)piece.Offset));
            if (piece.IsCompressed)
            {
                var spill = WritePlanner.Spill(piece.Offset, piece.Data.Length, window);
                flash.AsSpan((int)spill.Start, (int)(Math.Min(FlashSize, spill.End) - spill.Start)).Clear();
            }
        }
    }

    private static byte[] Compressible(int length, int seed)
    {
        var data = new byte[length];
        var random = new Random(seed);
        for (var i = 0; i < length; i++)
            data[i] = i % 16 < 12 ? (byte)(i / 97) : (byte)random.Next(256);
        return data;
    }

    public static TheoryData<int> Seeds() => [.. Enumerable.Range(1, 60)];

    [Theory]
    [MemberData(nameof(Seeds))]
    public void Plan_RandomLayouts_OnlyTheRegionsSectorsChange(int seed)
    {
        var random = new Random(seed);
        // 1-4 regions, sector aligned (partitions are), each 1 byte to 200 KiB, with gaps of 0-3 sectors.
        var regions = new List<FlashRegion>();
        long position = random.Next(0, 4) * 0x1000;
        for (var i = random.Next(1, 5); i > 0 && position < FlashSize - 0x40000; i--)
        {
            var length = random.Next(4) switch
            {
                0 => random.Next(1, 0x1000),
                1 => random.Next(1, 16)
                * 0x1000,
                _ => random.Next(1, 200 * 1024)
            };
            regions.Add(new FlashRegion($"r{i}", (uint)position, Compressible(length, seed * 10 + i)));
            position = WritePlanner.Erased(position, length).End + random.Next(0, 4) * 0x1000;
        }
        var before = new byte[FlashSize];
        random.NextBytes(before);
        var flash = before.ToArray();

        var writes = WritePlanner.Plan(regions, Window, data => FlashCompressor.Compress(data));
        Apply(flash, writes, Window);

        var expected = before.ToArray();
        foreach (var region in regions)
        {
            var erased = WritePlanner.Erased(region.Offset, FlashRegion.PadTo4(region.Data).Length);
            expected.AsSpan((int)erased.Start, (int)erased.Length).Fill(0xFF);
            region.Data.CopyTo(expected, region.Offset);
        }
        var firstDifference = flash.AsSpan().CommonPrefixLength(expected);
        Assert.True(firstDifference == FlashSize, $"flash differs at 0x{firstDifference:X}; plan: " +
            string.Join(
                "; ",
                writes
                    .SelectMany(w => w.Pieces)
                    .Select(p => $"0x{p.Offset:X}+0x{p.Data.Length:X} {(p.IsCompressed ? "defl" : "plain")}")));
    }

    [Fact]
    public void Plan_CredentialsOnly_NvsIsPlainAndSendsOnlyItsUsedBlocks()
    {
        var nvs = new byte[0x6000];
        nvs.AsSpan().Fill(0xFF);
        nvs.AsSpan(0, 300).Fill(0x12);
        var write = Assert.Single(WritePlanner.Plan(
            [new FlashRegion("nvs", 0x9000, nvs)], Window, data => FlashCompressor.Compress(data)));
        var piece = Assert.Single(write.Pieces);
        Assert.False(piece.IsCompressed);
        Assert.Equal(0x6000u, piece.EraseSize);
        Assert.Equal(300, piece.SentLength);
    }

    [Fact]
    public void Plan_BootloaderBeforePartitionTable_CompressedWhole()
    {
        // Its spill ends in the partition table's sector, which is erased and written after it.
        var writes = WritePlanner.Plan(
            [new FlashRegion("bootloader", 0x1000, Compressible(26_000, 1)),
            new FlashRegion("partition-table", 0x8000, Compressible(0xC00, 2))],
            Window,
            data => FlashCompressor.Compress(data));
        Assert.True(Assert.Single(writes[0].Pieces).IsCompressed);
        Assert.False(Assert.Single(writes[1].Pieces).IsCompressed);
    }

    [Fact]
    public void Plan_LargeAppWithNothingAfter_CompressedHeadAndShortPlainTail()
    {
        var app = Compressible(858_336, 3);
        var write = Assert.Single(WritePlanner.Plan(
            [new FlashRegion("app", 0x10000, app)], Window, data => FlashCompressor.Compress(data)));
        Assert.Equal(2, write.Pieces.Count);
        Assert.True(write.Pieces[0].IsCompressed);
        Assert.False(write.Pieces[1].IsCompressed);
        Assert.InRange(write.Pieces[1].Data.Length, 1, Window + WritePlanner.SectorSize);
    }

    [Fact]
    public void Plan_NoSpillWindow_EverythingCompressed()
    {
        var writes = WritePlanner.Plan([new FlashRegion("app", 0x10000, Compressible(300_000, 4)),
            new FlashRegion("nvs", 0x200000, Compressible(0x6000, 5))], 0, data => FlashCompressor.Compress(data));
        Assert.All(writes.SelectMany(w => w.Pieces), p => Assert.True(p.IsCompressed));
    }

    [Fact]
    public void GuardRanges_NeighbourhoodLessErasedSectors()
    {
        var guards = WritePlanner.GuardRanges(
            [new FlashRegion("nvs", 0x9000, new byte[0x6000]), new FlashRegion("app", 0x10000, new byte[0x1800])],
            FlashSize,
            Window);
        Assert.Equal(
            [new FlashRange(0x1000, 0x9000), new FlashRange(0xF000, 0x10000), new FlashRange(0x12000, 0x1A000)],
            guards);
    }
}
