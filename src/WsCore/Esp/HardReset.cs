namespace WsCore.Esp;

/// <summary>
/// After flashing: pulse EN low via RTS with IO0 high, so the new firmware boots (esptool <c>HardReset</c>;
/// docs/esp32-rom-protocol.md §5).
/// </summary>
public sealed class HardReset : ResetStrategy
{
    public override string Name => "hard-reset";

    public override void Reset(ISerialTransport transport)
    {
        transport.SetRts(true);  // EN low: chip in reset
        Pause(transport, 100);
        transport.SetRts(false); // EN high: boots with IO0 high = the app in flash
    }
}
