using System.Buffers.Binary;
using System.Security.Cryptography;
using WsCore.Esp;

namespace WsCore.Flashing;

/// <summary>
/// The ESP32 application/bootloader image header, as far as a flasher touches it (esptool bin_image.py
/// <c>ESP32FirmwareImage</c>, firmware-image-format.rst; esp32-rom-protocol.md §8).
/// </summary>
public static class FirmwareImage
{
    /// <summary>First byte of every image.</summary>
    public const byte Magic = 0xE9;
    private const int HeaderLength = 24; // 8-byte common header + 16-byte extended header
    private const int HashAppendedOffset = 23;

    /// <summary>Flash mode codes in header byte 2 (esptool <c>FLASH_MODES</c>).</summary>
    public static readonly IReadOnlyDictionary<string, byte> FlashModes = new Dictionary<string, byte>
    {
        ["qio"] = 0,
        ["qout"] = 1,
        ["dio"] = 2,
        ["dout"] = 3,
    };

    /// <summary>
    /// Where the checksum byte ends and, when byte 23 is 1, where the appended SHA-256 starts; null when the
    /// data is not a well-formed image (bad magic, segments running past the end, wrong checksum or digest).
    /// </summary>
    public static int? ValidDataLength(ReadOnlySpan<byte> image)
    {
        if (image.Length < HeaderLength || image[0] != Magic)
            return null;
        var position = HeaderLength;
        byte checksum = RomPackets.ChecksumSeed;
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
        size.EndsWith("MB", StringComparison.OrdinalIgnoreCase) && uint.TryParse(size[..^2], out var mb) && mb is > 0 and <= 128 && (mb & (mb - 1)) == 0
            ? mb * 1024 * 1024
            : size.EndsWith("KB", StringComparison.OrdinalIgnoreCase) && uint.TryParse(size[..^2], out var kb) && kb is 256 or 512
                ? kb * 1024
                : null;
}
