namespace WsCore.Esp;

/// <summary>One way of driving DTR/RTS to reset the chip (esptool <c>reset.py</c>; esp32-rom-protocol.md §5).</summary>
public abstract class ResetStrategy
{
    /// <summary>A short name for logs.</summary>
    public abstract string Name { get; }

    /// <summary>Runs the sequence on <paramref name="transport"/>.</summary>
    public abstract void Reset(ISerialTransport transport);

    /// <summary>Waits, unless the transport has no lines to wait for.</summary>
    protected static void Pause(ISerialTransport transport, int milliseconds)
    {
        if (transport.CanControlLines)
            Thread.Sleep(milliseconds);
    }
}

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

/// <summary>Leaves the lines alone: the chip is already in download mode (or the transport has no lines).</summary>
public sealed class NoReset : ResetStrategy
{
    public override string Name => "no-reset";

    public override void Reset(ISerialTransport transport) { }
}

/// <summary>After flashing: pulse EN low via RTS with IO0 high, so the new firmware boots (<c>HardReset</c>).</summary>
public sealed class HardReset(bool usbOtg = false) : ResetStrategy
{
    public override string Name => "hard-reset";

    public override void Reset(ISerialTransport transport)
    {
        var delay = usbOtg ? 200 : 100;
        transport.SetRts(true);
        Pause(transport, delay);
        transport.SetRts(false);
        Pause(transport, usbOtg ? 200 : 0);
    }
}

/// <summary>Which reset to use before connecting (esptool's <c>before</c>).</summary>
public enum BeforeReset
{
    DefaultReset,
    NoReset,
}

/// <summary>What to do after flashing (esptool's <c>after</c>).</summary>
public enum AfterReset
{
    HardReset,
    NoReset,
}

/// <summary>esptool's names of the resets, in either spelling (no_reset, no-reset).</summary>
public static class ResetNames
{
    /// <summary>default-reset or no-reset; null for anything else.</summary>
    public static BeforeReset? ParseBefore(string? name) => Normalise(name) switch
    {
        "default-reset" => BeforeReset.DefaultReset,
        "no-reset" => BeforeReset.NoReset,
        _ => null,
    };

    /// <summary>hard-reset or no-reset; null for anything else (a build may name resets the flasher has not).</summary>
    public static AfterReset? ParseAfter(string? name) => Normalise(name) switch
    {
        "hard-reset" => AfterReset.HardReset,
        "no-reset" => AfterReset.NoReset,
        _ => null,
    };

    private static string Normalise(string? name) => (name ?? "").Replace('_', '-');
}

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
