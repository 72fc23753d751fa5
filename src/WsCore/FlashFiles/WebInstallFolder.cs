using WsCore.Chips;
using WsCore.Flashing;

namespace WsCore.FlashFiles;

/// <summary>
/// Writes an ESP Web Tools install folder (<see cref="WebInstall"/>): the images, manifest.json and index.html, for
/// a web server to serve as they are. The folder is created if needed; files already there with the same names are
/// replaced, others left alone.
/// </summary>
public static class WebInstallFolder
{
    /// <summary>Writes the folder; returns the names of the files written.</summary>
    /// <exception cref="WsCoreException">InvalidInput of <see cref="InputField.WebInstallDirectory"/>.</exception>
    public static IReadOnlyList<string> Write(
        string directory, IReadOnlyList<FlashRegion> regions, ChipDescriptor chip, string name, string version,
        string script)
    {
        var files = WebInstall.Files(regions, chip, name, version, script);
        try
        {
            if (File.Exists(directory))
                throw WsCoreException.Invalid(InputField.WebInstallDirectory, $"{directory} is a file, not a folder");
            Directory.CreateDirectory(directory);
            foreach (var (file, data) in files)
                File.WriteAllBytes(Path.Combine(directory, file), data);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw WsCoreException.Invalid(InputField.WebInstallDirectory, $"cannot write {directory} ({e.Message})");
        }
        return [.. files.Select(f => f.Name)];
    }

    /// <summary>
    /// The install's name and version: the app's own description (esp_app_desc_t), else the build folder's name and
    /// "unknown".
    /// </summary>
    public static (string Name, string Version) Describe(IReadOnlyList<FlashRegion> regions, string? firmware)
    {
        var app = regions.Where(r => r.IsImage).Select(r => AppDescription.Read(r.Data)).LastOrDefault(d => d != null);
        var folder = firmware is null ? null : new DirectoryInfo(Path.GetFullPath(firmware)).Name;
        var name = app?.ProjectName is { Length: > 0 } project ? project
            : folder is { Length: > 0 } ? folder : "firmware";
        return (name, app?.Version is { Length: > 0 } version ? version : "unknown");
    }
}
