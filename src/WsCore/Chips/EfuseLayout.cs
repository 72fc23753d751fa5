namespace WsCore.Chips;

/// <summary>
/// Where a chip family keeps its factory facts (MAC, revision, package, features) and how they decode: esptool's
/// <c>targets/*.py</c> as data where the families agree (<see cref="Block1Efuses"/>: the S2, S3 and C3) and as code
/// where they do not (<see cref="Esp32Efuses"/>). No I/O: the registers come through a function the caller gives.
/// docs/esp32-rom-protocol.md §12.
/// </summary>
public abstract class EfuseLayout
{
    /// <summary>The word holding the MAC's last four bytes (the first byte in its top 8 bits).</summary>
    public required uint MacLow { get; init; }

    /// <summary>The word holding the MAC's first two bytes in its low 16 bits (above them a CRC or nothing).</summary>
    public uint MacHigh => MacLow + 4;

    /// <summary>
    /// The chip's facts, each register read once through <paramref name="register"/> (READ_REG on the device).
    /// </summary>
    /// <param name="register">Reads a register.</param>
    /// <param name="baudRate">The line's rate, from which the ESP32's crystal is estimated.</param>
    public ChipFacts Read(Func<uint, uint> register, int baudRate)
    {
        var cache = new Dictionary<uint, uint>();
        uint Cached(uint address)
        {
            if (!cache.TryGetValue(address, out var value))
                cache[address] = value = register(address);
            return value;
        }
        return Decode(Cached, baudRate);
    }

    /// <summary>The facts, decoded from the registers <paramref name="register"/> reads.</summary>
    protected abstract ChipFacts Decode(Func<uint, uint> register, int baudRate);

    /// <summary>
    /// The MAC as esptool's <c>read_mac</c> packs it: the high word's low 16 bits, then the low word, big-endian.
    /// </summary>
    protected byte[] ReadMac(Func<uint, uint> register)
    {
        var low = register(MacLow);
        var high = register(MacHigh);
        return [(byte)(high >> 8), (byte)high, (byte)(low >> 24), (byte)(low >> 16), (byte)(low >> 8), (byte)low];
    }
}
