namespace WsCore.Improv;

/// <summary>One Improv serial packet: its type and its data (without header, length and checksum).</summary>
public readonly record struct ImprovPacket(ImprovPacketType Type, byte[] Data);
