namespace WsCore.Esp;

/// <summary>
/// Error codes in a failing response's second status byte (esptool <c>FatalError.WithResult</c>, serial-protocol.rst
/// "ROM Loader Errors"; docs/esp32-rom-protocol.md §3). Values not listed are kept as they are;
/// <see cref="RomErrors.Describe"/> names them.
/// </summary>
public enum RomErrorCode : byte
{
    None = 0x00,
    InvalidMessage = 0x05,
    FailedToAct = 0x06,
    BadChecksum = 0x07,
    FlashWriteError = 0x08,
    FlashReadError = 0x09,
    ReadLengthError = 0x0A,
    DeflateError = 0x0B,
    NotImplemented = 0xFF,
}
