namespace WsCore.Esp;

/// <summary>
/// The ROM loader's command ids (esptool <c>ESPLoader.ESP_CMDS</c>; docs/esp32-rom-protocol.md §4). The whole set the
/// ROM knows is listed, including those wsctl does not send (yet), so that a frame can always be named in a log.
/// </summary>
public enum RomCommand : byte
{
    FlashBegin = 0x02,
    FlashData = 0x03,
    FlashEnd = 0x04,
    MemBegin = 0x05,
    MemEnd = 0x06,
    MemData = 0x07,
    Sync = 0x08,
    WriteReg = 0x09,
    ReadReg = 0x0A,
    SpiSetParams = 0x0B,
    SpiAttach = 0x0D,
    ReadFlashSlow = 0x0E,
    ChangeBaudrate = 0x0F,
    FlashDeflBegin = 0x10,
    FlashDeflData = 0x11,
    FlashDeflEnd = 0x12,
    SpiFlashMd5 = 0x13,
    GetSecurityInfo = 0x14,
}
