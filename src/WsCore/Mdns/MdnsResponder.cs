using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Serilog;
using Serilog.Core;

namespace WsCore.Mdns;

/// <summary>How a responder starts.</summary>
public sealed record MdnsResponderOptions
{
    /// <summary>Interfaces and families (null interface: every up, multicast-capable one).</summary>
    public MdnsOptions Network { get; init; } = new();

    /// <summary>
    /// Probe for the names before claiming them (RFC 6762 §8.1: three queries 250 ms apart); start fails if another
    /// host answers for one of them. Default true; costs about 750 ms at start.
    /// </summary>
    public bool Probe { get; init; } = true;

    /// <summary>
    /// How many unsolicited announcements to send at start, one second apart (RFC 6762 §8.3: at least 2).
    /// </summary>
    public int Announcements { get; init; } = 3;
}

/// <summary>
/// An mDNS responder (RFC 6762 §6) for one host name and optionally one DNS-SD service (RFC 6763): answers
/// A/AAAA queries for <c>NAME.local</c> with the addresses of the interface the query arrived on, and PTR/SRV/TXT
/// queries for the service; announces everything at start and withdraws it (TTL 0 "goodbye", §10.1) on dispose.
/// </summary>
/// <remarks>
/// Thread-safety: after <see cref="StartAsync"/> returns, the responder runs on its own background task;
/// <see cref="DisposeAsync"/> may be called from any thread, once or more (later calls do nothing).
/// </remarks>
public sealed class MdnsResponder : IAsyncDisposable
{
    private static readonly TimeSpan ProbeInterval = TimeSpan.FromMilliseconds(250);

    private readonly MdnsTransport _transport;
    private readonly MdnsResponderLogic _logic;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private readonly MdnsAnswerRateLimit _rateLimit = new();
    private readonly System.Diagnostics.Stopwatch _clock = System.Diagnostics.Stopwatch.StartNew();
    private bool _conflictReported;
    private Task _answerLoop = Task.CompletedTask;
    private Task _announceLoop = Task.CompletedTask;
    private int _disposed;

    private MdnsResponder(MdnsTransport transport, MdnsResponderLogic logic, ILogger logger)
    {
        _transport = transport;
        _logic = logic;
        _logger = logger;
    }

    /// <summary>The host name answered, e.g. "benchhost.local".</summary>
    public string HostName => _logic.HostName.ToString();

    /// <summary>The full service instance name (e.g. "benchhost._ws._tcp.local"), or null without a service.</summary>
    public string? ServiceInstanceName => _logic.InstanceName?.ToString();

    /// <summary>The interfaces the responder answers on.</summary>
    public IReadOnlyList<MdnsInterface> Interfaces => _transport.Interfaces;

    /// <summary>
    /// Claims <paramref name="hostName"/> (probing first unless disabled), starts answering, and sends the first
    /// announcement before returning; the further announcements follow one second apart in the background.
    /// </summary>
    /// <param name="hostName">"NAME" or "NAME.local".</param>
    /// <param name="service">The service to advertise, or null for the host name only.</param>
    /// <param name="options">Interfaces, probing, announcements; null for the defaults.</param>
    /// <param name="logger">Where to log (default: nowhere).</param>
    /// <param name="cancellationToken">Cancels the start (probing, first announcement).</param>
    /// <exception cref="WsCoreException">
    /// <see cref="FailureKind.InvalidInput"/>: bad name, service or interface, or the name is already in use on the
    /// link (found while probing); <see cref="FailureKind.Other"/>: port 5353 or the groups are unusable.
    /// </exception>
    public static async Task<MdnsResponder> StartAsync(
        string hostName, ServiceAdvertisement? service, MdnsResponderOptions? options = null, ILogger? logger = null,
        CancellationToken cancellationToken = default)
    {
        options ??= new MdnsResponderOptions();
        logger ??= Logger.None;
        var logic = new MdnsResponderLogic(MdnsWire.HostName(hostName), service);
        var network = options.Network;
        var interfaces = MdnsInterfaces.Select(network.InterfaceName, network.UseIPv4, network.UseIPv6);
        var transport = MdnsTransport.Open(interfaces, network.UseIPv4, network.UseIPv6, logger);
        var responder = new MdnsResponder(transport, logic, logger);
        try
        {
            if (options.Probe)
                await responder.ProbeAsync(cancellationToken);
            responder._answerLoop = Task.Run(
                () => responder.AnswerLoopAsync(responder._stop.Token), CancellationToken.None);
            await responder.AnnounceAsync(goodbye: false, cancellationToken);
            responder._announceLoop = Task.Run(
                () => responder.RepeatAnnouncementsAsync(options.Announcements - 1, responder._stop.Token),
                CancellationToken.None);
            logger.Information("mDNS: answering for {Host}{Service} on {Interfaces}", logic.HostName,
                logic.InstanceName is null ? "" : $" and {logic.InstanceName} (port {service!.Port})",
                string.Join(", ", interfaces.Select(i => i.Name)));
            return responder;
        }
        catch
        {
            responder._stop.Cancel();
            await transport.DisposeAsync();
            throw;
        }
    }

    private async Task ProbeAsync(CancellationToken cancellationToken)
    {
        // RFC 6762 §8.1: wait a random 0-250 ms first, so hosts powered on together do not probe in lockstep.
        await Task.Delay(RandomNumberGenerator.GetInt32(0, 250), cancellationToken);
        for (var i = 0; i < 3; i++)
        {
            foreach (var iface in _transport.Interfaces)
                await _transport.SendMulticastAsync(
                    _logic.BuildProbe(iface.Addresses, unicastResponse: i == 0), iface, null, cancellationToken);
            var until = Deadline.After(ProbeInterval);
            while (until.Left is { Ticks: > 0 } left)
            {
                if (await MdnsClient.ReadAsync(_transport.Received, left, cancellationToken) is not { } received)
                    continue;
                if (_logic.IsConflictingResponse(received.Message, received.Interface.Addresses))
                {
                    throw new WsCoreException(FailureKind.InvalidInput,
                        $"the mDNS name {_logic.HostName} is already in use on {received.Interface.Name} (answered " +
                            $"by {received.Source.Address})",
                        hint: "choose another name");
                }
            }
        }
    }

    private async Task AnnounceAsync(bool goodbye, CancellationToken cancellationToken)
    {
        // RFC 6762 §6.2: each interface announces its own addresses, never another interface's.
        foreach (var iface in _transport.Interfaces)
        {
            var announcement = _logic.BuildAnnouncement(iface.Addresses, goodbye);
            await _transport.SendMulticastAsync(announcement, iface, null, cancellationToken);
            if (!goodbye)
            {
                _rateLimit.Sent(announcement.Answers, iface.Index, AddressFamily.InterNetwork, null, _clock.Elapsed);
                _rateLimit.Sent(announcement.Answers, iface.Index, AddressFamily.InterNetworkV6, null, _clock.Elapsed);
            }
        }
    }

    private async Task RepeatAnnouncementsAsync(int remaining, CancellationToken cancellationToken)
    {
        var interval = TimeSpan.FromSeconds(1);
        try
        {
            for (var i = 0; i < remaining; i++)
            {
                // RFC 6762 §8.3: the second announcement one second after the first, then doubling.
                await Task.Delay(interval, cancellationToken);
                await AnnounceAsync(goodbye: false, cancellationToken);
                interval *= 2;
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task AnswerLoopAsync(CancellationToken cancellationToken)
    {
        try
        {
            while (await _transport.Received.WaitToReadAsync(cancellationToken))
            {
                while (_transport.Received.TryRead(out var received))
                    await AnswerAsync(received, cancellationToken);
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (Exception ex)
        {
            _logger.Error(ex, "mDNS: responder stopped answering");
        }
    }

    private async Task AnswerAsync(MdnsDatagram received, CancellationToken cancellationToken)
    {
        var iface = received.Interface;
        var source = received.Source;
        var sourceOnLink = MdnsLink.IsOnLink(source.Address, iface.Prefixes);
        if (received.Message.QR)
        {
            // RFC 6762 §11: an answer sent to this host from off the link is nobody's claim on this link.
            if (!received.SentToGroup && !sourceOnLink)
                return;
            // RFC 6762 §9: someone else answering for our name after we claimed it. Probing at start makes this rare;
            // we keep answering (no automatic rename) but tell the user once.
            if (!_conflictReported && _logic.IsConflictingResponse(received.Message, iface.Addresses))
            {
                _conflictReported = true;
                _logger.Warning("mDNS: {Source} on {Interface} also answers for {Host}: two devices share the name",
                    source.Address, iface.Name, _logic.HostName);
            }
            return;
        }
        // A loopback-only answer never goes to another interface: the answer carries the receiving interface's own
        // addresses, and goes back out on that interface only.
        var origin = new MdnsQueryOrigin(source.Port, sourceOnLink, received.SentToGroup);
        var answer = _logic.Answer(received.Message, [.. iface.Addresses], origin);
        if (answer is null)
        {
            if (origin.OnlyUnicastWillDo && !origin.SourceOnLink)
            {
                _logger.Debug("mDNS: ignored a query from {Source} on {Interface}: only a unicast answer would do, " +
                    "and the source is not on the link", source, iface.Name);
            }
            return;
        }
        var family = source.AddressFamily;
        // RFC 6762 §6: no record multicast twice within a second on one interface (250 ms when defending against a
        // probe, recognised by its authority section, §8.2); unicast answers to one address are held to the same.
        var limit = received.Message.AuthorityRecords.Count > 0
            ? MdnsAnswerRateLimit.ProbeDefence
            : MdnsAnswerRateLimit.Normal;
        var destination = answer.Unicast ? source.Address : null;
        var allowed = _rateLimit.Allowed(answer.Message.Answers, iface.Index, family, destination, _clock.Elapsed,
            limit);
        if (allowed.Count == 0)
            return;
        answer.Message.Answers.Clear();
        answer.Message.Answers.AddRange(allowed);
        if (answer.HasSharedRecords && !answer.Unicast)
        {
            // RFC 6762 §6: shared-record answers wait 20-120 ms so several responders' answers spread out.
            await Task.Delay(RandomNumberGenerator.GetInt32(20, 121), cancellationToken);
        }
        _logger.Debug(
            "mDNS: answering {Questions} from {Source} on {Interface}",
            string.Join(", ", received.Message.Questions.Select(q => $"{q.Name} {q.Type}")),
            source,
            iface.Name);
        var sent = answer.Unicast
            ? await _transport.SendUnicastAsync(answer.Message, source, iface, cancellationToken)
            : await _transport.SendMulticastAsync(answer.Message, iface, family, cancellationToken) > 0;
        if (sent)
            _rateLimit.Sent(answer.Message.Answers, iface.Index, family, destination, _clock.Elapsed);
    }

    /// <summary>
    /// Stops answering and sends goodbye records (TTL 0, RFC 6762 §10.1) on every interface, so caches drop the
    /// host and service within a second instead of keeping them for their TTL. Safe to call more than once.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        _stop.Cancel();
        await Task.WhenAll(_answerLoop, _announceLoop);
        try
        {
            await AnnounceAsync(goodbye: true, CancellationToken.None);
            _logger.Debug("mDNS: sent goodbye for {Host}", _logic.HostName);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            _logger.Debug("mDNS: goodbye not sent: {Error}", ex.Message);
        }
        await _transport.DisposeAsync();
        _stop.Dispose();
    }
}
