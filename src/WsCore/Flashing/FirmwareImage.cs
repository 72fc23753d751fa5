using System.Buffers.Binary;
using System.Security.Cryptography;
using WsCore.Chips;

namespace WsCore.Flashing;

/// <summary>
/// The ESP32 application/bootloader image header, as far as a flasher touches it (esptool bin_image.py
/// <c>ESP32FirmwareImage</c>, firmware-image-format.rst; docs/esp32-rom-protocol.md §10).
/// </summary>
public static class FirmwareImage
{
    /// <summary>First byte of every image.</summary>
    public const byte Magic = 0xE9;
    private const int HeaderLength = 24; // 8-byte common header + 16-byte extended header
    // The XOR checksum over the segments' data starts from 0xEF, the seed of the ROM loader's data checksum too
    // (esptool ESP_CHECKSUM_MAGIC).
    private const byte ChecksumSeed = 0xEF;
    private const int HashAppendedOffset = 23;

    /// <summary>Flash mode codes in header byte 2 (esptool <c>FLASH_MODES</c>).</summary>
    public static readonly IReadOnlyDictionary<string, byte> FlashModes = new Dictionary<string, byte>
    {
        ["qio"] = 0,
        ["qout"] = 1,
        ["dio"] = 2,
        ["dout"] = 3,
    };

    /// <summary>Most segments an image may have (ESP-IDF <c>ESP_IMAGE_MAX_SEGMENTS</c>).</summary>
    public const int MaxSegments = 16;

    /// <summary>Offset of the extended header's chip id (u16), esp_image_header_t.chip_id.</summary>
    private const int ChipIdOffset = 12;

    /// <summary>
    /// What is wrong with <paramref name="image"/> as an ESP image, in words, or null when it is well formed:
    /// magic 0xE9, 1-16 segments inside the file, the XOR checksum and, when byte 23 says so, the appended SHA-256.
    /// </summary>
    public static string? Problem(ReadOnlySpan<byte> image)
    {
        if (image.Length < HeaderLength)
            return $"it is {image.Length} bytes, shorter than an image header ({HeaderLength})";
        if (image[0] != Magic)
            return $"its first byte is 0x{image[0]:X2}, not the image magic 0xE9";
        if (image[1] is 0 or > MaxSegments)
            return $"its header announces {image[1]} segments (an image has 1-{MaxSegments})";
        var position = HeaderLength;
        byte checksum = ChecksumSeed;
        for (var segment = 0; segment < image[1]; segment++)
        {
            if (position + 8 > image.Length)
                return $"segment {segment + 1} of {image[1]} starts past the end of the file";
            var length = BinaryPrimitives.ReadUInt32LittleEndian(image[(position + 4)..]);
            position += 8;
            if (length > (uint)(image.Length - position))
                return $"segment {segment + 1} ({length} bytes) runs past the end of the file";
            foreach (var b in image.Slice(position, (int)length))
                checksum ^= b;
            position += (int)length;
        }
        position += 15 - position % 16;
        if (position >= image.Length)
            return "the file ends before the checksum byte";
        if (image[position] != checksum)
            return $"its checksum byte is 0x{image[position]:X2}, but its segments give 0x{checksum:X2} (a damaged " +
                "or truncated file)";
        if (image[HashAppendedOffset] == 1)
        {
            var dataLength = position + 1;
            if (dataLength + 32 > image.Length)
                return "its header says a SHA-256 is appended, but the file ends first";
            if (!SHA256.HashData(image[..dataLength]).AsSpan().SequenceEqual(image.Slice(dataLength, 32)))
                return "its appended SHA-256 does not match its contents (a damaged file)";
        }
        return null;
    }

    /// <summary>
    /// The chip id of the extended header (0 ESP32, 2 S2, 5 C3, 9 S3), or null for a too-short image.
    /// </summary>
    public static ushort? ChipId(ReadOnlySpan<byte> image) =>
        image.Length >= HeaderLength && image[0] == Magic
            ? BinaryPrimitives.ReadUInt16LittleEndian(image[ChipIdOffset..])
            : null;

    /// <summary>
    /// Where the checksum byte ends and, when byte 23 is 1, where the appended SHA-256 starts; null when the
    /// data is not a well-formed image (bad magic, segments running past the end, wrong checksum or digest).
    /// </summary>
    public static int? ValidDataLength(ReadOnlySpan<byte> image)
    {
        if (image.Length < HeaderLength || image[0] != Magic)
            return null;
        var position = HeaderLength;
        byte checksum = ChecksumSeed;
        for (var segment = 0; segment < image[1]; segment++)
        {
            if (position + 8 > image.Length)
                return null;
            var length = BinaryPrimitives.ReadUInt32LittleEndian(image[(position + 4)..]);
            position += 8;
            if (length > (uint)(image.Length - position))
                return null;
            foreach (var b in image.Slice(position, (int)length))
                checksum ^= b;
            position += (int)length;
        }
        // Zero padding up to (position % 16) == 15, then the checksum byte (align_file_position in esptool).
        position += 15 - position % 16;
        if (position >= image.Length || image[position] != checksum)
            return null;
        var dataLength = position + 1;
        if (image[HashAppendedOffset] == 1)
        {
            if (dataLength + 32 > image.Length)
                return null;
            if (!SHA256.HashData(image[..dataLength]).AsSpan().SequenceEqual(image.Slice(dataLength, 32)))
                return null;
        }
        return dataLength;
    }

    /// <summary>
    /// Patches flash mode, size and frequency into a bootloader image exactly as esptool's
    /// <c>_update_image_flash_params</c> does: only a valid image, only the fields not "keep", and the appended
    /// SHA-256 recomputed when byte 23 is 1. The XOR checksum covers segment data only and is left alone.
    /// </summary>
    /// <returns>The patched copy, or the input itself when nothing applies.</returns>
    public static byte[] PatchFlashParams(byte[] image, ChipDescriptor chip, string mode, string size, string freq)
    {
        if (mode == "keep" && size == "keep" && freq == "keep")
            return image;
        if (ValidDataLength(image) is not { } dataLength)
            return image;
        var patched = (byte[])image.Clone();
        if (mode != "keep")
            patched[2] = FlashModes[mode];
        var sizeNibble = size == "keep" ? (byte)(image[3] & 0xF0) : chip.FlashSizes[size];
        var freqNibble = freq == "keep" ? (byte)(image[3] & 0x0F) : chip.FlashFrequencies[freq];
        patched[3] = (byte)(sizeNibble | freqNibble);
        if (patched[HashAppendedOffset] == 1)
            SHA256.HashData(patched.AsSpan(0, dataLength), patched.AsSpan(dataLength, 32));
        return patched;
    }

    /// <summary>Flash size in bytes from a name such as "4MB".</summary>
    public static uint? ParseFlashSize(string size) =>
        size.EndsWith("MB", StringComparison.OrdinalIgnoreCase) && uint.TryParse(size[..^2], out var mb)
            && mb is > 0 and <= 128 && (mb & (mb - 1)) == 0
            ? mb * 1024 * 1024
            : size.EndsWith("KB", StringComparison.OrdinalIgnoreCase) && uint.TryParse(size[..^2], out var kb)
                && kb is 256 or 512
                ? kb * 1024
                : null;
}
