namespace WsCore.WebSockets.Protocol;

/// <summary>Frame opcodes (RFC 6455 §5.2). Values 3-7 and 11-15 are reserved and refused with close 1002.</summary>
public enum Opcode : byte
{
    /// <summary>Continues a fragmented Text or Binary message (§5.4).</summary>
    Continuation = 0x0,
    /// <summary>A UTF-8 text message (or its first fragment).</summary>
    Text = 0x1,
    /// <summary>A binary message (or its first fragment).</summary>
    Binary = 0x2,
    /// <summary>Close (§5.5.1): optional 2-byte code plus UTF-8 reason.</summary>
    Close = 0x8,
    /// <summary>Ping (§5.5.2): the peer answers with a Pong carrying the same payload.</summary>
    Ping = 0x9,
    /// <summary>Pong (§5.5.3): an answer to a Ping, or an unsolicited heartbeat.</summary>
    Pong = 0xA,
}

/// <summary>Classification of opcodes.</summary>
public static class OpcodeExtensions
{
    /// <summary>Control frames have the high bit of the opcode set (§5.5).</summary>
    public static bool IsControl(this Opcode opcode) => ((byte)opcode & 0x8) != 0;

    /// <summary>True for the six opcodes RFC 6455 defines; every other value is reserved (§5.2).</summary>
    public static bool IsDefined(this Opcode opcode) => opcode is Opcode.Continuation or Opcode.Text or Opcode.Binary
        or Opcode.Close or Opcode.Ping or Opcode.Pong;
}

/// <summary>The two kinds of data message.</summary>
public enum MessageType : byte
{
    /// <summary>UTF-8 text (opcode 1).</summary>
    Text = 1,
    /// <summary>Binary data (opcode 2).</summary>
    Binary = 2,
}
