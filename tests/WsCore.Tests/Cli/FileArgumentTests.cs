using WsCore.Tests.Support;

namespace WsCore.Tests.Cli;

/// <summary>
/// Every option that reads a file the user names, given a directory and then a path that does not exist: exit 1
/// before anything is contacted, one line naming the path and what is wrong with it, never .NET's "Access to the
/// path is denied" (which it says of a directory, though nothing is denied) and never a stack trace.
/// </summary>
public class FileArgumentTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(60);

    /// <summary>Each verb's command line with {0} where the file goes, and what its error starts with.</summary>
    public static TheoryData<string, string> FileOptions() => new()
    {
        { "send 127.0.0.1:9 --file {0}", "wsctl: --file: cannot read {0}: " },
        { "serve --port 0 --tls-cert {0} --tls-key {0}", "wsctl: --tls-cert: cannot read {0}: " },
        { "monitor -p socket://127.0.0.1:9 --elf {0}", "wsctl: {0}: cannot read it: " },
        { "flash --ssid MyNet --pass password123 --image 0x10000={0} --dry-run", "wsctl: --image: {0} " },
        { "device verify --image 0x10000={0} -p socket://127.0.0.1:9", "wsctl: --image: {0} " },
    };

    [Theory]
    [MemberData(nameof(FileOptions))]
    public async Task ADirectory_Exit1_SaysItIsADirectory(string command, string start)
    {
        var directory = Directory.CreateTempSubdirectory("wsctl-file-arg-");
        try
        {
            var stderr = await RunRefusedAsync(command, directory.FullName);
            Assert.StartsWith(string.Format(start, directory.FullName), stderr, StringComparison.Ordinal);
            Assert.Contains("is a directory, not a file", stderr, StringComparison.Ordinal);
        }
        finally
        {
            directory.Delete();
        }
    }

    [Theory]
    [MemberData(nameof(FileOptions))]
    public async Task AMissingFile_Exit1_SaysItDoesNotExist(string command, string start)
    {
        var missing = Path.Combine(Path.GetTempPath(), $"wsctl-missing-{Guid.NewGuid():N}", "file.bin");
        var stderr = await RunRefusedAsync(command, missing);
        Assert.StartsWith(string.Format(start, missing), stderr, StringComparison.Ordinal);
        Assert.Contains("does not exist", stderr, StringComparison.Ordinal);
    }

    private static async Task<string> RunRefusedAsync(string command, string path)
    {
        var args = string.Format(command, path).Split(' ');
        var result = await WsctlProcess.RunAsync(args, stdin: "", timeout: Limit);
        Assert.True(result.ExitCode == 1, result.All);
        Assert.Equal("", result.Stdout);
        Assert.DoesNotContain("Access to the path", result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.Stderr, StringComparison.Ordinal);
        return result.Stderr;
    }
}
