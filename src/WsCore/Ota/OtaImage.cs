using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using WsCore.Chips;
using WsCore.Flashing;

namespace WsCore.Ota;

/// <summary>
/// An ESP-IDF app image as an update sends it: its bytes, their SHA-256 (what <c>begin</c> announces and the device
/// checks after reading back), the chip its header names, and its <c>esp_app_desc_t</c> (project, version, ELF
/// SHA-256), which the device reports in <c>hello</c> once it runs the image. Pure: parses bytes the caller read.
/// </summary>
/// <remarks>
/// Layout (ESP-IDF esp_app_format.h, docs/ota-protocol.md §3): the 24-byte image header (magic 0xE9, chip id at 12),
/// the first segment's 8-byte header, then <c>esp_app_desc_t</c> at 32: magic 0xABCD5432, version[32] at +16,
/// project_name[32] at +48, app_elf_sha256[32] at +144; 288 bytes in all, what the device reads before it erases.
/// </remarks>
public sealed class OtaImage
{
    /// <summary>The bytes the device reads before it erases anything: the headers and the app description.</summary>
    public const int HeadBytes = 288;
    /// <summary>The magic word of <c>esp_app_desc_t</c> (<c>ESP_APP_DESC_MAGIC_WORD</c>).</summary>
    public const uint AppDescMagic = 0xABCD5432;
    private const int AppDescOffset = 32;
    private const int VersionOffset = AppDescOffset + 16;
    private const int ProjectOffset = AppDescOffset + 48;
    private const int ElfSha256Offset = AppDescOffset + 144;
    private const int ChipIdOffset = 12;

    private OtaImage(byte[] data, ushort chipId, string project, string version, byte[] elfSha256)
    {
        Data = data;
        ChipId = chipId;
        Project = project;
        Version = version;
        ElfSha256 = elfSha256;
        Sha256 = SHA256.HashData(data);
    }

    /// <summary>The image's bytes, as sent.</summary>
    public byte[] Data { get; }

    /// <summary>The SHA-256 of <see cref="Data"/>.</summary>
    public byte[] Sha256 { get; }

    /// <summary>The image header's chip id (0 ESP32, 2 S2, 5 C3, 9 S3…).</summary>
    public ushort ChipId { get; }

    /// <summary>
    /// The chip's name as ESP-IDF spells a target (<c>esp32c3</c>), or "chip id N" for one wsctl lacks.
    /// </summary>
    public string ChipName => KnownChips.ByImageChipId(ChipId)?.Id ?? $"chip id {ChipId}";

    /// <summary>The app's project name (<c>esp_app_desc_t.project_name</c>).</summary>
    public string Project { get; }

    /// <summary>The app's version (<c>esp_app_desc_t.version</c>).</summary>
    public string Version { get; }

    /// <summary>The SHA-256 of the app's ELF file (<c>esp_app_desc_t.app_elf_sha256</c>).</summary>
    public byte[] ElfSha256 { get; }

    /// <summary>The ELF SHA-256 as <c>hello</c> writes it: lowercase hex.</summary>
    public string ElfSha256Hex => Convert.ToHexStringLower(ElfSha256);

    /// <summary>
    /// Parses an app image; throws InvalidInput of <paramref name="field"/> saying what is wrong, in the terms of
    /// the device's own refusals (<c>not_an_image</c>): no 0xE9 magic, a damaged image (segments, checksum, appended
    /// SHA-256: <see cref="FirmwareImage.Problem"/>), or no app description where an app has one (a bootloader or a
    /// partition table given by mistake).
    /// </summary>
    public static OtaImage Parse(byte[] data, string source, InputField field = InputField.Firmware)
    {
        if (FirmwareImage.Problem(data) is { } problem)
            throw WsCoreException.Invalid(field, $"{source} is not an ESP app image: {problem}");
        if (data.Length < HeadBytes
            || BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(AppDescOffset)) != AppDescMagic)
            throw WsCoreException.Invalid(field, $"{source} is an ESP image but not an app: it has no app " +
                "description (esp_app_desc_t, magic 0xABCD5432) after its first segment header; a bootloader?");
        return new OtaImage(data, BinaryPrimitives.ReadUInt16LittleEndian(data.AsSpan(ChipIdOffset)),
            CString(data.AsSpan(ProjectOffset, 32)), CString(data.AsSpan(VersionOffset, 32)),
            data.AsSpan(ElfSha256Offset, 32).ToArray());
    }

    // A char[N] field: the bytes up to the first NUL (all N when there is none), as UTF-8.
    private static string CString(ReadOnlySpan<byte> field)
    {
        var end = field.IndexOf((byte)0);
        return Encoding.UTF8.GetString(end < 0 ? field : field[..end]);
    }
}
