using System.Text.RegularExpressions;
using WsCore.Tests.Support;

namespace WsCore.Tests.Esp;

/// <summary>
/// docs/esp32-rom-protocol.md is the repository's own account of the ROM loader: every citation of it in the code
/// ("docs/esp32-rom-protocol.md §N", "§N and §M", "§N-§M") names a section it has.
/// </summary>
public partial class ProtocolDocTests
{
    private const string Doc = "docs/esp32-rom-protocol.md";

    [GeneratedRegex(@"^## §(\d+) ", RegexOptions.Multiline)]
    private static partial Regex Heading();

    // The citation, then the section numbers that follow it: "§2-§4, §6, §7", "§6 and §10".
    [GeneratedRegex(@"docs/esp32-rom-protocol\.md (§\d+(?:(?:-| and |, )§\d+)*)")]
    private static partial Regex Citation();

    [GeneratedRegex(@"§(\d+)")]
    private static partial Regex Section();

    [Fact]
    public void EveryCitation_NamesASectionTheDocumentHas()
    {
        var sections = Heading().Matches(File.ReadAllText(RepoPaths.Combine(Doc)))
            .Select(m => int.Parse(m.Groups[1].Value))
            .ToHashSet();
        Assert.Equal(Enumerable.Range(1, sections.Count), sections.Order());
        var sources = new[] { "src", "tests" }
            .SelectMany(dir => Directory.EnumerateFiles(RepoPaths.Combine(dir), "*.cs", SearchOption.AllDirectories))
            .Where(f => !f.Split(Path.DirectorySeparatorChar).Any(d => d is "bin" or "obj"));
        var cited = new List<(string File, int Section)>();
        foreach (var file in sources)
            foreach (Match citation in Citation().Matches(File.ReadAllText(file)))
                foreach (Match section in Section().Matches(citation.Groups[1].Value))
                    cited.Add((Path.GetRelativePath(RepoPaths.Root, file), int.Parse(section.Groups[1].Value)));
        Assert.NotEmpty(cited);
        var dangling = cited.Where(c => !sections.Contains(c.Section)).Select(c => $"{c.File}: §{c.Section}");
        Assert.Empty(dangling);
    }
}
