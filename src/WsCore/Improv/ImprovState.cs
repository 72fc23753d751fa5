namespace WsCore.Improv;

/// <summary>An Improv device's provisioning state (improv-wifi.com/serial, "Packet: Current State").</summary>
public enum ImprovState : byte
{
    /// <summary>Ready to accept credentials.</summary>
    Authorized = 0x02,
    /// <summary>Credentials received; joining the network.</summary>
    Provisioning = 0x03,
    /// <summary>On the network.</summary>
    Provisioned = 0x04,
}
