using System.Diagnostics;
using WsCore.Tests.Support;
using Wsctl.Cli;

namespace WsCore.Tests.Repository;

/// <summary>Every source line in the repository is at most 120 characters (issue 17).</summary>
public class LineWidthTests
{
    private const int MaxLength = 120;

    private static readonly string[] Extensions = [".cs", ".c", ".h", ".sh", ".py", ".csproj", ".props", ".targets"];

    private static readonly string[] SkippedDirectories = ["bin", "obj", "build", "node_modules", ".git"];

    [Fact]
    public void SourceLines_AreAtMost120Characters()
    {
        var files = SourceFiles();
        Assert.NotEmpty(files);
        var tooLong = new List<string>();
        foreach (var file in files)
        {
            var lines = File.ReadAllLines(Path.Combine(RepoPaths.Root, file));
            for (var i = 0; i < lines.Length; i++)
            {
                if (lines[i].Length > MaxLength)
                    tooLong.Add($"{file}:{i + 1} ({lines[i].Length} characters)");
            }
        }
        Assert.True(tooLong.Count == 0,
            $"{tooLong.Count} lines are longer than {MaxLength} characters:\n" + string.Join("\n", tooLong));
    }

    /// <summary>The tracked source files (git ls-files), or without git, the files under the repository root.</summary>
    private static List<string> SourceFiles()
    {
        var tracked = GitLsFiles();
        var all = tracked ?? Directory.EnumerateFiles(RepoPaths.Root, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(RepoPaths.Root, f).Replace('\\', '/'))
            .Where(f => !f.Split('/').SkipLast(1).Any(d => SkippedDirectories.Contains(d)))
            .ToList();
        return all
            .Where(f => Extensions.Contains(Path.GetExtension(f)) && File.Exists(Path.Combine(RepoPaths.Root, f)))
            .Order(StringComparer.Ordinal)
            .ToList();
    }

    private static List<string>? GitLsFiles()
    {
        try
        {
            var start = new ProcessStartInfo("git", ["ls-files", "-z"])
            {
                WorkingDirectory = RepoPaths.Root,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            using var git = Process.Start(start);
            if (git is null)
                return null;
            var stderr = git.StandardError.ReadToEndAsync();
            var output = git.StandardOutput.ReadToEnd();
            git.WaitForExit();
            _ = stderr.Result;
            if (git.ExitCode != 0)
                return null;
            return output.Split('\0', StringSplitOptions.RemoveEmptyEntries).ToList();
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null; // no git: walk the directories instead
        }
    }
}
