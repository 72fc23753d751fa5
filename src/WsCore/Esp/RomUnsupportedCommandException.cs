namespace WsCore.Esp;

/// <summary>
/// The loader answered "invalid message" with another op: it does not know this command
/// (docs/esp32-rom-protocol.md §2).
/// </summary>
public sealed class RomUnsupportedCommandException(RomCommand command)
    : Exception($"{command} is not supported by this loader")
{
    public RomCommand Command { get; } = command;
}
