namespace WsCore.Esp;

/// <summary>Names for ROM error codes, with a fallback for unknown ones (docs/esp32-rom-protocol.md §3).</summary>
public static class RomErrors
{
    /// <summary>A human-readable name for <paramref name="code"/>, "other (0xNN)" when unknown.</summary>
    public static string Describe(byte code) => (RomErrorCode)code switch
    {
        RomErrorCode.None => "no error",
        RomErrorCode.InvalidMessage => "received message invalid",
        RomErrorCode.FailedToAct => "failed to act",
        RomErrorCode.BadChecksum => "bad checksum",
        RomErrorCode.FlashWriteError => "flash write error",
        RomErrorCode.FlashReadError => "flash read error",
        RomErrorCode.ReadLengthError => "read length error",
        RomErrorCode.DeflateError => "deflate error",
        RomErrorCode.NotImplemented => "not implemented",
        _ when code >= 0xC0 && code <= 0xCB => $"stub error (0x{code:X2})",
        _ => $"other (0x{code:X2})",
    };
}
