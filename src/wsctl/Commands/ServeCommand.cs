using System.CommandLine;
using System.Net;
using WsCore.WebSockets.Server;
using Wsctl.Cli;
using Wsctl.Serve;

namespace Wsctl.Commands;

/// <summary><c>wsctl serve</c>: the ESP32 firmware's WebSocket server, on a workstation.</summary>
public static class ServeCommand
{
    public static Command Create()
    {
        var port = Options.Port("TCP port to listen on (0: any free port).", 8080, allowZero: true);
        var bind = new Option<string?>("--bind")
        {
            Description = "Address to listen on (default: every IPv4 and IPv6 address; 0.0.0.0 for IPv4 only, " +
                "127.0.0.1 for this machine only).",
            HelpName = "ADDR",
        };
        var maxClients = Options.Integer("--max-clients",
            "Most WebSocket clients at once; one more gets HTTP 503 with Retry-After.", 5, 1, 100_000);
        var maxMessage = Options.Integer("--max-message",
            "Largest message in bytes (summed over fragments); larger ones close the client with 1009.",
            65_536, 1, 1 << 30, "BYTES");
        var counterInterval = Options.Duration("--counter-interval",
            "How often to broadcast the counter {\"type\":\"message\",\"data\":{\"sensor\":\"counter\",\"value\":N}} " +
            "(0 or --no-counter turns it off, as counter_ms 0 does on the device).", TimeSpan.FromSeconds(5));
        var noCounter = new Option<bool>("--no-counter") { Description = "Do not broadcast the counter." };
        var pingInterval = Options.Duration("--ping-interval",
            "Ping clients silent this long; drop those silent for another interval (0: never).",
            TimeSpan.FromSeconds(30));
        var noPage = new Option<bool>("--no-page")
        {
            Description = "Do not serve the test page (plain GET gets 404).",
        };
        var echo = new Option<bool>("--echo") { Description = "Send every message back to its sender." };
        var relay = new Option<bool>("--relay")
        {
            Description = "Send every message to every client, sender included.",
        };
        var json = SharedOptions.Json("every event (open, text, binary, close)");
        var noPrint = new Option<bool>("--no-print")
        {
            Description = "Print nothing on stdout (benchmarks, conformance runs); events still go to the log.",
        };
        var raw = new Option<bool>("--raw")
        {
            Description = "Print received text as it came, control characters included (by default they are " +
                "escaped: one message is one line, and no client can drive the terminal).",
        };
        var mdnsName = new Option<string?>("--mdns-name")
        {
            Description = "Advertise by mDNS as NAME.local with a _ws._tcp service (like the firmware), so " +
                "'wsctl probe NAME.local' finds it; goodbye records on exit. Off by default.",
            HelpName = "NAME",
        };
        var allowOrigin = new Option<string[]>("--allow-origin")
        {
            Description = "Let pages from this origin (e.g. https://dash.example.com) connect; repeatable; * for " +
                "any, null for sandboxed pages and files. Always allowed: no Origin (devices, scripts), pages on " +
                "localhost, and the test page itself when opened by address, localhost, this machine's name or " +
                "--mdns-name (not by another name: DNS rebinding). Others get 403.",
            HelpName = "ORIGIN",
        };
        var maxPending = Options.Integer("--max-pending",
            "Most connections in their opening handshake at once; one more closes the oldest (a flood of half-open " +
            "connections stays bounded).",
            64, 1, 10_000);
        var tlsCert = new Option<string?>("--tls-cert")
        {
            Description = "Serve wss:// (and the page over https://) with this PEM certificate file: the server's " +
                "certificate, then any intermediates. Needs --tls-key. SIGHUP reloads both files (new connections " +
                "get the new certificate; if they do not load, the old one stays and the log says why).",
            HelpName = "FILE",
        };
        var tlsKey = new Option<string?>("--tls-key")
        {
            Description = "The private key of --tls-cert's certificate: a PEM file, RSA or ECDSA, not encrypted.",
            HelpName = "FILE",
        };
        var tlsSelfSigned = new Option<bool>("--tls-self-signed")
        {
            Description = "Serve wss:// and https:// with a certificate made at start (ECDSA P-256, valid 30 days) " +
                "for localhost, this host's name, 127.0.0.1, ::1, the --bind address and the --mdns-name; its " +
                "SHA-256 fingerprint is logged at start, for clients to pin (wsctl send --pin).",
        };
        var compress = new Option<bool>("--compress")
        {
            Description = "Accept permessage-deflate (RFC 7692) from clients that offer it (browsers do): messages " +
                "to and from them are compressed; a message that inflates beyond --max-message closes its client " +
                "with 1009. Off by default, like the firmware (about 300 KB of memory per compressing client).",
        };
        var mdnsInterface = new Option<string?>("--interface")
        {
            Description = "With --mdns-name: advertise on this network interface only (default: every " +
                "multicast-capable one that is up).",
            HelpName = "IFACE",
        };

        bind.Validators.Add(r =>
        {
            var text = r.Tokens.Count > 0 ? r.Tokens[0].Value : null;
            if (text is not null && !TryParseBind(text, out _))
                r.AddError($"--bind: expected an IP address (or localhost, any), got {Options.Quote(text)}");
        });

        var cluster = new ClusterCliOptions();
        var command = new Command("serve", HelpText.Describe(
            "Run a WebSocket server like the ESP32 firmware's: port 8080, at most 5 clients (one more gets 503), a " +
            "JSON counter broadcast every 5 s, and a test page at http://HOST:PORT/. Received messages go to stdout, " +
            "one per line; each line on stdin is sent to every client. Ctrl-C or SIGTERM closes every client with " +
            "1001 and exits 0.",
            [
                "wsctl serve                                   # like the device; open http://localhost:8080/",
                "wsctl serve --port 0 --echo --no-counter      # an echo server on a free port",
                "wsctl serve --json --counter-interval 1s > events.jsonl",
                "wsctl serve --mdns-name benchhost             # then: wsctl probe benchhost.local",
                "wsctl serve --tls-self-signed                 # wss:// and https://localhost:8080/",
                "wsctl serve --tls-cert fullchain.pem --tls-key privkey.pem    # kill -HUP reloads them",
                "wsctl serve --port 8081 --cluster redis://127.0.0.1:6379   # one instance of several as one",
            ],
            ExitCode.Ok, ExitCode.Usage, ExitCode.Failure, ExitCode.ConnectFailed, ExitCode.Tls))
        {
            port, bind, maxClients, maxMessage, counterInterval, noCounter, pingInterval, noPage, echo, relay, json,
            noPrint, raw, mdnsName, mdnsInterface, allowOrigin, maxPending, tlsCert, tlsKey, tlsSelfSigned, compress,
        };
        cluster.AddTo(command);
        allowOrigin.Validators.Add(r =>
        {
            foreach (var token in r.Tokens)
                if (token.Value is not ("*" or "null") && !OriginPolicy.IsWebOrigin(token.Value))
                    r.AddError("--allow-origin: expected an origin such as https://host[:port] (or *), got " +
                        Options.Quote(token.Value));
        });
        command.Validators.Add(r =>
        {
            if (r.GetValue(echo) && r.GetValue(relay))
                r.AddError("--echo and --relay exclude each other.");
            if (r.GetResult(json) is { Implicit: false } && r.GetResult(raw) is { Implicit: false })
                r.AddError("--json and --raw exclude each other (JSON output is escaped by its format).");
        });
        command.RequireWith(mdnsName, mdnsInterface);
        command.RequireWith(tlsCert, tlsKey);
        command.Validators.Add(r =>
        {
            if (r.GetResult(tlsCert) is { Implicit: false } && r.GetResult(tlsKey) is null)
                r.AddError("--tls-cert needs --tls-key (the certificate's private key).");
            if (r.GetValue(tlsSelfSigned) && r.GetResult(tlsCert) is not null)
                r.AddError("--tls-self-signed and --tls-cert exclude each other: make a certificate, or use one.");
        });

        command.SetAction((parse, cancel) =>
        {
            // SIGINT/SIGTERM cancel the token (VerbRunner's interrupt): serve closes every client with 1001, exits 0.
            TryParseBind(parse.GetValue(bind), out var bindAddress);
            var settings = new ServeSettings(
                parse.GetValue(port),
                bindAddress,
                parse.GetValue(maxClients),
                parse.GetValue(maxMessage),
                parse.GetValue(noCounter) || parse.GetValue(counterInterval) == TimeSpan.Zero
                    ? null
                    : parse.GetValue(counterInterval),
                parse.GetValue(pingInterval),
                !parse.GetValue(noPage),
                parse.GetValue(echo),
                parse.GetValue(relay),
                parse.GetValue(json),
                !parse.GetValue(noPrint),
                parse.GetValue(mdnsName),
                parse.GetValue(mdnsInterface),
                parse.GetValue(allowOrigin) ?? [],
                parse.GetValue(maxPending),
                cluster.Read(parse),
                parse.GetValue(raw),
                parse.GetValue(tlsSelfSigned) ? ServeTlsSettings.MadeAtStart
                    : parse.GetValue(tlsCert) is { } certificateFile
                        ? new ServeTlsSettings(certificateFile, parse.GetValue(tlsKey))
                        : null,
                parse.GetValue(compress));
            return VerbRunner.RunAsync(parse, cancel, (log, token) =>
                ServeSession.RunAsync(settings, log, StandardOutput.OpenUnshared(), token));
        });
        return command;
    }

    // Null address = every interface (dual-mode IPv6 socket).
    private static bool TryParseBind(string? text, out IPAddress? address)
    {
        address = null;
        switch (text)
        {
            case null or "*" or "any":
                return true;
            case "localhost":
                address = IPAddress.Loopback;
                return true;
            default:
                return IPAddress.TryParse(text, out address);
        }
    }
}
