namespace WsCore.Chips;

/// <summary>
/// The eFuse layout the ESP32-S2, S3 and C3 share (esptool <c>targets/esp32s2.py</c>, <c>esp32s3.py</c>,
/// <c>esp32c3.py</c>): the MAC at the start of block 1, the revision, package and embedded flash and PSRAM in block
/// 1's words 3-5, each family with its own bit positions and names. Their crystal is 40 MHz, fixed.
/// </summary>
public sealed class Block1Efuses : EfuseLayout
{
    /// <summary>The major revision.</summary>
    public required EfuseField Major { get; init; }

    /// <summary>The minor revision.</summary>
    public required EfuseField Minor { get; init; }

    /// <summary>The package (or, on the S2, the embedded flash and PSRAM that name it).</summary>
    public required EfuseField Package { get; init; }

    /// <summary>The package's name by <see cref="Package"/>'s value.</summary>
    public required IReadOnlyDictionary<uint, string> PackageNames { get; init; }

    /// <summary>The name when <see cref="Package"/> has a value not in <see cref="PackageNames"/>.</summary>
    public required string UnknownPackage { get; init; }

    /// <summary>What every chip of the family has (esptool's fixed list).</summary>
    public required IReadOnlyList<string> FixedFeatures { get; init; }

    /// <summary>Embedded flash or PSRAM: a field, and the feature each of its values names (none for absent).</summary>
    public IReadOnlyList<(EfuseField Field, IReadOnlyDictionary<uint, string> Names)> Embedded { get; init; } = [];

    protected override ChipFacts Decode(Func<uint, uint> register, int baudRate)
    {
        var features = FixedFeatures.ToList();
        foreach (var (field, names) in Embedded)
            if (names.TryGetValue(field.Read(register), out var name))
                features.Add(name);
        return new ChipFacts(
            PackageNames.GetValueOrDefault(Package.Read(register), UnknownPackage),
            Major.Read(register),
            Minor.Read(register),
            features,
            ReadMac(register),
            CrystalMhz: 40,
            EfuseSecurity: null);
    }
}
