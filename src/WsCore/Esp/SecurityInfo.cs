using System.Buffers.Binary;

namespace WsCore.Esp;

/// <summary>
/// GET_SECURITY_INFO's answer (docs/esp32-rom-protocol.md §6): the security flags, the flash-encryption counter and
/// the 7 key purposes (12 bytes, the S2), then on the S3, C3 and later the chip id and the ROM's API version
/// (20 bytes). The flag bits are the ROM's, the same on every chip (esptool <c>get_security_info</c>).
/// </summary>
/// <param name="Flags">The security flags word.</param>
/// <param name="FlashCryptCount">SPI_BOOT_CRYPT_CNT: flash encryption is on when an odd number of its bits are set.
/// </param>
/// <param name="KeyPurposes">The purpose of each key block, as the eFuses say.</param>
/// <param name="ChipId">The chip id (20-byte form), or null.</param>
/// <param name="ApiVersion">The ROM's API version (20-byte form), or null.</param>
public sealed record SecurityInfo(
    uint Flags, byte FlashCryptCount, IReadOnlyList<byte> KeyPurposes, uint? ChipId, uint? ApiVersion)
{
    /// <summary>The S2's form: flags, counter, 7 key purposes.</summary>
    public const int ShortLength = 12;

    /// <summary>The S3's, C3's and later chips' form: the short one, then the chip id and API version.</summary>
    public const int LongLength = 20;

    /// <summary>The flag names by bit, in the ROM's order (esptool's SECURITY_INFO_FLAG_MAP).</summary>
    public static readonly IReadOnlyList<string> FlagNames =
    [
        "SECURE_BOOT_EN", "SECURE_BOOT_AGGRESSIVE_REVOKE", "SECURE_DOWNLOAD_ENABLE", "SECURE_BOOT_KEY_REVOKE0",
        "SECURE_BOOT_KEY_REVOKE1", "SECURE_BOOT_KEY_REVOKE2", "SOFT_DIS_JTAG", "HARD_DIS_JTAG", "DIS_USB",
        "DIS_DOWNLOAD_DCACHE", "DIS_DOWNLOAD_ICACHE",
    ];

    /// <summary>Whether secure boot is on (flag bit 0).</summary>
    public bool SecureBoot => (Flags & 1) != 0;

    /// <summary>Whether the ROM is in secure download mode (flag bit 2): it then refuses reads and MD5s.</summary>
    public bool SecureDownload => (Flags & 4) != 0;

    /// <summary>Whether flash encryption is on: an odd number of the counter's bits set.</summary>
    public bool FlashEncryption => (System.Numerics.BitOperations.PopCount(FlashCryptCount) & 1) != 0;

    /// <summary>The names of the flags that are set.</summary>
    public IReadOnlyList<string> SetFlags =>
        [.. FlagNames.Where((_, bit) => (Flags & (1u << bit)) != 0)];

    /// <summary>Parses the payload (the answer's data without its status); null when it is neither form.</summary>
    public static SecurityInfo? Parse(ReadOnlySpan<byte> payload)
    {
        if (payload.Length != ShortLength && payload.Length != LongLength)
            return null;
        var isLong = payload.Length == LongLength;
        return new SecurityInfo(
            BinaryPrimitives.ReadUInt32LittleEndian(payload),
            payload[4],
            payload.Slice(5, 7).ToArray(),
            isLong ? BinaryPrimitives.ReadUInt32LittleEndian(payload[12..]) : null,
            isLong ? BinaryPrimitives.ReadUInt32LittleEndian(payload[16..]) : null);
    }
}
