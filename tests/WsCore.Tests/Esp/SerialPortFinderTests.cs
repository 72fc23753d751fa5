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
            FakeSysfs.Adapter(root, "ttyUSB0", "10c4", "ea60", product: "CP2102N USB to UART Bridge Controller");
            FakeSysfs.Adapter(root, "ttyACM0", "303a", "1001", acm: true, manufacturer: "Espressif");
            FakeSysfs.Adapter(root, "ttyUSB1", "046d", "c52b"); // a mouse receiver: not an ESP32 adapter
            var found = new SerialPortFinder(root, "/dev").Find();
            Assert.Equal(["/dev/ttyACM0", "/dev/ttyUSB0"], found.Select(f => f.DevicePath));
            Assert.True(found[0].IsUsbJtagSerial);
            Assert.Equal("CP210x", found[1].Kind);
            Assert.Empty(new SerialPortFinder(Path.Combine(root, "nothing")).Find());
            // List has every USB serial port, with its strings; Find only the adapters.
            var all = new SerialPortFinder(root, "/dev").List();
            Assert.Equal(["/dev/ttyACM0", "/dev/ttyUSB0", "/dev/ttyUSB1"], all.Select(p => p.DevicePath));
            Assert.Equal("Espressif", all[0].Manufacturer);
            Assert.Equal("CP2102N USB to UART Bridge Controller", all[1].Product);
            Assert.False(all[2].IsEsp32Adapter);
            Assert.Null(all[2].Product);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}
