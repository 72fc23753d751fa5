using System.Diagnostics;
using WsCore.Mdns;
using WsCore.Targets;
using WsCore.WebSockets.Client;

namespace WsCore.Probe;

/// <summary>The stages of <c>wsctl probe</c>, in order.</summary>
public enum ProbeStage
{
    /// <summary>Host name to addresses (mDNS for .local, DNS otherwise).</summary>
    Resolve,
    /// <summary>TCP connect to the first address that accepts.</summary>
    Connect,
    /// <summary>The WebSocket opening handshake (RFC 6455 §4).</summary>
    Handshake,
    /// <summary>Ping/pong round trips (RFC 6455 §5.5.2-3).</summary>
    Ping,
    /// <summary>The first message the server pushes (the firmware's counter).</summary>
    FirstMessage,
    /// <summary>The closing handshake (RFC 6455 §7).</summary>
    Close,
}

/// <summary>The overall outcome of a probe.</summary>
public enum ProbeVerdict
{
    /// <summary>Every stage that ran succeeded.</summary>
    Healthy,
    /// <summary>The device answered the handshake with 503: all its client slots are taken.</summary>
    Busy,
    /// <summary>A stage failed; <see cref="ProbeReport.Failure"/> says which kind.</summary>
    Failed,
    /// <summary>The caller stopped the probe (Ctrl-C) before it was done: the stages so far are all it has.</summary>
    Interrupted,
}

/// <summary>One stage's outcome.</summary>
/// <param name="Stage">Which stage.</param>
/// <param name="Succeeded">True if it did what it should.</param>
/// <param name="Elapsed">How long it took.</param>
/// <param name="Detail">A one-line human summary (addresses, status, RTTs…), or the error message.</param>
/// <param name="Failure">The failure kind when it failed (maps to the exit code), else null.</param>
public sealed record ProbeStageResult(
    ProbeStage Stage, bool Succeeded, TimeSpan Elapsed, string? Detail, FailureKind? Failure = null);

/// <summary>Minimum, mean and maximum of round-trip times.</summary>
public sealed record RttSummary(TimeSpan Min, TimeSpan Average, TimeSpan Max, int Count)
{
    /// <summary>The summary of <paramref name="samples"/>, or null if there are none.</summary>
    public static RttSummary? Of(IReadOnlyCollection<TimeSpan> samples) =>
        samples.Count == 0
            ? null
            : new RttSummary(
                samples.Min(), TimeSpan.FromTicks((long)samples.Average(s => s.Ticks)), samples.Max(), samples.Count);
}

/// <summary>
/// Everything a probe found, stage by stage: what <c>wsctl probe</c> prints as lines or as one JSON object. The
/// CLI renders it; WsCore fills it. Not thread-safe: one probe run owns it.
/// </summary>
public sealed class ProbeReport(WebSocketTarget target)
{
    private readonly List<ProbeStageResult> _stages = [];

    /// <summary>What was probed (its port corrected by the device's mDNS service record when none was given).</summary>
    public WebSocketTarget Target { get; private set; } = target;

    /// <summary>The resolve stage's details (addresses, method, interface), once it succeeded.</summary>
    public HostResolution? Resolution { get; set; }

    /// <summary>Every stage that ran, in order.</summary>
    public IReadOnlyList<ProbeStageResult> Stages => _stages;

    /// <summary>Ping round-trip times, in order.</summary>
    public List<TimeSpan> RoundTrips { get; } = [];

    /// <summary>The first message's text, or null if none arrived (or the stage was skipped).</summary>
    public string? FirstMessage { get; set; }

    /// <summary>The first message's type: true for binary (then <see cref="FirstMessage"/> is base64).</summary>
    public bool FirstMessageBinary { get; set; }

    /// <summary>When the first message arrived, counted from the end of the handshake.</summary>
    public TimeSpan? FirstMessageAfterOpen { get; set; }

    /// <summary>The address and port the TCP connection reached, once it did.</summary>
    public System.Net.IPEndPoint? ConnectedEndPoint { get; set; }

    /// <summary>Addresses tried before the one that connected, with why each failed.</summary>
    public List<string> FailedAddresses { get; } = [];

    /// <summary>
    /// The server's answer to the opening handshake (101, or the status that refused it), once one came.
    /// </summary>
    public WsCore.WebSockets.Protocol.HttpResponseHead? HandshakeResponse { get; set; }

    /// <summary>
    /// True once the 101's <c>Sec-WebSocket-Accept</c> matched the key sent (RFC 6455 §4.2.2 step 5.4).
    /// </summary>
    public bool AcceptKeyVerified { get; set; }

    /// <summary>The subprotocol the server selected, or null.</summary>
    public string? Subprotocol { get; set; }

    /// <summary>What permessage-deflate negotiated (as a response header value), or null when not in use.</summary>
    public string? Compression { get; set; }

    /// <summary>The close status code received, or null.</summary>
    public int? CloseCode { get; set; }

    /// <summary>The close reason received, or null.</summary>
    public string? CloseReason { get; set; }

    /// <summary>Time from the start of the first stage to the end of the last.</summary>
    public TimeSpan Total => _stages.Aggregate(TimeSpan.Zero, (sum, s) => sum + s.Elapsed);

    /// <summary>True once the handshake was answered with 503 (the device is full).</summary>
    public bool DeviceBusy { get; set; }

    /// <summary>The first failed stage's failure kind (what the exit code reports), or null.</summary>
    public FailureKind? Failure => _stages.FirstOrDefault(s => !s.Succeeded)?.Failure;

    /// <summary>
    /// What the device's <c>/ota</c> endpoint says about its app, once the probe looked (after a handshake that
    /// succeeded); null before, or when it was not asked.
    /// </summary>
    public ProbeOtaInfo? Ota { get; set; }

    /// <summary>Set when the caller stopped the probe before it was done.</summary>
    public bool Interrupted { get; set; }

    /// <summary>Healthy, busy (503), failed, or interrupted.</summary>
    public ProbeVerdict Verdict => DeviceBusy
        ? ProbeVerdict.Busy
        : _stages.Any(s => !s.Succeeded) ? ProbeVerdict.Failed
        : Interrupted ? ProbeVerdict.Interrupted
        : ProbeVerdict.Healthy;

    /// <summary>Minimum, mean and maximum of <see cref="RoundTrips"/>, or null.</summary>
    public RttSummary? Rtt => RttSummary.Of(RoundTrips);

    /// <summary>Records a stage's outcome.</summary>
    public void Add(ProbeStageResult result) => _stages.Add(result);

    /// <summary>
    /// Runs one stage: times <paramref name="body"/>, records success with the detail it returns, or records the
    /// <see cref="WsCoreException"/> it throws as a failed stage (and returns false). Other exceptions propagate.
    /// </summary>
    public async Task<bool> RunStageAsync(ProbeStage stage, Func<Task<string?>> body)
    {
        var clock = Stopwatch.StartNew();
        try
        {
            var detail = await body();
            Add(new ProbeStageResult(stage, true, clock.Elapsed, detail));
            return true;
        }
        catch (WsCoreException ex)
        {
            Add(new ProbeStageResult(stage, false, clock.Elapsed, ex.Message, ex.Kind));
            return false;
        }
    }

    /// <summary>
    /// The resolve stage: resolves <see cref="Target"/> with <paramref name="resolver"/> within
    /// <paramref name="timeout"/>, records it (the mDNS time is the querier's own, from first query to answer), and
    /// sets <see cref="Resolution"/>. Returns false if the name did not resolve.
    /// </summary>
    public Task<bool> ResolveAsync(
        HostResolver resolver,
        TimeSpan timeout,
        MdnsOptions? options = null,
        CancellationToken cancellationToken = default) =>
        RunStageAsync(ProbeStage.Resolve, async () =>
        {
            Resolution = await resolver.ResolveAsync(Target, timeout, options, cancellationToken);
            var portNote = "";
            if (!Target.PortGiven && Resolution.ServicePort is { } advertised)
            {
                Target = Target with { Port = advertised, PortGiven = true };
                portNote = $", port {advertised} from its _ws._tcp service";
            }
            return $"{Resolution.Method}: {string.Join(", ", Resolution.Addresses)}"
                + (Resolution.InterfaceName is { } iface ? $" on {iface}" : "") + portNote;
        });
}
