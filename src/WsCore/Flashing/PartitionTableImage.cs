namespace WsCore.Flashing;

/// <summary>A binary partition table as read: its partitions and what its MD5 entry says of them.</summary>
/// <param name="Partitions">The entries before the first that is not one.</param>
/// <param name="StoredMd5">The MD5 entry's digest (lowercase hex), or null when the table has no MD5 entry.</param>
/// <param name="ComputedMd5">The MD5 of the entries as read.</param>
/// <param name="Length">The bytes the table takes: its entries and its MD5 entry.</param>
public sealed record PartitionTableImage(
    IReadOnlyList<Partition> Partitions, string? StoredMd5, string ComputedMd5, int Length)
{
    /// <summary>Whether the table has an MD5 entry and it matches the entries (the bootloader's own check).</summary>
    public bool Md5Matches => StoredMd5 == ComputedMd5;

    /// <summary>The partition labelled <paramref name="label"/>, or null.</summary>
    public Partition? Find(string label) => Partitions.FirstOrDefault(p => p.Label == label);
}
