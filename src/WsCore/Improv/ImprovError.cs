namespace WsCore.Improv;

/// <summary>An Improv device's error state (improv-wifi.com/serial, "Packet: Error state").</summary>
public enum ImprovError : byte
{
    /// <summary>No error (sent first in answer to every RPC).</summary>
    None = 0x00,
    /// <summary>The RPC packet was malformed.</summary>
    InvalidRpcPacket = 0x01,
    /// <summary>The device does not know the command.</summary>
    UnknownRpcCommand = 0x02,
    /// <summary>The credentials arrived but the device could not join the network with them.</summary>
    UnableToConnect = 0x03,
    /// <summary>The host name was not acceptable (RPC 5, which wsctl does not send).</summary>
    BadHostname = 0x05,
    /// <summary>Any other error.</summary>
    Unknown = 0xFF,
}
