namespace WsCore.Esp;

/// <summary>A USB serial adapter of a kind found on ESP32 boards.</summary>
/// <param name="DevicePath">The device node, e.g. /dev/ttyUSB0.</param>
/// <param name="VendorId">USB vendor id, lowercase hex.</param>
/// <param name="ProductId">USB product id, lowercase hex.</param>
/// <param name="Kind">The adapter's name, e.g. "CP210x".</param>
public sealed record SerialPortCandidate(string DevicePath, string VendorId, string ProductId, string Kind)
{
    /// <summary>Whether this is Espressif's USB-Serial/JTAG, which needs its own reset sequence.</summary>
    public bool IsUsbJtagSerial => VendorId == "303a" && ProductId == "1001";
}
