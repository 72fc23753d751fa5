namespace WsCore.Esp;

/// <summary>A USB serial port as sysfs describes it.</summary>
/// <param name="DevicePath">The device node, e.g. /dev/ttyUSB0.</param>
/// <param name="VendorId">USB vendor id, lowercase hex.</param>
/// <param name="ProductId">USB product id, lowercase hex.</param>
/// <param name="Manufacturer">The USB device's manufacturer string, or null.</param>
/// <param name="Product">The USB device's product string, or null.</param>
/// <param name="SerialNumber">The USB device's serial number, or null.</param>
/// <param name="Kind">The ESP32 adapter its VID:PID is (e.g. "CP210x"), or null for any other device.</param>
public sealed record SerialPortInfo(
    string DevicePath,
    string VendorId,
    string ProductId,
    string? Manufacturer,
    string? Product,
    string? SerialNumber,
    string? Kind)
{
    /// <summary>Whether its VID:PID is one of the adapters ESP32 boards carry (what <c>auto</c> looks for).</summary>
    public bool IsEsp32Adapter => Kind is not null;
}
