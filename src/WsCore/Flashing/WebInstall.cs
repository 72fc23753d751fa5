using System.Text;
using System.Text.Json;
using WsCore.Chips;

namespace WsCore.Flashing;

/// <summary>
/// An ESP Web Tools install page for a build (https://esphome.github.io/esp-web-tools/): each region's image as a
/// file, a <c>manifest.json</c> in the component's format (name, version, new_install_prompt_erase, builds with the
/// chip family and each part's path and offset), and an <c>index.html</c> with its
/// <c>&lt;esp-web-install-button&gt;</c>. No I/O: the files are returned as bytes. It never holds an NVS partition:
/// a web page is for anyone who can load it, and the Wi-Fi password must not be one of its files.
/// </summary>
public static class WebInstall
{
    /// <summary>The component's script as ESP Web Tools' own documentation loads it (its major version 10).</summary>
    public const string DefaultScript = "https://unpkg.com/esp-web-tools@10/dist/web/install-button.js?module";

    /// <summary>The manifest's file name, which the page's button names.</summary>
    public const string ManifestFile = "manifest.json";

    /// <summary>The page's file name.</summary>
    public const string PageFile = "index.html";

    /// <summary>
    /// The folder's files, by name: the regions' images, the manifest and the page.
    /// </summary>
    /// <param name="regions">The regions <c>flash</c> would write (no secret one).</param>
    /// <param name="chip">The chip the build is for: the manifest's chipFamily.</param>
    /// <param name="name">The install's name (the project's).</param>
    /// <param name="version">The firmware's version.</param>
    /// <param name="script">Where the page loads the component from.</param>
    /// <exception cref="ArgumentException">A region is secret (the NVS partition).</exception>
    public static IReadOnlyList<(string Name, byte[] Data)> Files(
        IReadOnlyList<FlashRegion> regions, ChipDescriptor chip, string name, string version, string script)
    {
        if (regions.FirstOrDefault(r => r.Secret) is { } secret)
            throw new ArgumentException($"{secret.Name} holds a secret and cannot go on a web page", nameof(regions));
        var files = new List<(string Name, byte[] Data)>();
        var parts = new List<(string Path, uint Offset)>();
        foreach (var region in regions)
        {
            var file = FileName(region, files.Select(f => f.Name));
            files.Add((file, region.Data));
            parts.Add((file, region.Offset));
        }
        files.Add((ManifestFile, Manifest(name, version, chip, parts)));
        files.Add((PageFile, Encoding.UTF8.GetBytes(Page(name, version, chip, script))));
        return files;
    }

    /// <summary>The manifest: one build, for <paramref name="chip"/>, with its parts in flash order.</summary>
    public static byte[] Manifest(
        string name, string version, ChipDescriptor chip, IEnumerable<(string Path, uint Offset)> parts)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteString("name", name);
            json.WriteString("version", version);
            // The page asks whether to erase the device first; the user decides (keeping its NVS, or not).
            json.WriteBoolean("new_install_prompt_erase", true);
            json.WriteStartArray("builds");
            json.WriteStartObject();
            json.WriteString("chipFamily", chip.Name);
            json.WriteStartArray("parts");
            foreach (var (path, offset) in parts)
            {
                json.WriteStartObject();
                json.WriteString("path", path);
                json.WriteNumber("offset", offset);
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteEndObject();
            json.WriteEndArray();
            json.WriteEndObject();
        }
        buffer.WriteByte((byte)'\n');
        return buffer.ToArray();
    }

    /// <summary>The page: a title, the install button naming the manifest, and what the visitor needs.</summary>
    public static string Page(string name, string version, ChipDescriptor chip, string script)
    {
        var title = HtmlText($"{name} {version}");
        return $$"""
            <!doctype html>
            <html lang="en">
            <head>
              <meta charset="utf-8">
              <meta name="viewport" content="width=device-width, initial-scale=1">
              <title>Install {{title}}</title>
              <script type="module" src="{{HtmlText(script)}}"></script>
              <style>body { font-family: sans-serif; max-width: 40em; margin: 2em auto; padding: 0 1em; }</style>
            </head>
            <body>
              <h1>{{title}}</h1>
              <p>Connect the {{HtmlText(chip.Name)}} board with a USB data cable, then:</p>
              <esp-web-install-button manifest="{{ManifestFile}}"></esp-web-install-button>
              <p>Installing needs a browser with Web Serial (Chrome or Edge on a desktop), and this page served over
              https or from localhost. This install writes the firmware only: the board's Wi-Fi network and password
              are written to it afterwards with wsctl flash, never from this page.</p>
            </body>
            </html>

            """;
    }

    /// <summary>Text safe inside an HTML element or a quoted attribute (HTML's five special characters).</summary>
    private static string HtmlText(string text) => text.Replace("&", "&amp;", StringComparison.Ordinal)
        .Replace("<", "&lt;", StringComparison.Ordinal).Replace(">", "&gt;", StringComparison.Ordinal)
        .Replace("\"", "&quot;", StringComparison.Ordinal).Replace("'", "&#39;", StringComparison.Ordinal);

    /// <summary>A file name for a region: its own name (with .bin), made unique with its offset where needed.</summary>
    private static string FileName(FlashRegion region, IEnumerable<string> taken)
    {
        var name = string.Concat(region.Name.Select(c => char.IsAsciiLetterOrDigit(c)
            || c is '.' or '-' or '_' ? c : '_'));
        if (!name.EndsWith(".bin", StringComparison.OrdinalIgnoreCase))
            name += ".bin";
        return taken.Contains(name) || name is ManifestFile or PageFile ? $"0x{region.Offset:x}-{name}" : name;
    }
}
