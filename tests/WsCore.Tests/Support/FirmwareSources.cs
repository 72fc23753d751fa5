using System.Globalization;
using System.Text.RegularExpressions;

namespace WsCore.Tests.Support;

/// <summary>
/// Reads the firmware's own files (src/firmware) so the tests can hold WsCore to them: the shared limits header
/// <c>wsctl_limits.h</c>, other headers' <c>#define</c>s, Kconfig options and <c>sdkconfig.defaults</c>.
/// </summary>
public static partial class FirmwareSources
{
    public static string LimitsHeaderPath => RepoPaths.Combine(
        "src", "firmware", "components", "ws_app", "include", "wsctl_limits.h");
    public static string ServerHeaderPath => RepoPaths.Combine(
        "src", "firmware", "components", "ws_server", "include", "ws_server.h");
    public static string KconfigPath => RepoPaths.Combine("src", "firmware", "main", "Kconfig.projbuild");
    public static string SdkconfigDefaultsPath => RepoPaths.Combine("src", "firmware", "sdkconfig.defaults");
    public static string PartitionsCsvPath => RepoPaths.Combine("src", "firmware", "partitions.csv");

    /// <summary>
    /// Every object-like <c>#define NAME VALUE</c> of a header whose value is a decimal integer (C suffixes u/U/l/L
    /// allowed) or a string literal, in file order: integers as <see cref="long"/>, strings without their quotes.
    /// Comments after the value are ignored; the include guard (no value) and function-like macros are skipped.
    /// </summary>
    public static IReadOnlyDictionary<string, object> Defines(string path)
    {
        var defines = new Dictionary<string, object>(StringComparer.Ordinal);
        foreach (var line in File.ReadLines(path))
        {
            var m = DefineLine().Match(line);
            if (!m.Success)
                continue;
            var name = m.Groups["name"].Value;
            if (m.Groups["str"].Success)
                defines.Add(name, m.Groups["str"].Value);
            else
                defines.Add(name, long.Parse(m.Groups["int"].Value, NumberStyles.None, CultureInfo.InvariantCulture));
        }
        return defines;
    }

    /// <summary>
    /// The <c>range</c> and <c>default</c> lines of a Kconfig <c>config NAME</c> block (null when absent).
    /// </summary>
    public static (string? Range, string? Default) KconfigOption(string path, string name)
    {
        string? range = null, value = null;
        var inside = false;
        foreach (var raw in File.ReadLines(path))
        {
            var line = raw.Trim();
            // Any entry or block line ends the option's block (a choice's default is not the option's).
            if (line.StartsWith("config ", StringComparison.Ordinal)
                || line.StartsWith("menu", StringComparison.Ordinal)
                || line.StartsWith("choice", StringComparison.Ordinal)
                || line.StartsWith("endchoice", StringComparison.Ordinal)
                || line.StartsWith("comment ", StringComparison.Ordinal)
                || line.StartsWith("if ", StringComparison.Ordinal)
                || line == "endif")
            {
                inside = line == "config " + name;
                continue;
            }
            if (!inside)
                continue;
            if (line.StartsWith("range ", StringComparison.Ordinal))
                range = line["range ".Length..];
            else if (line.StartsWith("default ", StringComparison.Ordinal))
                value = line["default ".Length..];
        }
        return (range, value);
    }

    /// <summary>The <c>CONFIG_*=value</c> lines of an sdkconfig file (values as written, quotes kept).</summary>
    public static IReadOnlyDictionary<string, string> Sdkconfig(string path) =>
        File.ReadLines(path)
            .Select(l => l.Trim())
            .Where(l => l.StartsWith("CONFIG_", StringComparison.Ordinal) && l.Contains('='))
            .ToDictionary(l => l[..l.IndexOf('=')], l => l[(l.IndexOf('=') + 1)..], StringComparer.Ordinal);

    [GeneratedRegex(
        """^\s*#\s*define\s+(?<name>[A-Za-z_][A-Za-z0-9_]*)\s+""" +
        """(?:"(?<str>[^"\\]*)"|(?<int>[0-9]+)[uUlL]*)\s*(?:/\*.*)?$""")]
    private static partial Regex DefineLine();
}
