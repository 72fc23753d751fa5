using WsCore.Tests.Support;

namespace WsCore.Tests.Examples;

/// <summary>
/// Every example of README.md's <c>```sh</c> blocks and of every verb's <c>--help</c>, by its exact text (comment
/// left out): how it runs in the tests (what it needs, what is substituted and why, what "behaves as the text says"
/// means for it), or why it does not. <see cref="ExampleCoverageTests"/> holds the table to the examples found;
/// the rows run in <see cref="LoopbackExampleTests"/>, <see cref="LabExampleTests"/>,
/// <see cref="SerialExampleTests"/> and <see cref="ToolchainExampleTests"/>.
/// </summary>
public static partial class ExampleTable
{
    /// <summary>Every row, in the order of the files that hold them.</summary>
    public static IReadOnlyList<Example> Rows => AllRows.Value;

    // Lazy: the parts live in other files, whose static fields have no order relative to this one's.
    private static readonly Lazy<Example[]> AllRows =
        new(() => [.. LoopbackRows(), .. LabRows(), .. SerialRows(), .. ToolchainRows(), .. OtaRows()]);

    /// <summary>The examples that do not run in a test, each with its reason and a check that it holds.</summary>
    public static IReadOnlyList<Exclusion> Exclusions { get; } =
    [
        new("./test.sh",
            "runs every test, this one included (and installs Debian packages as root): it is what runs these rows",
            () => Assert.Contains("dotnet test wsctl.sln", File.ReadAllText(RepoPaths.Combine("test.sh")))),
        new("dotnet publish src/wsctl -c Release -r linux-x64 -p:PublishAot=true -o out/linux-x64",
            "scripts/test-native.sh (a stage of ./test.sh) runs this publish, into a temporary directory instead of " +
            "out/linux-x64, and smoke-tests the binary it makes; a second NativeAOT build here would add minutes",
            () => Assert.Contains(
                "dotnet publish src/wsctl -c Release -r linux-x64 -p:PublishAot=true -o \"$out/bin\"",
                File.ReadAllText(RepoPaths.Combine("scripts", "test-native.sh")))),
        new("dotnet publish src/wsctl -c Release -r linux-arm64 -p:PublishAot=true -o out/linux-arm64",
            "NativeAOT does not cross-compile between architectures (the README says so: run it on an arm64 " +
            "machine); this machine is not one",
            () => Assert.NotEqual(
                System.Runtime.InteropServices.Architecture.Arm64,
                System.Runtime.InteropServices.RuntimeInformation.OSArchitecture)),
    ];

    /// <summary>The row for <paramref name="text"/>.</summary>
    public static Example Row(string text) =>
        Rows.SingleOrDefault(r => r.Text == text) ?? throw new KeyNotFoundException($"no row for '{text}'");

    /// <summary>The texts of the rows of one fixture, as theory data.</summary>
    public static TheoryData<string> Texts(ExampleFixture fixture)
    {
        var data = new TheoryData<string>();
        foreach (var row in Rows.Where(r => r.Fixture == fixture))
            data.Add(row.Text);
        return data;
    }

    /// <summary>Runs the row for <paramref name="text"/> with what its class shares.</summary>
    public static async Task RunAsync(string text, ExampleFixtures shared)
    {
        var row = Row(text);
        await using var run = new ExampleRun(row, shared);
        await row.Check(run);
    }

    private static Substitution Sub(string find, string replace, string why) => new(find, replace, why);

    /// <summary>No substitution: the example runs exactly as written.</summary>
    private static Substitution[] AsWritten => [];

    /// <summary>Asserts the exit code, showing what the command printed when it differs.</summary>
    private static void ExitCode(int expected, ShellProcess shell) =>
        Assert.True(shell.ExitCodeOrNull == expected, $"exit {shell.ExitCodeOrNull}, expected {expected}: {shell.All}");
}
