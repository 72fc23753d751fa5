namespace WsCore.Improv;

/// <summary>The type byte of an Improv serial packet (improv-wifi.com/serial, "Packet format").</summary>
public enum ImprovPacketType : byte
{
    /// <summary>Device to client: the provisioning state (<see cref="ImprovState"/>).</summary>
    CurrentState = 0x01,
    /// <summary>Device to client: the error state (<see cref="ImprovError"/>).</summary>
    ErrorState = 0x02,
    /// <summary>Client to device: an RPC command (<see cref="ImprovCommand"/>).</summary>
    Rpc = 0x03,
    /// <summary>Device to client: an RPC's result, a list of strings.</summary>
    RpcResult = 0x04,
}
