namespace WsCore.Esp;

/// <summary>The USB-Serial/JTAG peripheral's sequence (VID 0x303A PID 0x1001; <c>USBJTAGSerialReset</c>).</summary>
public sealed class UsbJtagSerialReset : ResetStrategy
{
    public override string Name => "usb-jtag-serial";

    public override void Reset(ISerialTransport transport)
    {
        transport.SetRts(false);
        transport.SetDtr(false); // idle
        Pause(transport, 100);
        transport.SetDtr(true);  // set IO0
        transport.SetRts(false);
        Pause(transport, 100);
        transport.SetRts(true);  // reset; DTR is toggled in between so the driver passes RTS on
        transport.SetDtr(false);
        transport.SetRts(true);
        Pause(transport, 100);
        transport.SetDtr(false);
        transport.SetRts(false);
    }
}
