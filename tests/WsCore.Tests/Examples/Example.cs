using System.Text.RegularExpressions;
using WsCore.Tests.Support;

namespace WsCore.Tests.Examples;

/// <summary>What an example runs against; each kind's rows run in a test class of their own.</summary>
public enum ExampleFixture
{
    /// <summary>Servers on loopback (port 0), files in a temporary directory.</summary>
    Loopback,

    /// <summary>The network of <see cref="ExampleLab"/>: devices by mDNS name and at 192.168.1.40.</summary>
    Lab,

    /// <summary>A simulated ROM loader or a scripted serial console, over socket:// or a pty.</summary>
    Serial,

    /// <summary>The .NET SDK on this checkout: dotnet run, pack, tool install.</summary>
    Toolchain,
}

/// <summary>
/// One change from the example's text to the command the test runs: <paramref name="Find"/> (which must occur in
/// the text; empty: appended at the end) becomes <paramref name="Replace"/>, whose <c>{NAME}</c>s are filled with the
/// fixture's values (a port, a path), for the reason given.
/// </summary>
public sealed record Substitution(string Find, string Replace, string Why);

/// <summary>
/// A row of the table: an example's exact text, what it runs against, the substitutions made to it, what "behaves
/// as the text says" means for it, and the code that runs and checks it.
/// </summary>
public sealed record Example(
    string Text,
    ExampleFixture Fixture,
    string Needs,
    Substitution[] Substitutions,
    string Behaves,
    Func<ExampleRun, Task> Check)
{
    public override string ToString() => Text;
}

/// <summary>An example that does not run in the tests: why, and the check that the reason holds.</summary>
public sealed record Exclusion(string Text, string Reason, Action Check);

/// <summary>
/// One row's run: a temporary working directory (the examples' files go there), <c>wsctl</c> on PATH as a wrapper
/// for <c>dotnet wsctl.dll</c> (and the stand-ins the examples name, such as <c>sensor-reader</c>), a private
/// XDG_RUNTIME_DIR, and everything the row started, stopped at its end.
/// </summary>
public sealed partial class ExampleRun : IAsyncDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("wsctl-example-").FullName;
    private readonly List<object> _owned = [];

    public ExampleRun(Example row, ExampleFixtures shared)
    {
        Row = row;
        Shared = shared;
        WorkDirectory = Path.Combine(_root, "work");
        BinDirectory = Path.Combine(_root, "bin");
        Home = Path.Combine(_root, "home");
        RuntimeDirectory = Path.Combine(_root, "xdg");
        CommandDirectory = WorkDirectory;
        foreach (var dir in (string[])[WorkDirectory, BinDirectory, Home, RuntimeDirectory])
            Directory.CreateDirectory(dir);
        File.SetUnixFileMode(
            RuntimeDirectory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        Script("wsctl", $"exec dotnet '{WsctlProcess.DllPath}' \"$@\"");
        // The README's "sensor-reader | wsctl send …": a program printing one reading per line as it takes them.
        Script("sensor-reader", """for t in 21.5 21.6 21.7; do echo "{\"temp\":$t}"; done""");
        Environment = new Dictionary<string, string>
        {
            ["PATH"] = BinDirectory + ":" + System.Environment.GetEnvironmentVariable("PATH"),
            ["XDG_RUNTIME_DIR"] = RuntimeDirectory,
            ["DOTNET_NOLOGO"] = "1",
        };
    }

    public Example Row { get; }

    /// <summary>What the rows of one test class share (the lab, the packed tool).</summary>
    public ExampleFixtures Shared { get; }

    /// <summary>The working directory: the examples' files (wifi-pass.txt, build/, fw.bin) are here.</summary>
    public string WorkDirectory { get; }

    /// <summary>Where the commands run: <see cref="WorkDirectory"/> unless a row says otherwise.</summary>
    public string CommandDirectory { get; set; }

    public string BinDirectory { get; }

    /// <summary>An empty home directory, for the examples that write under ~ (HOME is the user's unless set).</summary>
    public string Home { get; }

    public string RuntimeDirectory { get; }

    /// <summary>The environment the commands run with (PATH with wsctl first, XDG_RUNTIME_DIR).</summary>
    public Dictionary<string, string> Environment { get; }

    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);

    /// <summary>
    /// The row's text with its substitutions made, each <c>{NAME}</c> filled from <paramref name="values"/>; fails
    /// when a substitution's text is not in the example (a stale row) or a value is missing.
    /// </summary>
    public string Command(params (string Name, object Value)[] values)
    {
        var command = Row.Text;
        foreach (var sub in Row.Substitutions)
        {
            var replace = Placeholder().Replace(sub.Replace, m =>
                values.FirstOrDefault(v => v.Name == m.Groups[1].Value) is { Name: not null } v
                    ? Convert.ToString(v.Value, System.Globalization.CultureInfo.InvariantCulture)!
                    : throw new InvalidOperationException($"no value for {m.Value} in '{Row.Text}'"));
            if (sub.Find.Length == 0)
            {
                command += replace;
                continue;
            }
            Assert.True(command.Contains(sub.Find, StringComparison.Ordinal),
                $"the substitution of '{sub.Find}' no longer applies to '{Row.Text}'");
            command = command.Replace(sub.Find, replace, StringComparison.Ordinal);
        }
        return command;
    }

    /// <summary>Starts <paramref name="command"/> with bash (in a lab namespace if given).</summary>
    public ShellProcess Start(string command, string? netns = null, bool keepStdinOpen = false)
    {
        var environment = new Dictionary<string, string>(Environment);
        if (netns is not null)
            environment["XDG_RUNTIME_DIR"] = Shared.Lab.RuntimeDirectoryOf(netns);
        return Own(ShellProcess.Start(command, CommandDirectory, environment, netns, keepStdinOpen));
    }

    /// <summary>Runs <paramref name="command"/> to its end (within <paramref name="timeout"/>).</summary>
    public async Task<ShellProcess> RunAsync(string command, string? netns = null, TimeSpan? timeout = null)
    {
        var shell = Start(command, netns);
        await shell.WaitForExitAsync(timeout ?? Timeout);
        return shell;
    }

    /// <summary>Keeps <paramref name="thing"/> (IDisposable or IAsyncDisposable) to dispose at the row's end.</summary>
    public T Own<T>(T thing) where T : notnull
    {
        lock (_owned)
            _owned.Add(thing);
        return thing;
    }

    /// <summary>Writes a file into the working directory.</summary>
    public string WriteFile(string name, string text)
    {
        var path = Path.Combine(WorkDirectory, name);
        File.WriteAllText(path, text);
        return path;
    }

    private void Script(string name, string body)
    {
        var path = Path.Combine(BinDirectory, name);
        File.WriteAllText(path, "#!/bin/sh\n" + body + "\n");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    public async ValueTask DisposeAsync()
    {
        List<object> owned;
        lock (_owned)
            owned = [.. _owned];
        owned.Reverse();
        foreach (var thing in owned)
        {
            if (thing is IAsyncDisposable asyncDisposable)
                await asyncDisposable.DisposeAsync();
            else if (thing is IDisposable disposable)
                disposable.Dispose();
        }
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    [GeneratedRegex(@"\{([A-Za-z]+)\}")]
    private static partial Regex Placeholder();
}

/// <summary>
/// What the rows of one test class share, made when a row first needs it and removed after the class: the
/// namespace lab, and the tool package <c>dotnet pack</c> made.
/// </summary>
public sealed class ExampleFixtures : IAsyncLifetime
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private ExampleLab? _lab;

    /// <summary>The lab, created on first use.</summary>
    public async Task<ExampleLab> LabAsync()
    {
        await _gate.WaitAsync();
        try
        {
            return _lab ??= await ExampleLab.CreateAsync();
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>The lab made by <see cref="LabAsync"/>.</summary>
    public ExampleLab Lab => _lab ?? throw new InvalidOperationException("no lab: call LabAsync first");

    /// <summary>Held while a row makes or takes one of <see cref="Items"/>.</summary>
    public SemaphoreSlim Gate { get; } = new(1, 1);

    /// <summary>Anything else a row leaves for another (by name), e.g. the directory dotnet pack wrote.</summary>
    public Dictionary<string, object> Items { get; } = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_lab is not null)
            await _lab.DisposeAsync();
        foreach (var item in Items.Values)
        {
            if (item is IAsyncDisposable asyncDisposable)
                await asyncDisposable.DisposeAsync();
            else if (item is IDisposable disposable)
                disposable.Dispose();
        }
    }
}
