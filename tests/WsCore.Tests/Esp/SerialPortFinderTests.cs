using System.Security.Cryptography;
using WsCore.Chips;
using WsCore.Esp;
using WsCore.Flashing;
using WsCore.Nvs;

namespace WsCore.Tests.Esp;

public class SerialPortFinderTests
{
    [Fact]
    public void Find_FakeSysfs_PicksKnownAdaptersOnly()
    {
        var root = Directory.CreateTempSubdirectory("wsctl-sysfs-").FullName;
        try
        {
            // Real layout: class/tty/X -> devices/.../X/tty/X (relative links), X/device -> the USB interface.
            void Adapter(string tty, string vid, string pid, bool acm)
            {
                var usb = Path.Combine(root, "devices", "pci0000:00", "usb1", $"1-{tty}");
                var iface = Path.Combine(usb, $"1-{tty}:1.0");
                var node = acm ? iface : Path.Combine(iface, tty);
                Directory.CreateDirectory(Path.Combine(node, "tty", tty));
                File.WriteAllText(Path.Combine(usb, "idVendor"), vid + "\n");
                File.WriteAllText(Path.Combine(usb, "idProduct"), pid + "\n");
                var classDir = Path.Combine(root, "class", "tty");
                Directory.CreateDirectory(classDir);
                var ttyDir = Path.Combine(node, "tty", tty);
                File.CreateSymbolicLink(Path.Combine(classDir, tty), Path.GetRelativePath(classDir, ttyDir));
                Directory.CreateSymbolicLink(Path.Combine(ttyDir, "device"), Path.GetRelativePath(ttyDir, node));
            }
            Adapter("ttyUSB0", "10c4", "ea60", acm: false);
            Adapter("ttyACM0", "303a", "1001", acm: true);
            Adapter("ttyUSB1", "046d", "c52b", acm: false); // a mouse receiver: not an ESP32 adapter
            var found = new SerialPortFinder(root, "/dev").Find();
            Assert.Equal(["/dev/ttyACM0", "/dev/ttyUSB0"], found.Select(f => f.DevicePath));
            Assert.True(found[0].IsUsbJtagSerial);
            Assert.Equal("CP210x", found[1].Kind);
            Assert.Empty(new SerialPortFinder(Path.Combine(root, "nothing")).Find());
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}
