using System.CommandLine;
using System.Text;
using System.Text.RegularExpressions;
using WsCore.Tests.Support;
using Wsctl;
using Wsctl.Cli;

namespace WsCore.Tests.Cli;

/// <summary>
/// WsCore speaks of its own inputs (<see cref="InputField"/>), never of command-line flags; the CLI's one table
/// (<see cref="InputFlags"/>) turns fields into options of the verb that ran.
/// </summary>
public class InputFlagsTests
{
    private static readonly Regex Flag = new("--[A-Za-z]", RegexOptions.CultureInvariant);

    [Fact]
    public void WsCoreSources_NoStringLiteralNamesAFlag()
    {
        var root = RepoPaths.Combine("src", "WsCore");
        var sources = Directory.EnumerateFiles(root, "*.cs", SearchOption.AllDirectories)
            .Where(p => Path.GetRelativePath(root, p).Split(Path.DirectorySeparatorChar)[0] is not ("obj" or "bin"))
            .ToList();
        var literals = 0;
        var offending = new List<string>();
        foreach (var path in sources)
            foreach (var literal in CSharpStrings.Literals(File.ReadAllText(path)))
            {
                literals++;
                if (Flag.IsMatch(literal))
                    offending.Add($"{Path.GetRelativePath(RepoPaths.Root, path)}: \"{literal}\"");
            }
        // The scan found the sources and their strings (WsCore has several hundred).
        Assert.True(literals > 500, $"only {literals} string literals in {sources.Count} files");
        Assert.True(offending.Count == 0, "WsCore names its inputs with InputField, the CLI spells them " +
            "(InputFlags):\n" + string.Join("\n", offending));
    }

    [Fact]
    public void Literals_FindEveryKindOfString_AndSkipComments()
    {
        const string source = """"
            // --not-a-literal
            /* --nor-this */
            var a = "plain --a";
            var b = @"verbatim ""--b""";
            var c = $"hole {string.Join(", ", xs)} --c {x:X8}";
            var d = $@"both {y} --d";
            var e = '"';
            var f = """raw --f""";
            """";
        var literals = CSharpStrings.Literals(source);
        var flags = literals.SelectMany(l => Flag.Matches(l).Select(m => l.Substring(m.Index, 3))).ToList();
        Assert.Equal(["--a", "--b", "--c", "--d", "--f"], flags);
        Assert.Contains(", ", literals);
    }

    [Fact]
    public void EveryField_MapsToAnOptionOfEachVerbThatReportsIt()
    {
        var verbs = WsctlCommand.Create().Subcommands.ToDictionary(c => c.Name);
        foreach (var field in Enum.GetValues<InputField>())
        {
            Assert.True(InputFlags.Table.TryGetValue(field, out var row), $"{field} has no row in InputFlags.Table");
            Assert.NotEmpty(row.Verbs);
            foreach (var name in row.Verbs)
            {
                Assert.True(verbs.TryGetValue(name, out var verb), $"{field}: no verb '{name}'");
                if (row.Flag is { } flag)
                    Assert.True(InputFlags.Has(verb, flag), $"{field}: 'wsctl {name}' has no option {flag}");
            }
            // A usage spells the option it names (the target's names the verb that finds one).
            if (row.Usage is { } usage)
                Assert.StartsWith(row.Flag ?? "wsctl ", usage);
        }
    }

    [Fact]
    public void Describe_FieldAtFault_PrefixesItsFlag()
    {
        var error = WsCoreException.Invalid(InputField.Ssid, "the SSID must be 1-32 bytes (it is 33)");
        Assert.Equal(("--ssid: the SSID must be 1-32 bytes (it is 33)", null), InputFlags.Describe(error));
    }

    [Fact]
    public void Describe_HintField_FollowsTheHintWithTheOptionThatDoesIt()
    {
        var error = new WsCoreException(FailureKind.InvalidInput, "app.bin is not an ESP image for 0x10000: bad magic",
            "force the write to put it there anyway")
        { Field = InputField.Images, HintField = InputField.Force };
        var (message, hint) = InputFlags.Describe(error, Parse("flash", "--image", "0x10000=app.bin"));
        Assert.Equal("--image: app.bin is not an ESP image for 0x10000: bad magic", message);
        Assert.Equal("force the write to put it there anyway (--force)", hint);
    }

    [Fact]
    public void Describe_VerbWithoutTheOption_KeepsWsCoresWords()
    {
        // broadcast --discover browses by mDNS but has no --interface to offer.
        var error = new WsCoreException(FailureKind.Other, "no network interface is up and multicast-capable",
            "connect to a network, or name the interface to use")
        { HintField = InputField.Interface };
        Assert.Equal("connect to a network, or name the interface to use",
            InputFlags.Describe(error, Parse("broadcast", "--discover", "hi")).Hint);
        Assert.Equal("connect to a network, or name the interface to use (--interface NAME)",
            InputFlags.Describe(error, Parse("probe", "--discover")).Hint);
    }

    [Fact]
    public void Describe_NameNotResolved_NamesTheVerbThatFindsDevices()
    {
        var error = new WsCoreException(FailureKind.NameNotResolved,
            "'esp32ws.local' could not be resolved within 10 s", "is the device on this network?")
        {
            HintField = InputField.Target,
        };
        Assert.Equal(("'esp32ws.local' could not be resolved within 10 s",
                "is the device on this network? wsctl probe --discover lists the devices that answer"),
            InputFlags.Describe(error, Parse("send", "esp32ws.local", "hi")));
    }

    private static ParseResult Parse(params string[] args) => WsctlCommand.Create().Parse(args);
}

/// <summary>
/// The string literals of C# source text: regular, verbatim, interpolated (their holes read as code) and raw
/// strings, with comments and character literals skipped. Enough of the lexer for a source scan, not a compiler.
/// </summary>
internal static class CSharpStrings
{
    public static List<string> Literals(string source)
    {
        var found = new List<string>();
        var i = 0;
        Code(source, ref i, found, inHole: false);
        return found;
    }

    /// <summary>Reads code from <paramref name="i"/>; in an interpolation hole, up to past its closing brace.</summary>
    private static void Code(string s, ref int i, List<string> found, bool inHole)
    {
        var depth = 0;
        while (i < s.Length)
        {
            var c = s[i];
            if (c == '/' && At(s, i + 1) == '/')
                i = s.IndexOf('\n', i) is var eol and >= 0 ? eol : s.Length;
            else if (c == '/' && At(s, i + 1) == '*')
                i = s.IndexOf("*/", i + 2, StringComparison.Ordinal) is var end and >= 0 ? end + 2 : s.Length;
            else if (c == '\'')
            {
                for (i++; i < s.Length && s[i] != '\''; i += s[i] == '\\' ? 2 : 1)
                {
                }
                i++;
            }
            else if (StringStart(s, i) is { } start)
                found.Add(ReadString(s, ref i, start, found));
            else if (c == '{')
            {
                depth++;
                i++;
            }
            else if (c == '}')
            {
                i++;
                if (depth-- == 0 && inHole)
                    return;
            }
            else
                i++;
        }
    }

    private readonly record struct Start(int Quote, bool Interpolated, bool Verbatim);

    /// <summary>Whether a string ($ and @ prefixes too) starts at <paramref name="i"/>, and where it opens.</summary>
    private static Start? StringStart(string s, int i)
    {
        var j = i;
        var dollars = 0;
        var verbatim = false;
        while (j < s.Length && (s[j] == '$' || s[j] == '@'))
        {
            if (s[j] == '$')
                dollars++;
            else
                verbatim = true;
            j++;
        }
        return At(s, j) == '"' ? new Start(j, dollars > 0, verbatim) : null;
    }

    private static string ReadString(string s, ref int i, Start start, List<string> found)
    {
        var text = new StringBuilder();
        var quotes = 0;
        while (At(s, start.Quote + quotes) == '"')
            quotes++;
        if (quotes >= 3)
        {
            // A raw string: everything up to the same run of quotes (holes included: they are rare here).
            var close = new string('"', quotes);
            var end = s.IndexOf(close, start.Quote + quotes, StringComparison.Ordinal);
            end = end < 0 ? s.Length : end;
            i = Math.Min(s.Length, end + quotes);
            return s[(start.Quote + quotes)..end];
        }
        i = start.Quote + 1;
        while (i < s.Length)
        {
            var c = s[i];
            if (c == '"' && start.Verbatim && At(s, i + 1) == '"')
            {
                text.Append('"');
                i += 2;
            }
            else if (c == '"')
            {
                i++;
                break;
            }
            else if (c == '\\' && !start.Verbatim)
            {
                text.Append(s, i, Math.Min(2, s.Length - i));
                i += 2;
            }
            else if (start.Interpolated && c == '{' && At(s, i + 1) == '{')
            {
                text.Append('{');
                i += 2;
            }
            else if (start.Interpolated && c == '{')
            {
                // A hole is code (with strings of its own); the literal goes on after it.
                i++;
                Code(s, ref i, found, inHole: true);
                text.Append(' ');
            }
            else
            {
                text.Append(c);
                i++;
            }
        }
        return text.ToString();
    }

    private static char At(string s, int i) => i < s.Length ? s[i] : '\0';
}
