using System.CommandLine;
using Wsctl.Cli;

namespace Wsctl.Commands;

/// <summary><c>wsctl completion SHELL</c>: prints the completion script for a shell, generated from the command tree.</summary>
public static class CompletionCommand
{
    public static Command Create()
    {
        var shell = new Argument<string>("shell") { Description = "bash, zsh, fish or pwsh" }
            .AcceptOnlyFromAmong([.. CompletionScripts.Shells]);
        var command = new Command("completion", HelpText.Describe(
            "Print the shell completion script for bash, zsh, fish or PowerShell.",
            [
                "wsctl completion bash > ~/.local/share/bash-completion/completions/wsctl",
                "wsctl completion zsh > \"${fpath[1]}/_wsctl\"",
                "wsctl completion fish > ~/.config/fish/completions/wsctl.fish",
            ],
            ExitCode.Ok, ExitCode.Usage))
        {
            shell,
        };
        command.SetAction(parse =>
        {
            var tree = CommandTree.Read(parse.RootCommandResult.Command);
            Console.Out.Write(CompletionScripts.Generate(parse.GetValue(shell)!, tree));
            return (int)ExitCode.Ok;
        });
        return command;
    }
}
