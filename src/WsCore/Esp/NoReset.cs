namespace WsCore.Esp;

/// <summary>Leaves the lines alone: the chip is already in download mode (or the transport has no lines).</summary>
public sealed class NoReset : ResetStrategy
{
    public override string Name => "no-reset";

    public override void Reset(ISerialTransport transport) { }
}
