namespace WsCore.Esp;

/// <summary>A half-open flash address range [Start, End).</summary>
public readonly record struct FlashRange(long Start, long End)
{
    public long Length => End - Start;

    public override string ToString() => $"0x{Start:X}-0x{End - 1:X}";
}
