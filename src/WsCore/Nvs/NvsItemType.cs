namespace WsCore.Nvs;

/// <summary>NVS item types (ESP-IDF nvs_types.hpp; docs/esp32-rom-protocol.md §11).</summary>
public enum NvsItemType : byte
{
    U8 = 0x01,
    I8 = 0x11,
    U16 = 0x02,
    I16 = 0x12,
    U32 = 0x04,
    I32 = 0x14,
    U64 = 0x08,
    I64 = 0x18,
    String = 0x21,
    BlobData = 0x42,
    BlobIndex = 0x48,
}
