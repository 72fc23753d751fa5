using System.Buffers.Binary;
using System.Text;

namespace WsCore.Flashing;

/// <summary>
/// The app's own description, which ESP-IDF places at the start of its first segment (<c>esp_app_desc_t</c>, magic
/// 0xABCD5432): the version and project name the build was given.
/// </summary>
/// <param name="Version">The app's version (PROJECT_VER, else git describe).</param>
/// <param name="ProjectName">The project's name.</param>
public sealed record AppDescription(string Version, string ProjectName)
{
    /// <summary>esp_app_desc_t's first word.</summary>
    public const uint Magic = 0xABCD5432;

    // The image header (24 bytes) and the first segment's header (8) come before it; then magic, secure_version and
    // two reserved words, version[32], project_name[32].
    private const int At = 24 + 8;

    /// <summary>The description of an app image, or null when it has none.</summary>
    public static AppDescription? Read(ReadOnlySpan<byte> app)
    {
        if (app.Length < At + 80 || app[0] != FirmwareImage.Magic
            || BinaryPrimitives.ReadUInt32LittleEndian(app[At..]) != Magic)
            return null;
        return new AppDescription(Text(app.Slice(At + 16, 32)), Text(app.Slice(At + 48, 32)));
    }

    private static string Text(ReadOnlySpan<byte> field)
    {
        var end = field.IndexOf((byte)0);
        return Encoding.UTF8.GetString(end < 0 ? field : field[..end]);
    }
}
