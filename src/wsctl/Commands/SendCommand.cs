using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using WsCore;
using WsCore.Mdns;
using WsCore.Targets;
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
        var wait = new Option<SendWait>("--wait")
        {
            Description = "After sending, wait: N messages (counted from the connection's start), or a DURATION " +
                "such as 3s, printing what arrives (wscat's -w). Then close.",
            HelpName = "N|DURATION",
            DefaultValueFactory = _ => SendWait.None,
            CustomParser = ParseWait,
        };
        var waitFor = new Option<string?>("--wait-for")
        {
            Description = "After sending, wait for a message matching this regular expression (text, or binary as " +
                "base64), then close.",
            HelpName = "REGEX",
        };
        var listen = new Option<bool>("--listen", "-l")
        {
            Description = "After sending (or with nothing to send), print what arrives until the server closes " +
                "(exit 0) or --timeout.",
        };
        var raw = new Option<bool>("--raw")
        {
            Description = "Print received text as it came, control characters included (by default they are " +
                "escaped, so no message can forge a line or drive the terminal).",
        };
        var timeout = SharedOptions.Timeout("Limit for each network step (connect and handshake, waiting, close); " +
            "when given, also for the whole run, stdin included.", TimeSpan.FromSeconds(10));
        var json = SharedOptions.Json("each received message, and a result object last");
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
        var pin = SharedOptions.Pin();
        var compress = SharedOptions.Compress();
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
            if (pattern is not null && UserPattern.TryParse(pattern, ReceiveLoop.MatchTimeLimit, out var error) is null)
                r.AddError($"--wait-for: expected a regular expression, got {Options.Quote(pattern)} ({error})");
        });
        header.Validators.Add(r =>
        {
            foreach (var h in r.GetValueOrDefault<string[]>() ?? [])
                if (h.IndexOf(':') <= 0)
                    r.AddError($"--header: expected NAME:VALUE, got {Options.Quote(h)}");
        });

        var command = new Command("send", HelpText.Describe(
            "Send messages to a WebSocket device or server and print what it sends back as it arrives; then wait " +
            "as asked and close with 1000. MESSAGE, or stdin's lines; on a terminal without MESSAGE, an " +
            "interactive session (type lines; /ping, /close [CODE [REASON]], Ctrl-D to end). With -q, only the " +
            "messages a wait asks for are printed (the first N of --wait N, the match of --wait-for, all of --wait " +
            "DURATION and --listen; at a terminal, all). With --client, sends through a running wsctl " +
            "serve to one of its clients.",
            [
                "wsctl send esp32ws.local '{\"cmd\":\"led\",\"on\":true}' --wait 1",
                "wsctl send ws://192.168.1.40:8080/",
                "sensor-reader | wsctl send ws://192.168.1.40:8080/",
                "wsctl send esp32ws.local --listen --json < /dev/null",
                "wsctl send localhost:8080 'hello' --wait 3s",
                "wsctl send --client 2 'hello, client 2' --port 8080",
            ],
            ExitCode.Ok, ExitCode.Usage, ExitCode.Failure, ExitCode.NameNotResolved, ExitCode.ConnectFailed,
            ExitCode.HandshakeRejected, ExitCode.Timeout, ExitCode.ConnectionEnded, ExitCode.Tls, ExitCode.Interrupted))
        {
            target, message, wait, waitFor, listen, timeout, json, raw, header, subprotocol, origin, insecure, pin,
            compress,
            client, port,
        };
        command.PinExcludesInsecure(pin, insecure);
        messageOptions.AddTo(command);
        command.Validators.Add(r =>
        {
            var given = new Option[] { wait, waitFor, listen }.Where(o => r.GetResult(o) is { Implicit: false })
                .Select(o => o.Name).ToList();
            if (given.Count > 1)
                r.AddError($"{string.Join(" and ", given)} exclude each other: give one way to wait.");
            if (r.GetResult(json) is { Implicit: false } && r.GetResult(raw) is { Implicit: false })
                r.AddError("--json and --raw exclude each other (JSON output is escaped by its format).");
        });

        command.SetAction((parse, cancel) => VerbRunner.RunAsync(parse, cancel, async (log, token) =>
        {
            var first = parse.GetValue(target);
            var second = parse.GetValue(message);
            var clientId = parse.GetValue(client);
            if (clientId is not null && second is not null)
                throw new WsCoreException(
                    FailureKind.InvalidInput, "with --client, give only MESSAGE (the serve is chosen by --port)");
            var text = clientId is null ? second : first;
            var stdout = WatchedOutput.Open();
            if (clientId is { } id)
                return await ServeClientSend.RunAsync(
                    parse.GetValue(port), id, messageOptions.Read(parse, text), parse.GetValue(json), stdout, token);
            if (first is null)
                throw new WsCoreException(
                    FailureKind.InvalidInput,
                    "TARGET is missing",
                    "wsctl send ws://HOST:PORT/ MESSAGE, or --client ID MESSAGE");

            var listening = parse.GetValue(listen);
            // A person at a terminal with nothing given to send: an interactive session. --listen there only
            // listens; stdin's lines are read only from a pipe or file (or with MESSAGE '-').
            var terminal = !Console.IsInputRedirected && text is null && !messageOptions.ReadsStdinWhole(parse);
            var outgoing = terminal && listening ? Outgoing.Nothing : messageOptions.Read(parse, text);
            var waitPattern = parse.GetValue(waitFor);
            var sendWait = listening ? new SendWait(WaitKind.Listen)
                : waitPattern is not null
                    ? new SendWait(
                        WaitKind.Match, Pattern: UserPattern.TryParse(waitPattern, ReceiveLoop.MatchTimeLimit, out _))
                    : parse.GetValue(wait)!;
            var limit = parse.GetValue(timeout);
            var timeoutGiven = parse.GetResult(timeout) is { Implicit: false };
            var settings = new SendSettings(
                WebSocketTarget.Parse(first).Uri,
                outgoing,
                sendWait,
                limit,
                timeoutGiven ? limit : null,
                parse.GetValue(json) ? ReceivedStyle.Json : parse.GetValue(raw) ? ReceivedStyle.Raw
                    : ReceivedStyle.Plain,
                parse.GetValue(GlobalOptions.Quiet),
                terminal && !listening,
                new WebSocketClientOptions
                {
                    Headers = (parse.GetValue(header) ?? []).Select(SplitHeader).ToList(),
                    Subprotocols = parse.GetValue(subprotocol) ?? [],
                    Origin = parse.GetValue(origin),
                    AllowUntrustedCertificate = parse.GetValue(insecure),
                    CertificatePin = parse.GetValue(pin),
                    Compression = parse.GetValue(compress),
                    // NAME.local by WsCore's own mDNS querier: works without nss-mdns.
                    Resolve = new HostResolver(log).ForClient(limit),
                });
            return await SendSession.RunAsync(settings, log, stdout, token);
        }));
        return command;
    }

    // --wait N (a count: bare digits) or --wait DURATION (with a unit: 500ms, 3s, 1m).
    private static SendWait ParseWait(ArgumentResult result)
    {
        var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var count))
            return count == 0 ? SendWait.None : new SendWait(WaitKind.Count, Count: count);
        if (Duration.TryParse(text, out var time) && time > TimeSpan.Zero)
            return new SendWait(WaitKind.Time, Time: time);
        result.AddError($"--wait: expected a number of messages (1) or a duration (3s, 500ms), got " +
            Options.Quote(text));
        return SendWait.None;
    }

    private static KeyValuePair<string, string> SplitHeader(string header)
    {
        var colon = header.IndexOf(':');
        return new(header[..colon].Trim(), header[(colon + 1)..].Trim());
    }
}
