namespace WsCore.Esp;

/// <summary>A failing status in a ROM response (docs/esp32-rom-protocol.md §3).</summary>
public sealed class RomCommandException(RomCommand command, byte error)
    : Exception($"{command} failed: {RomErrors.Describe(error)}")
{
    public RomCommand Command { get; } = command;
    public byte Error { get; } = error;
}
