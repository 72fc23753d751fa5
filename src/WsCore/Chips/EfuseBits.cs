namespace WsCore.Chips;

/// <summary>A run of bits in one register: <paramref name="Width"/> bits from bit <paramref name="Shift"/>.</summary>
/// <param name="Address">The register (an eFuse read register, or another the ROM can read).</param>
/// <param name="Shift">The lowest bit of the run.</param>
/// <param name="Width">How many bits (1-31).</param>
public readonly record struct EfuseBits(uint Address, int Shift, int Width)
{
    /// <summary>The run's value in <paramref name="word"/>, the register's content.</summary>
    public uint From(uint word) => (word >> Shift) & ((1u << Width) - 1);
}
