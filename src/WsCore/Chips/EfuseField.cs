namespace WsCore.Chips;

/// <summary>
/// A value made of runs of bits, the first the most significant: how the chips' eFuses spread a field over words
/// (esptool <c>targets/*.py</c>, e.g. the C3's minor revision: one bit of word 5, then three of word 3).
/// </summary>
public sealed class EfuseField
{
    public EfuseField(params EfuseBits[] parts)
    {
        ArgumentOutOfRangeException.ThrowIfZero(parts.Length);
        Parts = parts;
    }

    /// <summary>The runs, most significant first.</summary>
    public IReadOnlyList<EfuseBits> Parts { get; }

    /// <summary>The registers the field is read from.</summary>
    public IEnumerable<uint> Addresses => Parts.Select(p => p.Address);

    /// <summary>The field's value, the registers read through <paramref name="register"/>.</summary>
    public uint Read(Func<uint, uint> register)
    {
        uint value = 0;
        foreach (var part in Parts)
            value = (value << part.Width) | part.From(register(part.Address));
        return value;
    }
}
