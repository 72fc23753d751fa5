using System.Runtime.InteropServices;
using WsCore.Tests.Mdns;

namespace WsCore.Tests.Examples;

/// <summary>
/// README.md's and every verb's --help examples are tests: the examples found are exactly the table's rows and
/// exclusions, so an example without a row, or a row whose example is gone, fails here by name.
/// </summary>
public sealed class ExampleCoverageTests
{
    [Fact]
    public async Task EveryExample_HasARowOrAnExclusion_AndEveryRowAnExample()
    {
        var found = await ExampleExtractor.AllAsync();
        var texts = found.Select(e => e.Command).ToHashSet();
        var rows = ExampleTable.Rows.Select(r => r.Text).ToList();
        var excluded = ExampleTable.Exclusions.Select(e => e.Text).ToList();

        var missing = found.Where(e => !rows.Contains(e.Command) && !excluded.Contains(e.Command))
            .Select(e => $"  {e.Command}    ({e.Source})")
            .Distinct()
            .ToList();
        Assert.True(missing.Count == 0,
            "examples without a row in ExampleTable (say how each runs, or exclude it with the reason):\n" +
            string.Join('\n', missing));
        var stale = rows.Concat(excluded).Where(t => !texts.Contains(t)).ToList();
        Assert.True(stale.Count == 0,
            "rows of ExampleTable whose example is no longer in README.md or any --help:\n  " +
            string.Join("\n  ", stale));
        Assert.Equal(rows.Count + excluded.Count, rows.Concat(excluded).Distinct().Count());
    }

    [Fact]
    public void EveryExclusion_ItsReasonHolds()
    {
        foreach (var exclusion in ExampleTable.Exclusions)
            exclusion.Check();
    }

    [Fact]
    public void Extractor_LeavesCommentsOut_KeepsQuotedHashes()
    {
        Assert.Equal("wsctl serve", ExampleExtractor.StripComment("wsctl serve   # like the device"));
        Assert.Equal("wsctl send x '# not a comment' --wait 1",
            ExampleExtractor.StripComment("wsctl send x '# not a comment' --wait 1  # one"));
        Assert.Equal("wsctl send x a#b", ExampleExtractor.StripComment("wsctl send x a#b"));
        Assert.Equal("", ExampleExtractor.StripComment("# run this on an arm64 machine"));
        var readme = ExampleExtractor.FromReadme("text\n```sh\n# a comment\nwsctl a   # one\n\nwsctl b\n```\n" +
            "```json\n{\"not\":\"a command\"}\n```\n");
        Assert.Equal(["wsctl a", "wsctl b"], readme.Select(e => e.Command));
        var help = ExampleExtractor.FromHelpText(
            "Summary.\n\nExamples:\n  wsctl a   # one\n  wsctl b\n\nExit codes:\n  0 ok\n", "wsctl x --help");
        Assert.Equal(["wsctl a", "wsctl b"], help.Select(e => e.Command));
    }
}

/// <summary>The examples that run on loopback (servers on port 0) and in a temporary directory.</summary>
public sealed class LoopbackExampleTests(ExampleFixtures shared) : IClassFixture<ExampleFixtures>
{
    public static TheoryData<string> Rows => ExampleTable.Texts(ExampleFixture.Loopback);

    [Theory]
    [MemberData(nameof(Rows))]
    public Task Example_RunsAsTheTextSays(string example) => ExampleTable.RunAsync(example, shared);
}

/// <summary>The examples that name devices (esp32ws.local, 192.168.1.40) or the default port: in the lab.</summary>
public sealed class LabExampleTests(ExampleFixtures shared) : IClassFixture<ExampleFixtures>
{
    public static TheoryData<string> Rows => ExampleTable.Texts(ExampleFixture.Lab);

    [LabTheory]
    [MemberData(nameof(Rows))]
    public Task Example_RunsAsTheTextSays(string example) => ExampleTable.RunAsync(example, shared);
}

/// <summary>The flash and monitor examples, against a simulated board.</summary>
public sealed class SerialExampleTests(ExampleFixtures shared) : IClassFixture<ExampleFixtures>
{
    public static TheoryData<string> Rows => ExampleTable.Texts(ExampleFixture.Serial);

    [Theory]
    [MemberData(nameof(Rows))]
    public Task Example_RunsAsTheTextSays(string example) => ExampleTable.RunAsync(example, shared);
}

/// <summary>The dotnet run, pack and tool install examples.</summary>
public sealed class ToolchainExampleTests(ExampleFixtures shared) : IClassFixture<ExampleFixtures>
{
    public static TheoryData<string> Rows => ExampleTable.Texts(ExampleFixture.Toolchain);

    [Theory]
    [MemberData(nameof(Rows))]
    public Task Example_RunsAsTheTextSays(string example) => ExampleTable.RunAsync(example, shared);
}

/// <summary>
/// A [Theory] that runs only where network namespaces can be made (as root with ip netns), like the mDNS tests.
/// </summary>
public sealed class LabTheoryAttribute : TheoryAttribute
{
    public LabTheoryAttribute()
    {
        // The same conditions as NetNamespaceFact: its skip reason, when it has one.
        if (new NetNamespaceFactAttribute().Skip is { } reason)
            Skip = reason;
        else if (!RuntimeInformation.IsOSPlatform(OSPlatform.Linux))
            Skip = "the lab needs Linux network namespaces";
    }
}
