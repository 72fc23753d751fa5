using System.CommandLine;
using WsCore;
using WsCore.Mdns;
using WsCore.Probe;
using WsCore.Targets;
using WsCore.WebSockets.Client;
using Wsctl.Cli;
using Wsctl.Probe;

namespace Wsctl.Commands;

/// <summary><c>wsctl probe</c>: check a device's health in one command, stage by stage.</summary>
public static class ProbeCommand
{
    public static Command Create()
    {
        var host = new Argument<string?>("HOST")
        {
            Description = "NAME.local (resolved by mDNS), another host name (DNS), an address, or a ws:// / wss:// " +
                "URL.",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var port = Options.Port(
            "TCP port, unless HOST gives one; for NAME.local the port of its _ws._tcp service when it has one.", 8080);
        var path = new Option<string>("--path")
        {
            Description = "Request path, unless HOST is a URL.",
            DefaultValueFactory = _ => "/",
            HelpName = "PATH",
        };
        var count = Options.Integer(
            "--count", "Pings to send (round-trip times: min/avg/max); 0 skips the stage.", 3, 0, 1000);
        var timeout = SharedOptions.Timeout("Limit for each stage: the resolve (mDNS keeps asking until then), " +
            "the TCP connect, the handshake, each ping, the close.", TimeSpan.FromSeconds(5));
        var waitMessage = Options.Duration("--wait-message",
            "How long to wait for the first message the server pushes (the firmware's counter); 0 skips the stage.",
            TimeSpan.FromSeconds(6));
        var expectMessage = new Option<bool>("--expect-message")
        {
            Description = "Fail (exit 6) when the server pushes no message within --wait-message; by default a " +
                "server that speaks only when spoken to is healthy.",
        };
        var iface = new Option<string?>("--interface")
        {
            Description = "mDNS: use only this network interface (default: every multicast-capable one that is up).",
            HelpName = "NAME",
        };
        var discover = new Option<bool>("--discover")
        {
            Description = "List every _ws._tcp device on the link (name, addresses, port, TXT) and probe each; " +
                "browses for at most 3 s.",
        };
        var json = SharedOptions.Json(
            "one object with every stage, addresses, timings, RTTs, first message, close code, verdict");
        var insecure = SharedOptions.Insecure();
        var pin = SharedOptions.Pin();
        var compress = SharedOptions.Compress();


        var command = new Command("probe", HelpText.Describe(
            "Check a WebSocket device's health in one command: resolve (mDNS for NAME.local, no nss-mdns needed; DNS " +
            "otherwise) → TCP connect → handshake (status, accept key, server headers, subprotocol) → pings with " +
            "round-trip times → the first message the server pushes (not required unless --expect-message) → " +
            "close. Prints one line per stage with its time, then a verdict: healthy, busy (503: every client slot " +
            "taken) or failed.",
            [
                "wsctl probe esp32ws.local",
                "wsctl probe ws://192.168.1.40:8080/ --count 10 --wait-message 0 --json",
                "wsctl probe --discover --timeout 3s",
            ],
            ExitCode.Ok, ExitCode.Usage, ExitCode.Failure, ExitCode.NameNotResolved, ExitCode.ConnectFailed,
            ExitCode.HandshakeRejected, ExitCode.Timeout, ExitCode.ConnectionEnded, ExitCode.Tls, ExitCode.Partial,
            ExitCode.Interrupted))
        {
            host, port, path, count, timeout, waitMessage, expectMessage, iface, discover, json, insecure, pin,
            compress,
        };
        command.PinExcludesInsecure(pin, insecure);
        command.Validators.Add(r =>
        {
            var hostGiven = r.GetValue(host) is not null;
            if (r.GetValue(discover) == hostGiven)
                r.AddError(hostGiven ? "give HOST or --discover, not both." : "HOST is missing (or use --discover).");
        });

        command.SetAction((parse, cancel) => VerbRunner.RunAsync(parse, cancel, async (log, token) =>
        {
            var options = new ProbeOptions
            {
                PingCount = parse.GetValue(count),
                Timeout = parse.GetValue(timeout),
                WaitMessage = parse.GetValue(waitMessage),
                ExpectMessage = parse.GetValue(expectMessage),
                Mdns = new MdnsOptions { InterfaceName = parse.GetValue(iface) },
                AllowUntrustedCertificate = parse.GetValue(insecure),
                CertificatePin = parse.GetValue(pin),
                Compression = parse.GetValue(compress),
            };
            var stdout = Console.OpenStandardOutput();
            if (parse.GetValue(discover))
                return await ProbeSession.DiscoverAsync(options, parse.GetValue(json), log, stdout, token);
            // --port wins; without it, a NAME.local device's own _ws._tcp record says its port (else 8080).
            var portGiven = parse.GetResult(port) is { Implicit: false };
            var target = WebSocketTarget.Parse(parse.GetValue(host)!, portGiven ? parse.GetValue(port) : null,
                parse.GetValue(path) ?? "/");
            return await ProbeSession.ProbeOneAsync(target, options, parse.GetValue(json), log, stdout, token);
        }));
        return command;
    }
}
