using System.Net;
using WsCore.Tests.Support;

namespace WsCore.Tests.Examples;

/// <summary>
/// The rows that run the .NET SDK on this checkout, as a user with a fresh clone would: dotnet run, dotnet pack and
/// dotnet tool install. MSBuild and the compiler run without build servers (environment only), so nothing of theirs
/// outlives the row.
/// </summary>
public static partial class ExampleTable
{
    private static readonly TimeSpan BuildTimeout = TimeSpan.FromMinutes(5);

    private const string PackText = "dotnet pack src/wsctl -c Release -o out/pkg";

    private static Example[] ToolchainRows() =>
    [
        new("dotnet run --project src/wsctl -c Release -- serve --port 8080", ExampleFixture.Toolchain,
            "this checkout as the working directory, the .NET SDK",
            [ServePortToZero("8080")],
            "it builds and runs serve: it listens, http://localhost:PORT/ answers 200 with the test page, and Ctrl-C " +
            "ends it with 0",
            async run =>
            {
                run.CommandDirectory = RepoPaths.Root;
                NoBuildServers(run);
                var serve = await run.StartServeLineAsync(run.Command(), timeout: BuildTimeout);
                using var http = new HttpClient { Timeout = ExampleRun.Timeout };
                using var page = await http.GetAsync(new Uri($"http://localhost:{serve.Port}/"));
                Assert.Equal(HttpStatusCode.OK, page.StatusCode);
                Assert.Contains("new WebSocket", await page.Content.ReadAsStringAsync());
                await serve.StopAsync();
            }),
        new(PackText, ExampleFixture.Toolchain,
            "the .NET SDK; run from a temporary directory",
            [Sub("src/wsctl", "{repo}/src/wsctl", "the project in this checkout, run from a temporary directory so " +
                "that out/ lands there and not in the checkout")],
            "exit 0; out/pkg holds the tool package wsctl.VERSION.nupkg",
            async run =>
            {
                var packed = await PackedAsync(run);
                Assert.Single(Directory.GetFiles(Path.Combine(packed, "out", "pkg"), "wsctl.*.nupkg"));
            }),
        new("dotnet tool install --global --add-source ./out/pkg wsctl", ExampleFixture.Toolchain,
            "out/pkg from the dotnet pack example, in the directory that ran it; an empty NuGet package folder " +
            "(NUGET_PACKAGES) and a nuget.config naming no other source, so the package just made is the one " +
            "installed and nothing is fetched",
            [Sub("--global", "--tool-path {tools}", "--global → --tool-path of a temporary directory: the user's " +
                "~/.dotnet/tools stays untouched")],
            "exit 0; the installed wsctl runs: wsctl --version prints the version and commit",
            async run =>
            {
                run.CommandDirectory = await PackedAsync(run);
                NoBuildServers(run);
                var tools = Path.Combine(run.WorkDirectory, "tools");
                run.Environment["NUGET_PACKAGES"] = Path.Combine(run.WorkDirectory, "nuget-packages");
                File.WriteAllText(Path.Combine(run.CommandDirectory, "nuget.config"), """
                    <?xml version="1.0" encoding="utf-8"?>
                    <configuration><packageSources><clear /></packageSources></configuration>
                    """);
                var install = await run.RunAsync(run.Command(("tools", tools)), timeout: BuildTimeout);
                ExitCode(0, install);
                var version = await run.RunAsync($"'{Path.Combine(tools, "wsctl")}' --version");
                ExitCode(0, version);
                Assert.Matches(@"commit [0-9a-f]{7,}", version.Stdout);
            }),
    ];

    /// <summary>MSBuild and the compiler without servers that would outlive the command (MSBuild reads both).</summary>
    private static void NoBuildServers(ExampleRun run)
    {
        run.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        run.Environment["DOTNET_CLI_USE_MSBUILD_SERVER"] = "0";
        run.Environment["UseSharedCompilation"] = "false";
    }

    /// <summary>
    /// Runs the dotnet pack example once per class, in a temporary directory kept with the class's fixtures; returns
    /// that directory (out/pkg is in it).
    /// </summary>
    private static async Task<string> PackedAsync(ExampleRun run)
    {
        await run.Shared.Gate.WaitAsync();
        try
        {
            if (run.Shared.Items.TryGetValue(PackText, out var done))
                return ((TemporaryDirectory)done).Path;
            var directory = new TemporaryDirectory("wsctl-pack-");
            run.Shared.Items[PackText] = directory;
            await using var pack = new ExampleRun(Row(PackText), run.Shared) { CommandDirectory = directory.Path };
            NoBuildServers(pack);
            var shell = await pack.RunAsync(pack.Command(("repo", RepoPaths.Root)), timeout: BuildTimeout);
            ExitCode(0, shell);
            return directory.Path;
        }
        finally
        {
            run.Shared.Gate.Release();
        }
    }
}

/// <summary>A temporary directory, removed on dispose.</summary>
public sealed class TemporaryDirectory(string prefix) : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory(prefix).FullName;

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
