namespace WsCore.Improv;

/// <summary>The Improv serial RPC commands wsctl sends (improv-wifi.com/serial, "Packet: RPC Command").</summary>
public enum ImprovCommand : byte
{
    /// <summary>Join a network: SSID and password.</summary>
    SendWifiSettings = 0x01,
    /// <summary>The current state, and when provisioned the device's URL.</summary>
    RequestCurrentState = 0x02,
    /// <summary>Firmware name, version, chip, device name.</summary>
    RequestDeviceInformation = 0x03,
    /// <summary>The networks the device sees, one result each, then an empty result.</summary>
    RequestScannedNetworks = 0x04,
}
