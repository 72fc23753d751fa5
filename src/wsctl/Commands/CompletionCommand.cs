using System.CommandLine;
using Wsctl.Cli;

namespace Wsctl.Commands;

/// <summary>
/// <c>wsctl completion SHELL</c>: prints the completion script for a shell, generated from the command tree.
/// </summary>
public static class CompletionCommand
{
    public static Command Create()
    {
        var shell = new Argument<string>("shell") { Description = "bash, zsh, fish or pwsh" };
        shell.CompletionSources.Add([.. CompletionScripts.Shells]);
        shell.Validators.Add(result =>
        {
            foreach (var token in result.Tokens.Where(t => !CompletionScripts.Shells.Contains(t.Value)))
                result.AddError($"shell: expected one of {string.Join(", ", CompletionScripts.Shells)}, got " +
                    $"{Options.Quote(token.Value)}");
        });
        var command = new Command("completion", HelpText.Describe(
            "Print the shell completion script for bash, zsh, fish or PowerShell.",
            [
                "mkdir -p ~/.local/share/bash-completion/completions && wsctl completion bash > " +
                    "~/.local/share/bash-completion/completions/wsctl",
                "mkdir -p ~/.zfunc && wsctl completion zsh > ~/.zfunc/_wsctl   # with fpath+=(~/.zfunc) before " +
                    "compinit in ~/.zshrc",
                "mkdir -p ~/.config/fish/completions && wsctl completion fish > ~/.config/fish/completions/wsctl.fish",
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
