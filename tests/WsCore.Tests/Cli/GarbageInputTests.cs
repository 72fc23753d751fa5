using System.CommandLine;
using WsCore.Tests.Support;
using Wsctl;
using Wsctl.Cli;

namespace WsCore.Tests.Cli;

/// <summary>
/// Every option of every verb, read from the command tree (a new option is covered without a new test), given
/// garbage: a number, duration or choice option refuses each value with one error that names the option and says
/// what it expects; any option that refuses a value names itself; nothing throws. The built wsctl then shows it as
/// three lines on stderr, exit 1, stdout empty, no stack trace.
/// </summary>
public class GarbageInputTests
{
    private static readonly string[] Garbage = ["abc", "", "-1", "99999999999999999999", "\u0001\u0007", "1e9"];

    /// <summary>
    /// What each verb needs besides the option under test, so that the option is the only thing wrong.
    /// </summary>
    private static readonly Dictionary<string, string[]> Required = new()
    {
        ["serve"] = [],
        ["send"] = ["127.0.0.1:9", "hello"],
        ["broadcast"] = ["hello"],
        ["probe"] = ["127.0.0.1"],
        ["flash"] = ["--ssid", "MyNet", "--pass", "password123", "--dry-run"],
        ["bench"] = ["127.0.0.1:9"],
        ["monitor"] = ["--port", "socket://127.0.0.1:9", "--timeout", "1s"],
        ["provision"] = ["--port", "socket://127.0.0.1:9", "--scan", "--timeout", "1s"],
        ["ota"] = ["127.0.0.1:9", "--firmware", "build", "--ota-key", "ota.key", "--dry-run"],
        ["completion"] = ["bash"],
        ["device info"] = [],
        ["device read"] = ["0x1000", "0x100", "--output", "read.bin"],
        ["device erase"] = ["0x1000", "0x1000"],
        ["device verify"] = ["--firmware", "build"],
        ["device partitions"] = [],
        ["device ports"] = [],
    };

    /// <summary>
    /// Every option that takes a value, of every verb that runs: a verb with subverbs (device) by each subverb, named
    /// by its path ("device read").
    /// </summary>
    private static IEnumerable<(string Verb, Option Option)> ValueOptions()
    {
        var root = WsctlCommand.Create();
        var verbs = root.Subcommands.SelectMany(v => v.Subcommands.Count == 0
            ? [(v.Name, v)] : v.Subcommands.Select(c => ($"{v.Name} {c.Name}", c)));
        foreach (var (name, verb) in verbs)
        {
            var options = verb.Options.Concat(root.Options.Where(o => o.Recursive));
            foreach (var option in options.Where(o => o.Arity.MaximumNumberOfValues > 0 && o.ValueType != typeof(bool)))
                yield return (name, option);
        }
    }

    /// <summary>Options whose every value is checked: numbers, durations and fixed choices.</summary>
    private static bool IsStrict(Option option) =>
        option.ValueType == typeof(int) || option.ValueType == typeof(int?) || option.ValueType == typeof(double?)
        || option.ValueType == typeof(TimeSpan)
            || option.CompletionSources.Count > 0 && option.ValueType == typeof(string)
        && option.GetCompletions(System.CommandLine.Completions.CompletionContext.Empty).Any();

    public static TheoryData<string, string> EveryValueOption()
    {
        var data = new TheoryData<string, string>();
        foreach (var (verb, option) in ValueOptions())
            data.Add(verb, option.Name);
        return data;
    }

    public static TheoryData<string, string> StrictOptions()
    {
        var data = new TheoryData<string, string>();
        foreach (var (verb, option) in ValueOptions().Where(p => IsStrict(p.Option)))
            data.Add(verb, option.Name);
        return data;
    }

    /// <summary>
    /// The verb's command line with <paramref name="option"/> set to <paramref name="value"/> (replaced if required).
    /// </summary>
    private static string[] With(string[] required, string option, string value, string verb)
    {
        var args = required.ToList();
        var at = args.IndexOf(option);
        if (at >= 0)
            args[at + 1] = value;
        else
            args.AddRange([option, value]);
        return [.. verb.Split(' '), .. args];
    }

    [Fact]
    public void TheTreeHasTheOptionsThisTestIsAbout()
    {
        var strict = StrictOptions().Count();
        Assert.True(strict >= 25, $"only {strict} number, duration or choice options found: the tree walk is broken");
    }

    [Theory]
    [MemberData(nameof(EveryValueOption))]
    public void Parse_Garbage_RefusedByNameOrAccepted_NeverThrows(string verb, string option)
    {
        var strict = IsStrict(ValueOptions().Single(p => p.Verb == verb && p.Option.Name == option).Option);
        foreach (var garbage in Garbage)
        {
            var parse = WsctlCommand.Create().Parse(With(Required[verb], option, garbage, verb));
            if (parse.Errors.Count == 0)
            {
                Assert.False(strict, $"{verb} {option} accepted {Options.Quote(garbage)}");
                continue;
            }
            var mine = parse.Errors.Where(e => strict
                ? e.Message.StartsWith(option + ":", StringComparison.Ordinal)
                : e.Message.Contains(option)).ToList();
            Assert.True(mine.Count > 0, $"{verb} {option} {Options.Quote(garbage)}: errors do not name the option: " +
                string.Join(" | ", parse.Errors.Select(e => e.Message)));
            Assert.All(mine, e =>
            {
                Assert.DoesNotContain('\n', e.Message);
                Assert.DoesNotContain("System.", e.Message);
                if (strict)
                    Assert.Contains("expected", e.Message);
            });
        }
    }

    [Theory]
    [MemberData(nameof(StrictOptions))]
    public async Task Process_Garbage_ThreeLinesOnStderrExit1StdoutEmpty(string verb, string option)
    {
        var result = await WsctlProcess.RunAsync(
            With(Required[verb], option, "abc", verb), timeout: TimeSpan.FromSeconds(60));
        Assert.Equal(1, result.ExitCode);
        Assert.Equal("", result.Stdout);
        var lines = result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, lines.Length);
        Assert.StartsWith($"wsctl: {option}: expected ", lines[0]);
        Assert.EndsWith("got 'abc'", lines[0]);
        Assert.StartsWith($"usage: wsctl {verb} ", lines[1]);
        Assert.Equal($"see 'wsctl {verb} --help'", lines[2]);
    }

    [Theory]
    [InlineData("frobnicate")]
    [InlineData("serve", "--no-such-option")]
    [InlineData("send", "a", "b", "c")]
    public async Task Process_UsageError_ShortOnStderr_StdoutEmpty(params string[] args)
    {
        var result = await WsctlProcess.RunAsync(args, timeout: TimeSpan.FromSeconds(60));
        Assert.Equal(1, result.ExitCode);
        Assert.Equal("", result.Stdout);
        var lines = result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.InRange(lines.Length, 2, 4);
        Assert.StartsWith("see 'wsctl", lines[^1]);
        Assert.DoesNotContain("   at ", result.Stderr);
    }

    [Fact]
    public async Task Help_RootListsEachVerbInOneLine_DurationsAsTyped()
    {
        var root = await WsctlProcess.RunAsync(["--help"], timeout: TimeSpan.FromSeconds(60));
        Assert.Equal(0, root.ExitCode);
        Assert.True(root.Stdout.Split('\n').Length < 60, root.Stdout);
        Assert.DoesNotContain("Examples:", root.Stdout);
        var serve = await WsctlProcess.RunAsync(["serve", "--help"], timeout: TimeSpan.FromSeconds(60));
        Assert.Contains("[default: 5s]", serve.Stdout);
        Assert.Contains("[default: 30s]", serve.Stdout);
        Assert.DoesNotContain("00:00:", serve.Stdout);
        Assert.Contains("Examples:", serve.Stdout);
    }
}
