using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Serilog;
using Serilog.Core;
using WsCore.Mdns;
using WsCore.Ota;
using WsCore.Targets;
using WsCore.WebSockets.Client;
using WsCore.WebSockets.Protocol;
using WsCore.WebSockets.Tls;

namespace WsCore.Probe;

/// <summary>What a probe does besides the target: how many pings, how long each step may take.</summary>
public sealed record ProbeOptions
{
    /// <summary>Ping/pong round trips to measure (0: skip the stage).</summary>
    public int PingCount { get; init; } = 3;

    /// <summary>
    /// Limit for each stage: the resolve (all of it: mDNS keeps asking until then), the TCP connect (all addresses
    /// together), the handshake, each ping, and the close.
    /// </summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>How long to wait for the first message the server pushes (zero: skip the stage).</summary>
    public TimeSpan WaitMessage { get; init; } = TimeSpan.FromSeconds(6);

    /// <summary>
    /// Whether a server that pushes nothing within <see cref="WaitMessage"/> fails the probe. Off by default: most
    /// WebSocket servers speak only when spoken to, and are healthy; the firmware pushes its counter.
    /// </summary>
    public bool ExpectMessage { get; init; }

    /// <summary>mDNS interfaces and families for <c>.local</c> names.</summary>
    public MdnsOptions? Mdns { get; init; }

    /// <summary>For <c>wss://</c>: accept any certificate (a device's self-signed one).</summary>
    public bool AllowUntrustedCertificate { get; init; }

    /// <summary>
    /// For <c>wss://</c>: trust exactly the certificate with this SHA-256 fingerprint (see
    /// <see cref="WebSocketClientOptions.CertificatePin"/>).
    /// </summary>
    public CertificatePin? CertificatePin { get; init; }

    /// <summary>Offer permessage-deflate (RFC 7692); the report says what the device answered.</summary>
    public bool Compression { get; init; }

    /// <summary>
    /// After a handshake that succeeded, also read the device's <c>/ota</c> hello on a connection of its own (what
    /// app it runs, its slot and OTA state), when the target's path is not that endpoint already. On by default.
    /// </summary>
    public bool ReadOtaInfo { get; init; } = true;
}

/// <summary>
/// Checks a WebSocket device's health stage by stage (<c>wsctl probe</c>): resolve, TCP connect on its own socket (so
/// connect and handshake are timed apart), the opening handshake over that stream, pings, the first pushed message,
/// and the close. TCP and TLS go through the <see cref="Connector"/> that <see cref="WebSocketClient"/> uses, step by
/// step; the resolve stage uses <see cref="HostResolver"/> rather than the connector's, to report how the name
/// resolved (mDNS or DNS, interface, queries, the device's own port). Every stage's outcome lands in a
/// <see cref="ProbeReport"/>; a failed stage ends the probe. Only
/// <see cref="OperationCanceledException"/> from the caller's token escapes. Thread-safety: stateless; concurrent
/// probes are safe.
/// </summary>
public sealed class DeviceProber(ILogger? logger = null)
{
    private readonly ILogger _log = logger ?? Logger.None;

    /// <summary>Probes <paramref name="target"/>, resolving its host first.</summary>
    public async Task<ProbeReport> ProbeAsync(WebSocketTarget target, ProbeOptions options,
        CancellationToken cancellationToken = default)
    {
        var report = new ProbeReport(target);
        await ProbeAsync(report, options, cancellationToken);
        return report;
    }

    /// <summary>
    /// Probes <paramref name="report"/>'s target into it, so that the stages done so far stay in the caller's hands
    /// when the caller's token ends the probe (its <see cref="OperationCanceledException"/> still escapes).
    /// </summary>
    public async Task ProbeAsync(ProbeReport report, ProbeOptions options, CancellationToken cancellationToken)
    {
        if (await report.ResolveAsync(new HostResolver(_log), options.Timeout, options.Mdns, cancellationToken))
            await ProbeConnectedStagesAsync(report, options, cancellationToken);
    }

    /// <summary>
    /// Probes a device found by <see cref="DeviceDiscovery"/>: the browse already gave its addresses, so the resolve
    /// stage records them (method "dns-sd") instead of asking again. The request's Host is the device's host name.
    /// </summary>
    public async Task<ProbeReport> ProbeAsync(
        DiscoveredDevice device, ProbeOptions options, CancellationToken cancellationToken = default)
    {
        var instance = device.Instance;
        if (device.Target is not { } found || instance.HostName is null)
        {
            var unresolved = new ProbeReport(
                new WebSocketTarget(instance.InstanceName, HostKind.Mdns, Math.Max(instance.Port, 1), "/", false));
            unresolved.Add(new ProbeStageResult(ProbeStage.Resolve, false, TimeSpan.Zero,
                $"{instance.InstanceName} gave no SRV record (host and port)", FailureKind.NameNotResolved));
            return unresolved;
        }
        var report = new ProbeReport(found with { Host = instance.HostName.TrimEnd('.'), Kind = HostKind.Mdns });
        if (instance.Addresses.Count == 0)
        {
            if (await report.ResolveAsync(new HostResolver(_log), options.Timeout, options.Mdns, cancellationToken))
                await ProbeConnectedStagesAsync(report, options, cancellationToken);
            return report;
        }
        report.Resolution = new HostResolution(
            instance.HostName, "dns-sd", instance.Addresses, instance.InterfaceName, TimeSpan.Zero, 0);
        report.Add(new ProbeStageResult(ProbeStage.Resolve, true, TimeSpan.Zero,
            $"dns-sd: {string.Join(", ", instance.Addresses)} on {instance.InterfaceName}"));
        await ProbeConnectedStagesAsync(report, options, cancellationToken);
        return report;
    }

    private async Task ProbeConnectedStagesAsync(ProbeReport report, ProbeOptions options, CancellationToken cancel)
    {
        Socket? socket = null;
        if (!await report.RunStageAsync(ProbeStage.Connect, async () =>
            {
                var target = report.Target;
                var tcp = await Connector.ConnectTcpAsync(target.Host, report.Resolution!.Addresses, target.Port,
                    options.Timeout, cancel, report.FailedAddresses);
                socket = tcp.Socket;
                report.ConnectedEndPoint = tcp.RemoteEndPoint;
                var connected = Connector.Format(tcp.RemoteEndPoint);
                return report.FailedAddresses.Count == 0
                    ? connected
                    : $"{connected} (after {string.Join("; ", report.FailedAddresses)})";
            }))
            return;

        WebSocketClient? client = null;
        try
        {
            if (!await report.RunStageAsync(ProbeStage.Handshake, async () =>
                {
                    client = await HandshakeAsync(report, socket!, options, cancel);
                    socket = null;
                    var response = client.HandshakeResponse;
                    var server = response.Get("Server");
                    return $"{response.Status}; accept key ok; subprotocol {client.Subprotocol ?? "none"}"
                        + (server is null ? "" : $"; server {server}");
                }))
                return;
            var opened = Stopwatch.StartNew();

            if (options.PingCount > 0
                && !await report.RunStageAsync(ProbeStage.Ping, () => PingAsync(report, client!, options, cancel)))
                return;
            if (options.WaitMessage > TimeSpan.Zero
                && !await report.RunStageAsync(
                    ProbeStage.FirstMessage,
                    () => ReceiveFirstAsync(report, client!, options, opened, cancel)))
                return;
            await report.RunStageAsync(ProbeStage.Close, () => CloseAsync(report, client!, options.Timeout, cancel));
        }
        finally
        {
            socket?.Dispose();
            if (client is not null)
                await client.DisposeAsync();
        }
        if (options.ReadOtaInfo && report.AcceptKeyVerified && report.ConnectedEndPoint is { } endPoint
            && report.Target.Path != OtaProtocol.Path)
            report.Ota = await ReadOtaInfoAsync(report.Target, endPoint, options, cancel);
    }

    /// <summary>
    /// The device's <c>/ota</c> hello on a connection of its own, at the address the probe reached (so a
    /// <c>.local</c> name is not asked again); a refusal or a server without the subprotocol means no OTA, and
    /// anything else is noted, never a failure of the probe.
    /// </summary>
    private async Task<ProbeOtaInfo> ReadOtaInfoAsync(WebSocketTarget target, IPEndPoint endPoint,
        ProbeOptions options, CancellationToken cancel)
    {
        var clock = Stopwatch.StartNew();
        // Plain: the address reached. TLS: the name, which the certificate is checked against.
        var ota = target with { Path = OtaProtocol.Path };
        var endpoint = target.Secure ? ota.Uri : ota.UriFor(endPoint.Address);
        try
        {
            var hello = await OtaClient.ReadHelloAsync(endpoint, new OtaOptions
            {
                Key = [],
                Timeout = options.Timeout,
                AllowUntrustedCertificate = options.AllowUntrustedCertificate,
                CertificatePin = options.CertificatePin,
                Logger = _log,
            }, cancel);
            return new ProbeOtaInfo(hello, null, null, clock.Elapsed);
        }
        catch (WebSocketHandshakeException e)
        {
            return new ProbeOtaInfo(null, e.StatusCode, e.Message, clock.Elapsed);
        }
        catch (WsCoreException e)
        {
            return new ProbeOtaInfo(null, null, e.Message, clock.Elapsed);
        }
    }

    private async Task<WebSocketClient> HandshakeAsync(
        ProbeReport report, Socket socket, ProbeOptions options, CancellationToken cancel)
    {
        Stream stream = new NetworkStream(socket, ownsSocket: true);
        var target = report.Target;
        try
        {
            Connector.CheckPinNeedsTls(options.CertificatePin, target.Secure, target.Uri.ToString());
            if (target.Secure)
            {
                var untrusted = options.AllowUntrustedCertificate;
                stream = await Connector.AuthenticateAsync(
                    stream, target.Host, untrusted, options.CertificatePin, options.Timeout, cancel);
            }
            var clientOptions = new WebSocketClientOptions
            {
                ConnectTimeout = options.Timeout,
                CloseTimeout = options.Timeout,
                AllowUntrustedCertificate = options.AllowUntrustedCertificate,
                Compression = options.Compression,
                Logger = _log,
            };
            // The URL keeps the name, so the Host header is what a browser would send for it.
            var client = await WebSocketClient.ConnectAsync(stream, target.Uri, clientOptions, cancel);
            report.HandshakeResponse = client.HandshakeResponse;
            report.AcceptKeyVerified = true; // ConnectAsync checks Sec-WebSocket-Accept (RFC 6455 §4.2.2) or throws
            report.Subprotocol = client.Subprotocol;
            report.Compression = client.Compression is { } deflate ? PerMessageDeflate.Describe(deflate) : null;
            return client;
        }
        catch (WebSocketHandshakeException e)
        {
            await stream.DisposeAsync();
            report.HandshakeResponse = e.Response;
            // The firmware (and wsctl serve) answer 503 when every client slot is taken: a busy device, not a broken
            // one.
            report.DeviceBusy = e.StatusCode == 503;
            throw;
        }
        catch
        {
            await stream.DisposeAsync();
            throw;
        }
    }

    private static async Task<string?> PingAsync(
        ProbeReport report, WebSocketClient client, ProbeOptions options, CancellationToken cancel)
    {
        for (var i = 0; i < options.PingCount; i++)
        {
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancel);
            deadline.CancelAfter(options.Timeout);
            try
            {
                report.RoundTrips.Add(await client.PingAsync(deadline.Token));
            }
            catch (OperationCanceledException) when (!cancel.IsCancellationRequested)
            {
                throw new WsCoreException(
                    FailureKind.Timeout,
                    $"no pong to ping {i + 1} within {Seconds(options.Timeout)} (RFC 6455 §5.5.3)");
            }
        }
        var rtt = report.Rtt!;
        return $"{rtt.Count} round trip{(rtt.Count == 1 ? "" : "s")}: min {Ms(rtt.Min)} / avg {Ms(rtt.Average)} / " +
            $"max {Ms(rtt.Max)} ms";
    }

    private static async Task<string?> ReceiveFirstAsync(
        ProbeReport report, WebSocketClient client, ProbeOptions options, Stopwatch opened, CancellationToken cancel)
    {
        var wait = options.WaitMessage;
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        deadline.CancelAfter(wait - opened.Elapsed is var left && left > TimeSpan.Zero ? left : TimeSpan.Zero);
        try
        {
            using var message = await client.ReceiveAsync(deadline.Token);
            if (message is null)
            {
                report.CloseCode = client.CloseStatus;
                report.CloseReason = client.CloseReason;
                throw new WsCoreException(FailureKind.ConnectionEnded,
                    $"the server closed ({client.CloseStatus} {client.CloseReason}".TrimEnd()
                        + ") before sending a message");
            }
            report.FirstMessageAfterOpen = opened.Elapsed;
            report.FirstMessageBinary = message.Type == MessageType.Binary;
            report.FirstMessage = report.FirstMessageBinary
                ? Convert.ToBase64String(message.Payload.Span)
                : message.GetText();
            return $"{(report.FirstMessageBinary ? "binary (base64) " : "")}{report.FirstMessage} after " +
                $"{Ms(opened.Elapsed)} ms";
        }
        catch (OperationCanceledException) when (!cancel.IsCancellationRequested)
        {
            if (!options.ExpectMessage)
                return $"none within {Seconds(wait)} (not required)";
            throw new WsCoreException(
                FailureKind.Timeout,
                $"no message from the server within {Seconds(wait)} of the handshake",
                "the firmware pushes its counter every 5 s: wait longer")
            { HintField = InputField.WaitMessage };
        }
    }

    private static async Task<string?> CloseAsync(
        ProbeReport report, WebSocketClient client, TimeSpan timeout, CancellationToken cancel)
    {
        await client.CloseAsync(CloseStatus.NormalClosure, "", cancel);
        report.CloseCode = client.CloseStatus;
        report.CloseReason = client.CloseReason;
        if (client.CloseStatus is not { } code)
            throw new WsCoreException(
                FailureKind.Timeout,
                $"the server did not answer the close within {Seconds(timeout)} (RFC 6455 §7.1.2)");
        // RFC 6455 §5.5.1: the answer to a Close echoes its code, or has no body (1005, as ESP-IDF's httpd_ws
        // answers); 1001 is fine from a server going down.
        client.ThrowIfClosedAbnormally();
        return "closed " + CloseStatus.Phrase(code, client.CloseReason);
    }

    private static string Ms(TimeSpan value) => value.TotalMilliseconds.ToString("0.###", CultureInfo.InvariantCulture);

    private static string Seconds(TimeSpan value) => $"{value.TotalSeconds.ToString(
        "0.###", CultureInfo.InvariantCulture)} s";
}
