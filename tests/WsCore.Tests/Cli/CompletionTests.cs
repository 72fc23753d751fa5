using System.Diagnostics;
using WsCore.Tests.Support;
using Wsctl;
using Wsctl.Cli;

namespace WsCore.Tests.Cli;

public class CompletionTests
{
    private static readonly Dictionary<string, string> CommittedFile = new()
    {
        ["bash"] = "wsctl.bash",
        ["zsh"] = "_wsctl",
        ["fish"] = "wsctl.fish",
        ["pwsh"] = "wsctl.ps1",
    };

    private static string Generate(string shell) => CompletionScripts.Generate(
        shell, CommandTree.Read(WsctlCommand.Create()));

    [Theory]
    [InlineData("bash")]
    [InlineData("zsh")]
    [InlineData("fish")]
    [InlineData("pwsh")]
    public void CommittedCompletionFile_EqualsWhatTheCommandTreeGenerates(string shell)
    {
        var path = RepoPaths.Combine("completions", CommittedFile[shell]);
        Assert.True(File.Exists(path), $"{path} is missing: run scripts/update-completions.sh");
        Assert.True(File.ReadAllText(path) == Generate(shell),
            $"completions/{CommittedFile[shell]} differs from `wsctl completion {shell}`: run " +
                "scripts/update-completions.sh");
    }

    [Fact]
    public void CommandTree_EveryVerbIsInTheTree_AndEveryOptionHasADescription()
    {
        var root = CommandTree.Read(WsctlCommand.Create());
        Assert.Contains(root.Subcommands, c => c.Key == "completion");
        foreach (var command in CommandTree.Flatten(root))
            foreach (var option in command.Options)
                Assert.False(
                    string.IsNullOrWhiteSpace(option.Description),
                    $"{command.Key} {option.Names[0]} has no description");
    }

    /// <summary>Runs the generated bash script in a real bash, as bash's programmable completion calls it.</summary>
    private static string CompleteInBash(string line)
    {
        var script = Path.GetTempFileName();
        File.WriteAllText(script, Generate("bash"));
        try
        {
            var psi = new ProcessStartInfo("bash", ["--norc", "--noprofile", "-c", """
                source "$1"; line="$2"
                read -ra COMP_WORDS <<<"$line"; [[ $line == *" " ]] && COMP_WORDS+=("")
                COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 )); COMP_LINE="$line"; COMP_POINT=${#line}
                _wsctl wsctl "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
                echo "${COMPREPLY[*]}"
                """, "_", script, line])
            { RedirectStandardOutput = true, RedirectStandardError = true };
            using var bash = Process.Start(psi)!;
            var output = bash.StandardOutput.ReadToEnd();
            Assert.True(bash.WaitForExit(10_000), "bash did not finish");
            return output.Trim();
        }
        finally
        {
            File.Delete(script);
        }
    }

    [Theory]
    [InlineData("wsctl comp", "completion")]
    [InlineData("wsctl completion ", "bash zsh fish pwsh")]
    [InlineData("wsctl --log-format ", "json text")]
    [InlineData("wsctl completion --log", "--log-format")]
    [InlineData("wsctl --log-format json comp", "completion")]
    [InlineData("wsctl fl", "flash")]
    [InlineData("wsctl flash --be", "--before")]
    [InlineData("wsctl flash --before ", "default-reset no-reset")]
    [InlineData("wsctl flash --after ", "hard-reset no-reset")]
    [InlineData("wsctl flash --chip ", "auto esp32")]
    [InlineData("wsctl flash --port ", "auto socket://")]
    [InlineData("wsctl flash -p socket://x:1 --be", "--before")]
    [InlineData("wsctl mon", "monitor")]
    [InlineData("wsctl monitor --un", "--until")]
    [InlineData("wsctl monitor --port ", "auto socket://")]
    [InlineData("wsctl flash --mon", "--monitor")]
    public void BashCompletion_InARealBash_OffersVerbsOptionsAndValues(string line, string expected)
    {
        var offered = CompleteInBash(line).Split(' ', StringSplitOptions.RemoveEmptyEntries);
        foreach (var word in expected.Split(' '))
            Assert.Contains(word, offered);
    }

    [Theory]
    [InlineData("zsh", "-n")]
    [InlineData("fish", "--no-execute")]
    public void GeneratedScript_ParsesInItsShell(string shell, string checkFlag)
    {
        var script = Path.GetTempFileName();
        File.WriteAllText(script, Generate(shell));
        try
        {
            var psi = new ProcessStartInfo(shell, [checkFlag, script]) { RedirectStandardError = true };
            using var process = Process.Start(psi)!;
            var errors = process.StandardError.ReadToEnd();
            Assert.True(process.WaitForExit(10_000));
            Assert.True(process.ExitCode == 0, $"{shell} rejects the script: {errors}");
        }
        finally
        {
            File.Delete(script);
        }
    }
}
