namespace WsCore.Chips;

/// <summary>Secure boot and flash encryption as a chip's eFuses say (the ESP32, whose ROM cannot tell).</summary>
/// <param name="SecureBoot">Secure boot v1 is on (ABS_DONE_0).</param>
/// <param name="FlashEncryption">An odd number of FLASH_CRYPT_CNT's bits is set.</param>
public sealed record EfuseSecurity(bool SecureBoot, bool FlashEncryption);
