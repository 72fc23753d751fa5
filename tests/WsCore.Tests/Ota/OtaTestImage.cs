using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace WsCore.Tests.Ota;

/// <summary>
/// Well-formed ESP-IDF app images for the OTA tests, laid out from ESP-IDF's esp_app_format.h by hand (not with
/// WsCore's parser): the 24-byte image header, one segment whose data starts with an <c>esp_app_desc_t</c> (magic
/// 0xABCD5432, version at +16, project_name at +48, app_elf_sha256 at +144), filler, padding to the checksum byte,
/// the checksum, and the appended SHA-256.
/// </summary>
public static class OtaTestImage
{
    /// <summary>
    /// An app of about <paramref name="size"/> bytes (a multiple of 16, at least 320) for the chip with image id
    /// <paramref name="chipId"/> (5: ESP32-C3), whose ELF SHA-256 is that of <paramref name="project"/> and
    /// <paramref name="version"/> unless given.
    /// </summary>
    public static byte[] Build(string project, string version, int size = 64 * 1024, ushort chipId = 5,
        byte[]? elfSha256 = null)
    {
        const int overhead = 24 + 8 + 1 + 32; // headers, segment header, checksum, SHA-256
        if (size % 16 != 0 || size < 320)
            throw new ArgumentException("the size must be a multiple of 16 and at least 320", nameof(size));
        var segment = size - overhead; // puts the checksum at an offset ≡ 15 (mod 16): no padding
        var app = new byte[size];
        app[0] = 0xE9;
        app[1] = 1;
        app[2] = 2;
        BinaryPrimitives.WriteUInt32LittleEndian(app.AsSpan(4), 0x42000020);
        app[8] = 0xEE;
        BinaryPrimitives.WriteUInt16LittleEndian(app.AsSpan(12), chipId);
        BinaryPrimitives.WriteUInt16LittleEndian(app.AsSpan(17), 0xFFFF);
        app[23] = 1;
        BinaryPrimitives.WriteUInt32LittleEndian(app.AsSpan(24), 0x3C000020);
        BinaryPrimitives.WriteUInt32LittleEndian(app.AsSpan(28), (uint)segment);
        var random = new Random(HashCode.Combine(project, version, size));
        random.NextBytes(app.AsSpan(32, segment));
        var desc = app.AsSpan(32, 256);
        desc.Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(desc, 0xABCD5432);
        Encoding.ASCII.GetBytes(version, desc[16..48]);
        Encoding.ASCII.GetBytes(project, desc[48..80]);
        Encoding.ASCII.GetBytes("12:00:00", desc[80..96]);
        Encoding.ASCII.GetBytes("Jan  1 2026", desc[96..112]);
        Encoding.ASCII.GetBytes("v5.3", desc[112..144]);
        (elfSha256 ?? ElfSha256Of(project, version)).CopyTo(desc[144..176]);
        byte checksum = 0xEF;
        foreach (var b in app.AsSpan(32, segment))
            checksum ^= b;
        app[32 + segment] = checksum;
        SHA256.HashData(app.AsSpan(0, size - 32)).CopyTo(app.AsSpan(size - 32));
        return app;
    }

    /// <summary>The ELF SHA-256 the images of <see cref="Build"/> carry by default.</summary>
    public static byte[] ElfSha256Of(string project, string version) =>
        SHA256.HashData(Encoding.UTF8.GetBytes($"{project} {version} ELF"));
}
