using System.CommandLine;
using Wsctl.Cli;
using Wsctl.Commands;

namespace Wsctl;

/// <summary>Builds the command tree. Each verb lives in its own file under Commands/.</summary>
public static class WsctlCommand
{
    public static RootCommand Create()
    {
        var root = new RootCommand(
            "wsctl: serve, talk to, probe, benchmark, flash, update and monitor ESP32 WebSocket devices.\n\n" +
                ExitCodes.Describe() +
            "\n\nLogs go to stderr; stdout carries each verb's output only.");
        GlobalOptions.AddTo(root);
        VersionInfo.Install(root);
        // Verbs, in the order --help lists them.
        root.Subcommands.Add(ServeCommand.Create());
        root.Subcommands.Add(SendCommand.Create());
        root.Subcommands.Add(BroadcastCommand.Create());
        root.Subcommands.Add(ProbeCommand.Create());
        root.Subcommands.Add(FlashCommand.Create());
        root.Subcommands.Add(ProvisionCommand.Create());
        root.Subcommands.Add(OtaCommand.Create());
        root.Subcommands.Add(MonitorCommand.Create());
        root.Subcommands.Add(DeviceCommand.Create());
        root.Subcommands.Add(BenchCommand.Create());
        root.Subcommands.Add(CompletionCommand.Create());
        HelpPrinter.Install(root);
        return root;
    }
}
