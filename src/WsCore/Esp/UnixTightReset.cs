namespace WsCore.Esp;

/// <summary>
/// esptool's <c>UnixTightReset</c>: the same sequence with both lines changed together. System.IO.Ports has no
/// single TIOCMSET call, so the lines are set back to back.
/// </summary>
public sealed class UnixTightReset(int resetDelayMs) : ResetStrategy
{
    public override string Name => $"tight ({resetDelayMs} ms)";

    public override void Reset(ISerialTransport transport)
    {
        SetBoth(transport, dtr: false, rts: false);
        SetBoth(transport, dtr: true, rts: true);
        SetBoth(transport, dtr: false, rts: true); // IO0 high, EN low: in reset
        Pause(transport, 100);
        SetBoth(transport, dtr: true, rts: false); // IO0 low, EN high: out of reset into download mode
        Pause(transport, resetDelayMs);
        SetBoth(transport, dtr: false, rts: false);
        transport.SetDtr(false);
    }

    private static void SetBoth(ISerialTransport transport, bool dtr, bool rts)
    {
        transport.SetDtr(dtr);
        transport.SetRts(rts);
    }
}
