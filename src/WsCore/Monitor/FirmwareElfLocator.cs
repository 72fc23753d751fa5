using System.Text.Json;

namespace WsCore.Monitor;

/// <summary>
/// Finds the application's ELF file in an ESP-IDF build directory: <c>project_description.json</c>'s
/// <c>app_elf</c>, else the ELF beside the <c>app</c> binary named in <c>flasher_args.json</c> (same name, .elf), else
/// the only <c>*.elf</c> at the top of the directory (the bootloader's lives in <c>bootloader/</c>).
/// </summary>
public static class FirmwareElfLocator
{
    /// <summary>The app ELF of the build directory <paramref name="buildDir"/>.</summary>
    /// <exception cref="WsCoreException">InvalidInput when the directory is missing or holds no single app
    /// ELF.</exception>
    public static string Find(string buildDir)
    {
        if (File.Exists(buildDir) && buildDir.EndsWith(".elf", StringComparison.OrdinalIgnoreCase))
            return buildDir;
        if (!Directory.Exists(buildDir))
            throw new WsCoreException(FailureKind.InvalidInput, $"{buildDir}: no such build directory",
                "give the ESP-IDF build directory (the one with flasher_args.json), or the ELF itself")
            { Field = InputField.Firmware, HintField = InputField.Elf };
        if (FromJson(Path.Combine(buildDir, "project_description.json"), "app_elf", null) is { } described
            && File.Exists(Path.Combine(buildDir, described)))
            return Path.Combine(buildDir, described);
        if (FromJson(Path.Combine(buildDir, "flasher_args.json"), "app", "file") is { } appBin)
        {
            var elf = Path.Combine(buildDir, Path.ChangeExtension(appBin, ".elf"));
            if (File.Exists(elf))
                return elf;
        }
        var candidates = Directory.EnumerateFiles(buildDir, "*.elf").Order(StringComparer.Ordinal).ToList();
        return candidates.Count switch
        {
            1 => candidates[0],
            0 => throw new WsCoreException(
                FailureKind.InvalidInput,
                $"{buildDir}: no app ELF found (no project_description.json or flasher_args.json naming one, no *.elf)",
                "build the project first (idf.py build), or give the ELF itself")
            { Field = InputField.Firmware, HintField = InputField.Elf },
            _ => throw new WsCoreException(FailureKind.InvalidInput,
                $"{buildDir}: several ELF files and no project_description.json to choose: " +
                    $"{string.Join(", ", candidates.Select(Path.GetFileName))}",
                "give the one to use")
            { Field = InputField.Firmware, HintField = InputField.Elf },
        };
    }

    /// <summary>
    /// The string at <c>root[property]</c> (or <c>root[property][inner]</c>), or null when absent or unreadable.
    /// </summary>
    private static string? FromJson(string path, string property, string? inner)
    {
        if (!File.Exists(path))
            return null;
        try
        {
            using var doc = JsonDocument.Parse(
                File.ReadAllText(path), new JsonDocumentOptions { AllowTrailingCommas = true });
            if (!doc.RootElement.TryGetProperty(property, out var value))
                return null;
            if (inner is not null
                && (value.ValueKind != JsonValueKind.Object || !value.TryGetProperty(inner, out value)))
                return null;
            return value.ValueKind == JsonValueKind.String && value.GetString() is { Length: > 0 } text ? text : null;
        }
        catch (Exception e) when (e is JsonException or IOException or UnauthorizedAccessException)
        {
            // A damaged description file: fall back to the next way of finding the ELF.
            return null;
        }
    }
}
