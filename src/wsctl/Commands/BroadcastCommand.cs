using System.CommandLine;
using Wsctl.Cli;
using Wsctl.Send;

namespace Wsctl.Commands;

/// <summary><c>wsctl broadcast</c>: one message to every client of a running serve, or to many devices.</summary>
public static class BroadcastCommand
{
    public static Command Create()
    {
        var message = new Argument<string?>("MESSAGE")
        {
            Description = "The text to send; '-' or none reads stdin (serve: one message per line).",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var port = Options.Port("The port of the wsctl serve whose clients get the message.", 8080);
        var list = new Option<bool>("--list")
        {
            Description = "List the clients of the serve on --port (id, address, since, messages in/out)."
        };
        var to = new Option<string[]>("--to")
        {
            Description = $"Send to this device or server instead (repeatable): {SharedOptions.TargetForms}.",
            HelpName = "TARGET",
        };
        var discover = new Option<bool>("--discover")
        {
            Description = "Send to every _ws._tcp device found by mDNS on the link (browses for min(--timeout, 3 s)).",
        };
        var parallel = Options.Integer("--parallel", "With --to: at most this many targets at once.", 16, 1, 1024);
        var messageOptions = new MessageOptions();
        var timeout = SharedOptions.Timeout("With --to: the limit for each target.", TimeSpan.FromSeconds(10));
        var json = SharedOptions.Json("the results (or the clients, with --list)");
        var insecure = SharedOptions.Insecure();
        var pin = SharedOptions.Pin();
        var compress = SharedOptions.Compress();

        var command = new Command("broadcast", HelpText.Describe(
            "Send a message to every client of a running wsctl serve (the shell's ws_send with index -1) and print " +
            "how many received it; or, with --to, to many devices at once, one result line per target.",
            [
                "wsctl broadcast '{\"cmd\":\"reboot\"}' --port 8080",
                "wsctl broadcast 'fw=1.2' --to esp32-a.local --to esp32-b.local --json",
                "wsctl broadcast '{\"cmd\":\"led\",\"on\":false}' --discover",
            ],
            ExitCode.Ok, ExitCode.Usage, ExitCode.Failure, ExitCode.NameNotResolved, ExitCode.ConnectFailed,
            ExitCode.HandshakeRejected, ExitCode.Timeout, ExitCode.ConnectionEnded, ExitCode.Tls, ExitCode.Partial,
            ExitCode.Interrupted))
        {
            message, port, list, to, discover, parallel, timeout, json, insecure, pin, compress,
        };
        command.PinExcludesInsecure(pin, insecure);
        messageOptions.AddTo(command);

        command.SetAction((parse, cancel) => VerbRunner.RunAsync(parse, cancel, (log, token) =>
            BroadcastSession.RunAsync(new BroadcastSettings(
                parse.GetValue(port),
                parse.GetValue(list),
                parse.GetValue(to) ?? [],
                parse.GetValue(discover),
                parse.GetValue(parallel),
                parse.GetValue(timeout),
                parse.GetValue(json),
                parse.GetValue(insecure),
                parse.GetValue(pin),
                MessageGiven: parse.GetValue(message) is not null,
                Compress: parse.GetValue(compress),
                ReadMessages: () => messageOptions.Read(parse, parse.GetValue(message))),
                log, Console.OpenStandardOutput(), token)));
        return command;
    }
}
