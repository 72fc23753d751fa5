namespace WsCore.Esp;

/// <summary>The reset sequences to try, per connect attempt.</summary>
public static class ResetSequences
{
    /// <summary>
    /// esptool's default: alternate tight/classic with 50 ms and 550 ms delays over the attempts; the USB-JTAG
    /// sequence for 303a:1001; nothing when the user says no-reset.
    /// </summary>
    public static IReadOnlyList<ResetStrategy> For(BeforeReset before, bool usbJtagSerial, int attempts)
    {
        var list = new List<ResetStrategy>(attempts);
        for (var i = 0; i < attempts; i++)
        {
            var delay = i % 2 == 0 ? 50 : 550;
            list.Add(before == BeforeReset.NoReset ? new NoReset()
                : usbJtagSerial ? new UsbJtagSerialReset()
                : (i / 2) % 2 == 0 ? new UnixTightReset(delay) : new ClassicReset(delay));
        }
        return list;
    }
}
