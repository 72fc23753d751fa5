using System.Diagnostics;
using System.Globalization;
using System.Text;
using Serilog;
using WsCore;
using WsCore.Control;
using WsCore.Mdns;
using WsCore.Targets;
using WsCore.WebSockets.Client;
using WsCore.WebSockets.Protocol;
using WsCore.WebSockets.Tls;
using Wsctl.Cli;

namespace Wsctl.Send;

/// <summary>One target's outcome in <c>wsctl broadcast --to</c>.</summary>
public sealed record TargetResult(string Target, WsCoreException? Error, double Milliseconds)
{
    public bool Ok => Error is null;
}

/// <summary>What <c>wsctl broadcast</c> was asked to do.</summary>
/// <param name="Port">The port of the serve whose clients get the message (or are listed).</param>
/// <param name="Targets">Devices or servers to send to instead (--to).</param>
/// <param name="Timeout">With targets: the limit for each.</param>
/// <param name="MessageGiven">Whether MESSAGE was on the command line (--list takes none).</param>
/// <param name="ReadMessages">Builds the messages to send (only when there is something to send them to).</param>
public sealed record BroadcastSettings(int Port, bool List, IReadOnlyList<string> Targets, bool Discover, int Parallel,
    TimeSpan Timeout, bool Json, bool Insecure, CertificatePin? Pin, bool MessageGiven, Func<Outgoing> ReadMessages,
    bool Compress = false);

/// <summary><c>wsctl broadcast</c>: to every client of a running serve, or to many devices at once.</summary>
public static class BroadcastSession
{
    /// <summary>
    /// The clients of the serve (--list), or the message to every client of the serve, or to every target (--to, or
    /// the devices --discover finds).
    /// </summary>
    public static async Task<ExitCode> RunAsync(BroadcastSettings settings, ILogger log, Stream stdout,
        CancellationToken cancel)
    {
        var targets = settings.Targets;
        if (settings.List)
        {
            if (targets.Count > 0 || settings.Discover || settings.MessageGiven)
                throw new WsCoreException(FailureKind.InvalidInput,
                    "--list takes no MESSAGE, no --to and no --discover");
            return await ListAsync(settings.Port, settings.Json, stdout, cancel);
        }
        var outgoing = settings.ReadMessages();
        if (settings.Discover)
        {
            if (targets.Count > 0)
                throw new WsCoreException(FailureKind.InvalidInput, "give --to or --discover, not both");
            targets = await DiscoverTargetsAsync(settings.Timeout, log, cancel);
        }
        if (targets.Count == 0)
        {
            if (settings.Pin is not null)
                throw new WsCoreException(FailureKind.InvalidInput,
                    "--pin applies to --to and --discover targets, not to the clients of a serve");
            return await ToServeClientsAsync(settings.Port, outgoing, settings.Json, stdout, cancel);
        }

        // Every target gets the same message: read stdin whole (its lines joined) once, up front.
        byte[]? payload = null;
        await foreach (var m in outgoing.ReadAsync(cancel))
            payload = payload is null ? m.ToArray() : [.. payload, (byte)'\n', .. m.Span];
        return await ToTargetsAsync(targets, outgoing.Type, payload ?? [], settings.Parallel, settings.Timeout,
            settings.Json,
            new WebSocketClientOptions
            {
                AllowUntrustedCertificate = settings.Insecure,
                CertificatePin = settings.Pin,
                Compression = settings.Compress,
                // NAME.local by WsCore's own mDNS querier: works without nss-mdns.
                Resolve = new HostResolver(log).ForClient(settings.Timeout),
            }, log, stdout, cancel);
    }

    /// <summary>
    /// Through serve's control socket: every client gets the message(s); prints how many received each.
    /// </summary>
    public static async Task<ExitCode> ToServeClientsAsync(
        int port, Outgoing messages, bool jsonOutput, Stream stdout, CancellationToken cancel)
    {
        await using var control = await ControlClient.ConnectAsync(port, cancel);
        var json = jsonOutput ? new JsonLines(stdout) : null;
        var broadcasts = 0;
        long deliveries = 0;
        await foreach (var message in messages.ReadAsync(cancel))
        {
            var answer = await control.RequestAsync(
                new ControlRequest(ControlOperation.Broadcast, 0, message, messages.Type == MessageType.Binary),
                cancel);
            if (!answer.Ok)
                throw new WsCoreException(FailureKind.Other, answer.Error ?? "the server refused the broadcast");
            broadcasts++;
            deliveries += answer.Delivered;
            if (json is not null)
                json.Write(w =>
                {
                    w.WriteString("type", "delivered");
                    w.WriteNumber("port", port);
                    w.WriteNumber("clients", answer.Delivered);
                });
            else
                stdout.Write(Encoding.UTF8.GetBytes($"delivered to {answer.Delivered} " +
                    $"client{(answer.Delivered == 1 ? "" : "s")}\n"));
            stdout.Flush();
        }
        json?.WriteResult(ExitCode.Ok, more: w =>
        {
            w.WriteNumber("messages", broadcasts);
            w.WriteNumber("deliveries", deliveries);
        });
        return ExitCode.Ok;
    }

    /// <summary><c>broadcast --list</c>: the clients of the serve on <paramref name="port"/>.</summary>
    public static async Task<ExitCode> ListAsync(int port, bool jsonOutput, Stream stdout, CancellationToken cancel)
    {
        await using var control = await ControlClient.ConnectAsync(port, cancel);
        var answer = await control.RequestAsync(new ControlRequest(ControlOperation.List, 0, default, false), cancel);
        var clients = answer.Clients ?? [];
        if (jsonOutput)
        {
            var json = new JsonLines(stdout);
            foreach (var c in clients)
                json.Write(w =>
                {
                    w.WriteString("type", "client");
                    w.WriteNumber("id", c.Id);
                    w.WriteString("remote", c.Remote);
                    w.WriteString("since", JsonLines.Timestamp(c.ConnectedSince));
                    w.WriteNumber("messages_in", c.MessagesIn);
                    w.WriteNumber("messages_out", c.MessagesOut);
                    if (c.Instance is not null)
                        w.WriteString("instance", c.Instance);
                });
            json.WriteResult(ExitCode.Ok, more: w => w.WriteNumber("clients", clients.Count));
            return ExitCode.Ok;
        }
        var text = new StringBuilder();
        // In a cluster every client is listed with the instance it is connected to.
        var instances = clients.Any(c => c.Instance is not null);
        text.AppendLine(CultureInfo.InvariantCulture,
            $"{"ID",4}  {"REMOTE",-44} {"CONNECTED SINCE",-24} {"IN",8} {"OUT",8}{(instances ? "  INSTANCE" : "")}");
        foreach (var c in clients)
            text.AppendLine(CultureInfo.InvariantCulture,
                $"{c.Id,4}  {c.Remote,-44} {c.ConnectedSince.ToLocalTime():yyyy-MM-dd HH:mm:ss}      " +
                $"{c.MessagesIn,8} {c.MessagesOut,8}{(instances ? "  " + c.Instance : "")}");
        text.AppendLine(
            CultureInfo.InvariantCulture,
            $"{clients.Count} client{(clients.Count == 1 ? "" : "s")} connected to the serve on port {port}");
        stdout.Write(Encoding.UTF8.GetBytes(text.ToString()));
        return ExitCode.Ok;
    }

    /// <summary>
    /// <c>broadcast --discover</c>: the WebSocket URLs of every <c>_ws._tcp</c> device that answers a browse of
    /// min(<paramref name="timeout"/>, 3 s), the same browse as <c>probe --discover</c>.
    /// </summary>
    /// <exception cref="WsCoreException">NameNotResolved when no device answered.</exception>
    public static async Task<string[]> DiscoverTargetsAsync(TimeSpan timeout, ILogger log, CancellationToken cancel)
    {
        var browse = timeout < Probe.ProbeSession.MaxBrowse ? timeout : Probe.ProbeSession.MaxBrowse;
        var devices = await new DeviceDiscovery(log).DiscoverAsync(browse, null, cancel);
        var targets = devices.Where(d => d.Uri is not null).Select(d => d.Uri!.ToString()).ToArray();
        foreach (var device in devices.Where(d => d.Uri is null))
            log.Warning("{Instance}: no address or port in its DNS-SD answer; skipped", device.Instance.InstanceName);
        return targets.Length > 0
            ? targets
            : throw new WsCoreException(FailureKind.NameNotResolved,
                $"no {DeviceDiscovery.WebSocketServiceType} device answered within {browse.TotalSeconds:0.#} s",
                "is the device on this network (same link: mDNS does not cross routers)?");
    }

    /// <summary>
    /// <c>broadcast --to</c>: connects to every target concurrently (at most <paramref name="parallel"/> at once),
    /// sends the message, closes with 1000; one result line per target, in the order given. Exit: 0 when all succeed, 9
    /// (partial) when some fail, and the first failure's own code when all fail.
    /// </summary>
    public static async Task<ExitCode> ToTargetsAsync(
        IReadOnlyList<string> targets,
        MessageType type,
        byte[] payload,
        int parallel,
        TimeSpan timeout,
        bool jsonOutput,
        WebSocketClientOptions template,
        ILogger log,
        Stream stdout,
        CancellationToken cancel)
    {
        using var gate = new SemaphoreSlim(parallel);
        var tasks = targets.Select(async target =>
        {
            await gate.WaitAsync(cancel);
            try
            {
                return await SendOneAsync(target, type, payload, timeout, template, log, cancel);
            }
            finally
            {
                gate.Release();
            }
        }).ToList();
        var results = await Task.WhenAll(tasks);

        var json = jsonOutput ? new JsonLines(stdout) : null;
        var width = Math.Min(60, results.Max(r => r.Target.Length));
        foreach (var r in results)
        {
            if (json is not null)
            {
                json.Write(w =>
                {
                    w.WriteString("type", "target");
                    w.WriteString("target", r.Target);
                    w.WriteBoolean("ok", r.Ok);
                    w.WriteNumber("exit_code", (int)(r.Error is null ? ExitCode.Ok : ExitCodes.From(r.Error.Kind)));
                    w.WriteNumber("elapsed_ms", Math.Round(r.Milliseconds, 1));
                    if (r.Error is not null)
                    {
                        w.WriteString("error", r.Error.Message);
                        if (r.Error.Hint is not null)
                            w.WriteString("hint", r.Error.Hint);
                    }
                });
                continue;
            }
            var line = r.Ok
                ? $"{r.Target.PadRight(width)}  ok      {r.Milliseconds,7:0.0} ms\n"
                : $"{r.Target.PadRight(width)}  failed  {r.Milliseconds,7:0.0} ms  {r.Error!.Message} (exit " +
                    $"{(int)ExitCodes.From(r.Error.Kind)})\n";
            stdout.Write(Encoding.UTF8.GetBytes(line));
        }
        stdout.Flush();

        var failures = results.Where(r => !r.Ok).ToList();
        var exit = failures.Count == 0 ? ExitCode.Ok
            : failures.Count == results.Length ? ExitCodes.From(failures[0].Error!.Kind)
            : ExitCode.Partial;
        if (exit == ExitCode.Partial)
            log.Warning("{Failed} of {Total} targets failed", failures.Count, results.Length);
        json?.WriteResult(exit,
            failures.Count == 0 ? null : $"{failures.Count} of {results.Length} target(s) failed",
            more: w =>
            {
                w.WriteNumber("targets", results.Length);
                w.WriteNumber("failed", failures.Count);
            });
        return exit;
    }

    private static async Task<TargetResult> SendOneAsync(
        string target,
        MessageType type,
        byte[] payload,
        TimeSpan timeout,
        WebSocketClientOptions template,
        ILogger log,
        CancellationToken cancel)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            var uri = WebSocketTarget.Parse(target).Uri;
            using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancel);
            limit.CancelAfter(timeout);
            var resolving = new ResolveWatch();
            var options = new WebSocketClientOptions
            {
                Headers = template.Headers,
                Subprotocols = template.Subprotocols,
                Origin = template.Origin,
                AllowUntrustedCertificate = template.AllowUntrustedCertificate,
                CertificatePin = template.CertificatePin,
                Compression = template.Compression,
                Resolve = resolving.Wrap(template.Resolve),
                ConnectTimeout = timeout,
                Logger = log,
            };
            try
            {
                await using var client = await WebSocketClient.ConnectAsync(uri, options, limit.Token);
                await client.SendAsync(type, payload, limit.Token);
                await client.CloseAsync(CloseStatus.NormalClosure, "", limit.Token);
                client.ThrowIfClosedAbnormally();
            }
            catch (OperationCanceledException) when (!cancel.IsCancellationRequested)
            {
                throw resolving.CutOff(timeout)
                    ?? new WsCoreException(FailureKind.Timeout, $"timed out after {Duration.Format(timeout)}");
            }
            return new TargetResult(target, null, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
        catch (WsCoreException e)
        {
            return new TargetResult(target, e, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
    }
}
