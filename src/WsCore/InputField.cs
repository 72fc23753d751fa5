namespace WsCore;

/// <summary>
/// An input of a WsCore operation that a failure concerns: a property of its request or options. A failure names
/// the field, never a front end's spelling of it; the front end shows it its own way (the CLI as the option that
/// sets it, a form as the control that holds it).
/// </summary>
public enum InputField
{
    /// <summary>The serial port: a device path, socket://HOST:PORT, or auto (<c>SerialTransports.Open</c>).</summary>
    SerialPort,
    /// <summary>The serial line's baud rate (<c>FlashSessionOptions.Baud</c>, the monitor's console rate).</summary>
    Baud,
    /// <summary>The chip expected on the line (<c>FlashSessionOptions.ExpectedChip</c>).</summary>
    Chip,
    /// <summary>The flash size, patched into the bootloader (<c>FlashRequest.FlashSize</c>).</summary>
    FlashSize,
    /// <summary>The flash mode patched into the bootloader (<c>FlashRequest.FlashMode</c>).</summary>
    FlashMode,
    /// <summary>The flash frequency patched into the bootloader (<c>FlashRequest.FlashFreq</c>).</summary>
    FlashFreq,
    /// <summary>An ESP-IDF build directory or an app image (<c>FlashRequest.Firmware</c>).</summary>
    Firmware,
    /// <summary>Explicit (offset, file) images (<c>FlashRequest.Images</c>).</summary>
    Images,
    /// <summary>Writing images whose header is damaged or names another chip (<c>FlashRequest.Force</c>).</summary>
    Force,
    /// <summary>The Wi-Fi network name (<c>DeviceSettings.Ssid</c>).</summary>
    Ssid,
    /// <summary>The Wi-Fi password (<c>DeviceSettings.Password</c>).</summary>
    Password,
    /// <summary>The device's host name (<c>DeviceSettings.Hostname</c>).</summary>
    Hostname,
    /// <summary>The device's WebSocket port (<c>DeviceSettings.WebSocketPort</c>).</summary>
    WebSocketPort,
    /// <summary>The device's client limit (<c>DeviceSettings.MaxClients</c>).</summary>
    MaxClients,
    /// <summary>The device's counter interval (<c>DeviceSettings.CounterInterval</c>).</summary>
    CounterInterval,
    /// <summary>The key that authenticates updates over the air (<c>DeviceSettings.OtaKey</c>, its file).</summary>
    OtaKey,
    /// <summary>
    /// How long a newly updated app waits for its confirmation before it rolls back
    /// (<c>DeviceSettings.OtaConfirmTimeout</c>).
    /// </summary>
    OtaConfirmTimeout,
    /// <summary>
    /// How long an update waits for the device to come back and confirm (<c>OtaOptions.ConfirmTimeout</c>).
    /// </summary>
    OtaConfirmWait,
    /// <summary>Where the NVS partition image is written instead of flashing it.</summary>
    NvsImageFile,
    /// <summary>Where the merged image of every region is written instead of flashing it.</summary>
    MergedImageFile,
    /// <summary>A range of flash, as an offset and a size (<c>EspDevice.Read</c>, <c>EspDevice.Erase</c>).</summary>
    FlashRange,
    /// <summary>A partition of the device's table, by its label (<c>EspDevice.FindPartition</c>).</summary>
    Partition,
    /// <summary>Where flash read from the device is written (mode 0600: it may hold the Wi-Fi password).</summary>
    ReadOutputFile,
    /// <summary>The folder an ESP Web Tools install is written to (<c>WebInstallFolder.Write</c>).</summary>
    WebInstallDirectory,
    /// <summary>Erasing the whole flash before writing (<c>FlashSessionOptions.EraseAll</c>).</summary>
    EraseAll,
    /// <summary>The app's ELF file, which decodes panic backtraces.</summary>
    Elf,
    /// <summary>The server or device to reach: a URL or a host name (<c>WebSocketClient.ConnectAsync</c>).</summary>
    Target,
    /// <summary>The network interface mDNS uses (<c>MdnsOptions.InterfaceName</c>).</summary>
    Interface,
    /// <summary>
    /// The TCP port a server listens on, which also names its control socket (<c>WebSocketServerOptions.Port</c>).
    /// </summary>
    ListenPort,
    /// <summary>
    /// The port of the running server whose control socket a client connects to (<c>ControlClient.ConnectAsync</c>).
    /// </summary>
    ServePort,
    /// <summary>The load generator's message size (<c>BenchOptions.MessageBytes</c>).</summary>
    MessageSize,
    /// <summary>Accepting a certificate that does not validate (<c>AllowUntrustedCertificate</c>).</summary>
    AllowUntrustedCertificate,
    /// <summary>
    /// The one server certificate a client trusts, by its SHA-256 fingerprint (<c>CertificatePin</c> of
    /// <c>WebSocketClientOptions</c> and <c>ProbeOptions</c>).
    /// </summary>
    CertificatePin,
    /// <summary>A server's PEM certificate (chain) file (<c>ServerCertificate.LoadPem</c>).</summary>
    TlsCertificate,
    /// <summary>A server's PEM private key file (<c>ServerCertificate.LoadPem</c>).</summary>
    TlsKey,
    /// <summary>How long the prober waits for the first pushed message (<c>ProbeOptions.WaitMessage</c>).</summary>
    WaitMessage,
    /// <summary>The cluster's Redis, <c>redis://HOST[:PORT][/DB]</c> (<c>ClusterOptions.Address</c>).</summary>
    ClusterAddress,
    /// <summary>The name that joins instances into one cluster (<c>ClusterOptions.Name</c>).</summary>
    ClusterName,
    /// <summary>The client limit of the whole cluster (<c>ClusterOptions.MaxClients</c>).</summary>
    ClusterMaxClients,
    /// <summary>Serving alone while the cluster's Redis cannot be reached (<c>ClusterOptions.Optional</c>).</summary>
    ClusterOptional,
    /// <summary>How long the counter's lease lasts (<c>ClusterOptions.Lease</c>).</summary>
    ClusterLease,
    /// <summary>This instance's name in the cluster (<c>ClusterNode.StartAsync</c>).</summary>
    ClusterInstance,
}
