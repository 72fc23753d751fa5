namespace WsCore.Esp;

/// <summary>No matching response arrived in time.</summary>
public sealed class RomTimeoutException(RomCommand command, TimeSpan timeout)
    : Exception($"no answer to {command} within {timeout.TotalSeconds:0.###} s")
{
    public RomCommand Command { get; } = command;
}
