namespace WsCore.Tests.Esp;

/// <summary>
/// A fake /sys tree with USB serial ports, as <c>SerialPortFinder</c> reads the real one (WSCTL_SYSFS_ROOT points the
/// built wsctl at it): class/tty/X → devices/…/X/tty/X (relative links), X/device → the USB interface, whose USB
/// device holds idVendor, idProduct and the strings.
/// </summary>
public static class FakeSysfs
{
    /// <summary>Adds the port /dev/<paramref name="tty"/> of a USB device with these ids and strings.</summary>
    /// <param name="acm">A CDC-ACM port (ttyACM: the interface is the tty's parent), else a USB-serial one.</param>
    public static void Adapter(string root, string tty, string vid, string pid, bool acm = false,
        string? manufacturer = null, string? product = null)
    {
        var usb = Path.Combine(root, "devices", "pci0000:00", "usb1", $"1-{tty}");
        var iface = Path.Combine(usb, $"1-{tty}:1.0");
        var node = acm ? iface : Path.Combine(iface, tty);
        Directory.CreateDirectory(Path.Combine(node, "tty", tty));
        File.WriteAllText(Path.Combine(usb, "idVendor"), vid + "\n");
        File.WriteAllText(Path.Combine(usb, "idProduct"), pid + "\n");
        if (manufacturer is not null)
            File.WriteAllText(Path.Combine(usb, "manufacturer"), manufacturer + "\n");
        if (product is not null)
            File.WriteAllText(Path.Combine(usb, "product"), product + "\n");
        var classDir = Path.Combine(root, "class", "tty");
        Directory.CreateDirectory(classDir);
        var ttyDir = Path.Combine(node, "tty", tty);
        File.CreateSymbolicLink(Path.Combine(classDir, tty), Path.GetRelativePath(classDir, ttyDir));
        Directory.CreateSymbolicLink(Path.Combine(ttyDir, "device"), Path.GetRelativePath(ttyDir, node));
    }
}
