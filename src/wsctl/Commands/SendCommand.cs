using System.CommandLine;
using System.Text.RegularExpressions;
using WsCore;
using WsCore.Mdns;
using WsCore.WebSockets.Client;
using Wsctl.Cli;
using Wsctl.Send;

namespace Wsctl.Commands;

/// <summary><c>wsctl send</c>: send messages to a device or server (or to one client of a running serve).</summary>
public static class SendCommand
{
    public static Command Create()
    {
        var target = SharedOptions.Target("With --client: the MESSAGE.", optional: true);
        var message = new Argument<string?>("MESSAGE")
        {
            Description = "The text to send; '-' or none reads stdin, one message per line, each sent as it arrives.",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var messageOptions = new MessageOptions();
        var wait = Options.Integer(
            "--wait",
            "Then print the next N messages received (a count; --timeout bounds the time).",
            0,
            0,
            int.MaxValue);
        var waitFor = new Option<string?>("--wait-for")
        {
            Description = "Then wait for a message matching this regular expression, and print it.",
            HelpName = "REGEX",
        };
        var timeout = SharedOptions.Timeout("Limit for each network step (connect and handshake, waiting, close); " +
            "when given, also for the whole run, stdin included.", TimeSpan.FromSeconds(10));
        var json = SharedOptions.Json("received messages and the result");
        var header = new Option<string[]>("--header")
        {
            Description = "Add a request header (repeatable).",
            HelpName = "NAME:VALUE",
            AllowMultipleArgumentsPerToken = false,
        };
        var subprotocol = new Option<string[]>("--subprotocol")
        {
            Description = "Offer a subprotocol (repeatable).",
            HelpName = "NAME"
        };
        var origin = new Option<string?>("--origin")
        {
            Description = "Send an Origin header, as a browser would.",
            HelpName = "ORIGIN"
        };
        var insecure = SharedOptions.Insecure();
        var client = Options.OptionalInteger(
            "--client",
            "Send to this client of the wsctl serve on --port (ids are in serve's open events and broadcast --list).",
            1,
            int.MaxValue,
            "ID");
        var port = Options.Port("With --client: the port of the wsctl serve to use.", 8080);

        waitFor.Validators.Add(r =>
        {
            var pattern = r.GetValueOrDefault<string?>();
            if (pattern is not null && !IsRegex(pattern))
                r.AddError($"--wait-for: expected a regular expression, got {Options.Quote(pattern)}");
        });
        header.Validators.Add(r =>
        {
            foreach (var h in r.GetValueOrDefault<string[]>() ?? [])
                if (h.IndexOf(':') <= 0)
                    r.AddError($"--header: expected NAME:VALUE, got {Options.Quote(h)}");
        });

        var command = new Command("send", HelpText.Describe(
            "Send messages to a WebSocket device or server, then optionally wait for replies; closes with 1000 when " +
            "done. With --client, sends through a running wsctl serve to one of its clients.",
            [
                "wsctl send esp32ws.local '{\"cmd\":\"led\",\"on\":true}' --wait 1",
                "sensor-reader | wsctl send ws://192.168.1.40:8080/",
                "wsctl send --client 2 'hello, client 2' --port 8080",
            ],
            ExitCode.Ok, ExitCode.Usage, ExitCode.Failure, ExitCode.NameNotResolved, ExitCode.ConnectFailed,
            ExitCode.HandshakeRejected, ExitCode.Timeout, ExitCode.ConnectionEnded, ExitCode.Tls, ExitCode.Interrupted))
        {
            target, message, wait, waitFor, timeout, json, header, subprotocol, origin, insecure, client, port,
        };
        messageOptions.AddTo(command);

        command.SetAction((parse, cancel) => VerbRunner.RunAsync(parse, cancel, async (log, token) =>
        {
            var first = parse.GetValue(target);
            var second = parse.GetValue(message);
            var clientId = parse.GetValue(client);
            if (clientId is not null && second is not null)
                throw new WsCoreException(
                    FailureKind.InvalidInput, "with --client, give only MESSAGE (the serve is chosen by --port)");
            var text = clientId is null ? second : first;
            var outgoing = messageOptions.Read(parse, text);
            var stdout = Console.OpenStandardOutput();
            if (clientId is { } id)
                return await SendSession.ToServeClientAsync(
                    parse.GetValue(port), id, outgoing, parse.GetValue(json), stdout, token);
            if (first is null)
                throw new WsCoreException(
                    FailureKind.InvalidInput,
                    "TARGET is missing",
                    "wsctl send ws://HOST:PORT/ MESSAGE, or --client ID MESSAGE");

            var waitPattern = parse.GetValue(waitFor);
            var limit = parse.GetValue(timeout);
            var timeoutGiven = parse.GetResult(timeout) is { Implicit: false };
            var settings = new SendSettings(
                WebSocketTarget.Parse(first).Uri,
                outgoing,
                parse.GetValue(wait),
                waitPattern is null ? null : new Regex(waitPattern, RegexOptions.None, TimeSpan.FromSeconds(1)),
                limit,
                timeoutGiven ? limit : null,
                parse.GetValue(json),
                new WebSocketClientOptions
                {
                    Headers = (parse.GetValue(header) ?? []).Select(SplitHeader).ToList(),
                    Subprotocols = parse.GetValue(subprotocol) ?? [],
                    Origin = parse.GetValue(origin),
                    AllowUntrustedCertificate = parse.GetValue(insecure),
                    // NAME.local by WsCore's own mDNS querier: works without nss-mdns (issue "mDNS").
                    Resolve = new HostResolver(log).ForClient(limit),
                });
            return await SendSession.RunAsync(settings, log, stdout, token);
        }));
        return command;
    }

    private static KeyValuePair<string, string> SplitHeader(string header)
    {
        var colon = header.IndexOf(':');
        return new(header[..colon].Trim(), header[(colon + 1)..].Trim());
    }

    private static bool IsRegex(string pattern)
    {
        try
        {
            _ = new Regex(pattern);
            return true;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}
