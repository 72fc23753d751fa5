namespace Wsctl.Device;

/// <summary>
/// The part of the flash a subverb works on, as given: OFFSET and SIZE, a partition's label, or the whole flash;
/// exactly one of them.
/// </summary>
public sealed record FlashArea(string? Offset, string? Size, string? Partition, bool All);
