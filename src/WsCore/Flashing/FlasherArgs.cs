using System.Globalization;
using System.Text.Json;

namespace WsCore.Flashing;

/// <summary>
/// What an ESP-IDF build directory's <c>flasher_args.json</c> says (docs/esp32-rom-protocol.md §9): the files with
/// their offsets, the flash settings, the chip and the reset modes.
/// </summary>
/// <param name="Files">(offset, path relative to the build directory), in the file's order.</param>
/// <param name="FlashMode">e.g. "dio", or null.</param>
/// <param name="FlashSize">e.g. "2MB", "detect", "keep", or null.</param>
/// <param name="FlashFreq">e.g. "40m", or null.</param>
/// <param name="Chip">e.g. "esp32", or null (IDF before 4.3).</param>
/// <param name="Before">"default-reset"/"no-reset" (underscore spellings normalised), or null.</param>
/// <param name="After">"hard-reset"/"no-reset" (underscore spellings normalised), or null.</param>
/// <param name="AppOffset">The offset of the "app" entry (the application image), or null.</param>
public sealed record FlasherArgs(
    IReadOnlyList<(uint Offset, string Path)> Files,
    string? FlashMode,
    string? FlashSize,
    string? FlashFreq,
    string? Chip,
    string? Before,
    string? After,
    uint? AppOffset = null)
{
    /// <summary>Parses the JSON text (JsonDocument: no reflection, NativeAOT-safe).</summary>
    /// <exception cref="WsCoreException">InvalidInput when the document is not a flasher_args.json.</exception>
    public static FlasherArgs Parse(string json, string sourceName = "flasher_args.json")
    {
        try
        {
            using var doc = JsonDocument.Parse(
                json,
                new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
            var root = doc.RootElement;
            if (!root.TryGetProperty("flash_files", out var files) || files.ValueKind != JsonValueKind.Object)
                throw new WsCoreException(FailureKind.InvalidInput, $"{sourceName}: no \"flash_files\" object");
            var list = new List<(uint, string)>();
            foreach (var file in files.EnumerateObject())
                list.Add((
                    ParseOffset(file.Name)
                        ?? throw new WsCoreException(
                            FailureKind.InvalidInput, $"{sourceName}: '{file.Name}' is not an offset"),
                    file.Value.GetString() ?? ""));
            string? Setting(string name) =>
                root.TryGetProperty("flash_settings", out var s) && s.TryGetProperty(name, out var v)
                    && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
            string? Extra(string name) =>
                root.TryGetProperty("extra_esptool_args", out var e) && e.TryGetProperty(name, out var v)
                    && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
            var appOffset = root.TryGetProperty("app", out var app) && app.TryGetProperty("offset", out var offset)
                && offset.ValueKind == JsonValueKind.String ? ParseOffset(offset.GetString()!) : null;
            return new FlasherArgs(
                list,
                Setting("flash_mode"),
                Setting("flash_size"),
                Setting("flash_freq"),
                Extra("chip"),
                Extra("before")?.Replace('_', '-'),
                Extra("after")?.Replace('_', '-'),
                appOffset);
        }
        catch (JsonException e)
        {
            throw new WsCoreException(FailureKind.InvalidInput, $"{sourceName}: not valid JSON ({e.Message})", null, e);
        }
    }

    /// <summary>Parses "0x1000" or "4096".</summary>
    public static uint? ParseOffset(string text)
    {
        text = text.Trim();
        if (text.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
            return uint.TryParse(text[2..], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var hex)
                ? hex
                : null;
        return uint.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var dec) ? dec : null;
    }
}
