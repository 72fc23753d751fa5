namespace WsCore.Esp;

/// <summary>
/// The classic auto-reset circuit: RTS asserted holds EN low, DTR asserted pulls IO0 low (<c>ClassicReset</c>).
/// </summary>
public sealed class ClassicReset(int resetDelayMs) : ResetStrategy
{
    public override string Name => $"classic ({resetDelayMs} ms)";

    public override void Reset(ISerialTransport transport)
    {
        transport.SetDtr(false); // IO0 high
        transport.SetRts(true);  // EN low: chip in reset
        Pause(transport, 100);
        transport.SetDtr(true);  // IO0 low
        transport.SetRts(false); // EN high: boots with IO0 low = download mode
        Pause(transport, resetDelayMs);
        transport.SetDtr(false); // release IO0
    }
}
