namespace WsCore.Flashing;

/// <summary>
/// Where regions may go: each inside the flash, none overlapping another. Pure: no I/O; a file's size is checked
/// against the flash (<see cref="CheckFits"/>) before it is read, the regions once they are all known
/// (<see cref="Arrange"/>).
/// </summary>
public static class FlashLayout
{
    /// <summary>
    /// Refuses a file of <paramref name="length"/> bytes that would not fit at <paramref name="offset"/>.
    /// </summary>
    /// <exception cref="WsCoreException">
    /// InvalidInput of <paramref name="field"/>, the hint pointing at the flash size.
    /// </exception>
    public static void CheckFits(string origin, long length, uint offset, uint flashBytes, InputField field)
    {
        if (offset + length > flashBytes)
            throw new WsCoreException(FailureKind.InvalidInput,
                $"{origin} ({length} bytes at 0x{offset:X}) does not fit in a {flashBytes / (1024 * 1024)} MB flash",
                "set the flash size if the board has more")
            { Field = field, HintField = InputField.FlashSize };
    }

    /// <summary>
    /// The regions sorted by offset, once checked: an overlap is the fault of an explicit image when one is involved
    /// (the likelier mistake than the build's own layout), else of the build; a region past the end, of the flash size.
    /// </summary>
    /// <param name="regions">The regions, in any order.</param>
    /// <param name="fields">Which request field each region came from (the NVS region: none).</param>
    /// <param name="flashBytes">The flash size.</param>
    public static IReadOnlyList<FlashRegion> Arrange(
        IEnumerable<FlashRegion> regions, IReadOnlyDictionary<FlashRegion, InputField> fields, uint flashBytes)
    {
        var sorted = regions.OrderBy(r => r.Offset).ToList();
        for (var i = 1; i < sorted.Count; i++)
            if (sorted[i].Offset < sorted[i - 1].End)
            {
                var (before, after) = (sorted[i - 1], sorted[i]);
                var field = FieldOf(before) == InputField.Images || FieldOf(after) == InputField.Images
                    ? InputField.Images
                    : InputField.Firmware;
                throw WsCoreException.Invalid(field, $"{before.Name} (0x{before.Offset:X}-0x{before.End:X}) " +
                    $"overlaps {after.Name} at 0x{after.Offset:X}");
            }
        foreach (var region in sorted)
            if (region.End > flashBytes)
                throw WsCoreException.Invalid(InputField.FlashSize,
                    $"{region.Name} ends at 0x{region.End:X}, past the end of a 0x{flashBytes:X}-byte flash");
        return sorted;

        InputField? FieldOf(FlashRegion region) => fields.TryGetValue(region, out var f) ? f : null;
    }
}
