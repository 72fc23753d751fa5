using WsCore.Flashing;

namespace WsCore.Esp;

/// <summary>
/// Plans the writes of a run so that nothing outside the requested regions changes (docs/esp32-rom-protocol.md §8).
/// <para>
/// The ESP32 ROM's compressed write (FLASH_DEFL_*) inflates into a 32 KiB window and programs the whole window:
/// a stream of <c>n</c> bytes at <c>start</c> also programs [start + n, start + (⌊n / 32 KiB⌋ + 1) × 32 KiB), past
/// the sectors it erased, with stale window bytes (observed through the real mask ROM in Espressif's QEMU, for n a
/// multiple of 32 KiB too; esptool avoids it by writing uncompressed to the ESP32 ROM). A compressed
/// piece is therefore used only where its spill lands in sectors that a later piece of the same run erases
/// and rewrites; elsewhere the region ends in a plain (uncompressed) piece. The ESP32-C3 ROM does not spill.
/// </para>
/// Pure: no I/O. Region offsets and the spill window come from the caller.
/// </summary>
public static class WritePlanner
{
    public const int SectorSize = 0x1000;

    /// <summary>
    /// The range a compressed stream inflating to <paramref name="length"/> bytes at <paramref name="start"/>
    /// programs beyond its own bytes, on a ROM with the given spill window (0: none).
    /// </summary>
    public static FlashRange Spill(long start, long length, int window) =>
        window == 0 ? new FlashRange(start + length, start + length)
            : new FlashRange(start + length, start + (length / window + 1) * window);

    /// <summary>
    /// The sectors FLASH_BEGIN erases for <paramref name="length"/> bytes at <paramref name="start"/>.
    /// </summary>
    public static FlashRange Erased(long start, long length) =>
        new(start / SectorSize * SectorSize, (start + length + SectorSize - 1) / SectorSize * SectorSize);

    /// <summary>
    /// The sectors writing <paramref name="region"/> erases (its data padded to 4 bytes, as it is sent).
    /// </summary>
    public static FlashRange ErasedBy(FlashRegion region) => Erased(region.Offset, (region.Data.Length + 3) & ~3);

    /// <summary>
    /// The pieces for <paramref name="regions"/>, written in the given order. <paramref name="compress"/> turns an
    /// image into a zlib stream (callers pick the best one); a compressed piece that does not shrink is sent plain.
    /// </summary>
    public static IReadOnlyList<RegionWrite> Plan(
        IReadOnlyList<FlashRegion> regions, int spillWindow, Func<byte[], byte[]> compress)
    {
        var writes = new List<RegionWrite>(regions.Count);
        var erased = regions.Select(ErasedBy).ToList();
        for (var i = 0; i < regions.Count; i++)
        {
            var region = regions[i];
            var image = FlashRegion.PadTo4(region.Data);
            var erasedLater = erased.GetRange(i + 1, regions.Count - i - 1);
            writes.Add(new RegionWrite(
                region, image, PlanRegion(region.Offset, image, erasedLater, spillWindow, compress)));
        }
        return writes;
    }

    private static List<WritePiece> PlanRegion(
        uint offset, byte[] image, List<FlashRange> erasedLater, int window, Func<byte[], byte[]> compress)
    {
        // The region's last sector is erased whatever is sent, so a compressed stream may run to the sector's end
        // in 0xFF at no cost: its spill then starts on a sector boundary.
        var erased = Erased(offset, image.Length);
        var extended = ExtendWithErased(image, (int)(erased.End - offset));
        if (Covered(Spill(offset, extended.Length, window), erasedLater))
            return [Compressed(offset, extended, compress)];
        if (offset % SectorSize != 0)
            return [Plain(offset, image)]; // a tail piece's erase would reach back into the head's first sector

        // Otherwise a compressed head whose spill falls inside the region's own tail, and a tail written plain
        // (or compressed, when its own spill is covered by a later region). The largest such head leaves the
        // smallest plain tail: under 32 KiB + one sector on the ESP32.
        for (var head = (extended.Length - 1) / SectorSize * SectorSize; head > 0; head -= SectorSize)
        {
            var spill = Spill(offset, head, window);
            if (spill.End > offset + extended.Length
                && !Covered(new FlashRange(offset + extended.Length, spill.End), erasedLater))
                continue;
            var tailOffset = (uint)(offset + head);
            var tail = extended[head..];
            var tailPiece = Covered(Spill(tailOffset, tail.Length, window), erasedLater)
                ? Compressed(tailOffset, tail, compress)
                : Plain(tailOffset, tail);
            return [Compressed(offset, extended[..head], compress), tailPiece];
        }
        return [Plain(offset, image)];
    }

    private static WritePiece Compressed(uint offset, byte[] data, Func<byte[], byte[]> compress)
    {
        var stream = compress(data);
        // esptool v5 falls back to plain writes when compression does not shrink the data.
        return stream.Length < data.Length
            ? new WritePiece(offset, data, (uint)data.Length, stream, data.Length)
            : Plain(offset, data);
    }

    /// <summary>
    /// A plain piece: FLASH_BEGIN erases all of it, then only the blocks up to its last byte that is not 0xFF are
    /// sent (an NVS partition or partition table is mostly 0xFF, which the erase leaves).
    /// </summary>
    private static WritePiece Plain(uint offset, byte[] data)
    {
        var sent = data.AsSpan().LastIndexOfAnyExcept((byte)0xFF) + 1;
        return new WritePiece(offset, data, (uint)data.Length, null, sent);
    }

    private static byte[] ExtendWithErased(byte[] image, int length)
    {
        if (length <= image.Length)
            return image;
        var extended = new byte[length];
        image.CopyTo(extended, 0);
        extended.AsSpan(image.Length).Fill(0xFF);
        return extended;
    }

    /// <summary>Whether every byte of <paramref name="range"/> lies in one of <paramref name="ranges"/>.</summary>
    public static bool Covered(FlashRange range, IReadOnlyList<FlashRange> ranges)
    {
        var position = range.Start;
        while (position < range.End)
        {
            var next = ranges
                .Where(r => r.Start <= position && r.End > position)
                .Select(r => r.End)
                .DefaultIfEmpty(-1)
                .Max();
            if (next < 0)
                return false;
            position = next;
        }
        return true;
    }

    /// <summary>
    /// The flash a run must leave as it was: <paramref name="neighbourhood"/> bytes on each side of every written
    /// region's sectors, less the sectors the run erases, within the flash. Checked by MD5 before and after.
    /// </summary>
    public static IReadOnlyList<FlashRange> GuardRanges(
        IReadOnlyList<FlashRegion> written, long flashSize, int neighbourhood)
    {
        var erased = written.Select(ErasedBy).OrderBy(r => r.Start).ToList();
        var candidates = erased
            .SelectMany(e => new[] { new FlashRange(Math.Max(0, e.Start - neighbourhood), e.Start),
                new FlashRange(e.End, Math.Min(flashSize, e.End + neighbourhood)) })
            .Where(r => r.Length > 0)
            .OrderBy(r => r.Start);
        // Merge the candidates, then cut out every erased range.
        var merged = new List<FlashRange>();
        foreach (var c in candidates)
        {
            if (merged.Count > 0 && c.Start <= merged[^1].End)
                merged[^1] = merged[^1] with { End = Math.Max(merged[^1].End, c.End) };
            else
                merged.Add(c);
        }
        var guards = new List<FlashRange>();
        foreach (var m in merged)
        {
            var start = m.Start;
            foreach (var e in erased.Where(e => e.End > m.Start && e.Start < m.End))
            {
                if (e.Start > start)
                    guards.Add(new FlashRange(start, e.Start));
                start = Math.Max(start, e.End);
            }
            if (start < m.End)
                guards.Add(new FlashRange(start, m.End));
        }
        return guards;
    }
}
