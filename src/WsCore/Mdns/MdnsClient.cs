using System.Diagnostics;
using System.Globalization;
using System.Threading.Channels;
using Makaretu.Dns;
using Serilog;
using Serilog.Core;
using Serilog.Events;

namespace WsCore.Mdns;

/// <summary>
/// An mDNS querier (RFC 6762 §5) and DNS-SD browser (RFC 6763 §4): resolves <c>NAME.local</c> to addresses and
/// lists the instances of a service type. Each call opens its own sockets (port 5353, shared with any other mDNS
/// software on the host) and closes them before returning.
/// </summary>
/// <remarks>
/// Thread-safety: the client holds no state between calls; concurrent calls from several threads are safe (each
/// has its own sockets; both receive every response on the link, which is harmless).
/// </remarks>
public sealed class MdnsClient
{
    private readonly ILogger _logger;

    /// <summary>A client logging to <paramref name="logger"/> (default: no logging).</summary>
    public MdnsClient(ILogger? logger = null) => _logger = logger ?? Logger.None;

    /// <summary>
    /// Resolves an mDNS host name to its addresses. Sends one message with an A and an AAAA question on every
    /// chosen interface, and repeats it after 1 s, 2 s, 4 s… (RFC 6762 §5.2) until an answer arrives or
    /// <paramref name="timeout"/> passes. After the first address it keeps listening for up to
    /// <see cref="MdnsOptions.OtherFamilyGrace"/> for the other family, so a host with both returns both.
    /// </summary>
    /// <param name="name">"NAME" or "NAME.local" (case-insensitive).</param>
    /// <param name="timeout">How long to keep asking. mDNS has no negative answer: silence is the only "no".</param>
    /// <param name="options">Interfaces and families; null for the defaults.</param>
    /// <param name="cancellationToken">Cancels the resolve (throws <see cref="OperationCanceledException"/>).</param>
    /// <returns>The addresses (IPv4 first), the interface, the time taken and the number of queries sent.</returns>
    /// <exception cref="WsCoreException">
    /// <see cref="FailureKind.NameNotResolved"/> when no answer came within the timeout;
    /// <see cref="FailureKind.InvalidInput"/> for a malformed name or unknown interface.
    /// </exception>
    public async Task<MdnsResolveResult> ResolveAsync(
        string name, TimeSpan timeout, MdnsOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new MdnsOptions();
        var hostName = MdnsWire.HostName(name);
        var interfaces = MdnsInterfaces.Select(options.InterfaceName, options.UseIPv4, options.UseIPv6);
        await using var transport = MdnsTransport.Open(interfaces, options.UseIPv4, options.UseIPv6, _logger);
        var collector = new MdnsAddressCollector(hostName);
        var query = MdnsQueryMatcher.BuildAddressQuery(hostName, options.UseIPv4, options.UseIPv6,
            options.ServicePortOf is { } type ? MdnsWire.ServiceTypeName(type) : null);
        var clock = Stopwatch.StartNew();
        var nextSend = TimeSpan.Zero;
        var queriesSent = 0;
        TimeSpan? firstAnswerAt = null;
        _logger.Debug(
            "mDNS: resolving {Name} on {Interfaces}", hostName, string.Join(", ", interfaces.Select(i => i.Name)));

        while (true)
        {
            var now = clock.Elapsed;
            if (firstAnswerAt is null && now >= nextSend && now < timeout)
            {
                if (await transport.SendMulticastToAllAsync(query, cancellationToken) == 0 && queriesSent == 0)
                {
                    // Keep trying until the timeout (an interface may come up), but say why nothing will answer.
                    _logger.Warning(
                        "mDNS: the query for {Name} could not be sent on any interface (no multicast route?)",
                        hostName);
                }
                queriesSent++;
                _logger.Debug(
                    "mDNS: query {Count} for {Name} sent at {Elapsed} ms",
                    queriesSent,
                    hostName,
                    (int)now.TotalMilliseconds);
                nextSend = MdnsQuerySchedule.SendTime(queriesSent); // RFC 6762 §5.2: 1 s, 2 s, 4 s… apart
            }
            var stopAt = firstAnswerAt is { } first ? Min(first + options.OtherFamilyGrace, timeout) : timeout;
            if (now >= stopAt)
                break;
            var wakeAt = firstAnswerAt is null ? Min(nextSend, stopAt) : stopAt;
            var datagram = await ReadAsync(transport.Received, wakeAt - clock.Elapsed, cancellationToken);
            if (datagram is not { } received || !collector.Add(received.Message, received.Interface.Index))
                continue;
            if (_logger.IsEnabled(LogEventLevel.Debug))
            {
                _logger.Debug("mDNS: answer from {Source} on {Interface}: {Records}", received.Source,
                    received.Interface.Name, MdnsRecordText.Describe(received.Message));
            }
            firstAnswerAt ??= clock.Elapsed;
            // Both families in hand: nothing more to wait for.
            if ((collector.HasIPv4 || !options.UseIPv4) && (collector.HasIPv6 || !options.UseIPv6))
                break;
        }

        if (collector.Addresses.Count == 0)
        {
            throw new WsCoreException(FailureKind.NameNotResolved,
                $"{hostName} could not be resolved by mDNS within {FormatSeconds(timeout)}",
                hint: "is the device powered and on this network?")
            { HintField = InputField.Target };
        }
        var iface = MdnsInterfaces.ByIndex(interfaces, collector.FirstInterfaceIndex ?? 0);
        var elapsed = firstAnswerAt ?? clock.Elapsed;
        _logger.Debug(
            "mDNS: {Name} is {Addresses} ({Elapsed} ms)",
            hostName,
            collector.Addresses,
            (int)elapsed.TotalMilliseconds);
        return new MdnsResolveResult(
            hostName.ToString(), collector.Addresses, iface?.Name ?? "?", elapsed, queriesSent, collector.ServicePort);
    }

    /// <summary>
    /// Lists the instances of a DNS-SD service type (RFC 6763 §4) for <paramref name="duration"/>: PTR queries
    /// repeated after 1 s, 2 s, 4 s… carrying the instances already known (RFC 6762 §7.1), plus SRV, TXT and
    /// A/AAAA questions for whatever the responses left out.
    /// </summary>
    /// <param name="serviceType">"_ws._tcp" or "_ws._tcp.local".</param>
    /// <param name="duration">How long to listen. Devices answer within about 120 ms of each query.</param>
    /// <param name="options">Interfaces and families; null for the defaults.</param>
    /// <param name="cancellationToken">Cancels the browse (throws <see cref="OperationCanceledException"/>).</param>
    /// <returns>Every instance seen, in order of discovery; possibly empty (that is not an error).</returns>
    /// <exception cref="WsCoreException"><see cref="FailureKind.InvalidInput"/> for a malformed type or unknown
    /// interface.</exception>
    public async Task<IReadOnlyList<MdnsServiceInstance>> BrowseAsync(
        string serviceType,
        TimeSpan duration,
        MdnsOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        options ??= new MdnsOptions();
        var typeName = MdnsWire.ServiceTypeName(serviceType);
        var interfaces = MdnsInterfaces.Select(options.InterfaceName, options.UseIPv4, options.UseIPv6);
        await using var transport = MdnsTransport.Open(interfaces, options.UseIPv4, options.UseIPv6, _logger);
        var state = new MdnsBrowseState(typeName);
        var clock = Stopwatch.StartNew();
        var nextSend = TimeSpan.Zero;
        var queriesSent = 0;
        var followUpPending = false;

        while (clock.Elapsed < duration)
        {
            var now = clock.Elapsed;
            if (now >= nextSend || followUpPending)
            {
                await transport.SendMulticastToAllAsync(
                    state.BuildQuery(options.UseIPv4, options.UseIPv6), cancellationToken);
                followUpPending = false;
                if (now >= nextSend)
                    nextSend = MdnsQuerySchedule.SendTime(++queriesSent);
            }
            var datagram = await ReadAsync(
                transport.Received, Min(nextSend, duration) - clock.Elapsed, cancellationToken);
            if (datagram is { } received && state.Add(received.Message, received.Interface.Index))
            {
                // Something new: after a short pause (more answers arrive together) ask at once for what is missing.
                followUpPending = NeedsFollowUp(state);
                if (followUpPending)
                    await DrainBrieflyAsync(
                        transport.Received, state, TimeSpan.FromMilliseconds(150), cancellationToken);
                followUpPending = NeedsFollowUp(state);
            }
        }
        return [.. state.Snapshot().Select(s => ToInstance(s, typeName, interfaces))];
    }

    private static bool NeedsFollowUp(MdnsBrowseState state) =>
        state.Snapshot().Any(s => s.Srv is null || s.Txt is null || s.Addresses.Count == 0);

    private static async Task DrainBrieflyAsync(
        ChannelReader<MdnsDatagram> reader, MdnsBrowseState state, TimeSpan window, CancellationToken cancellationToken)
    {
        var until = Stopwatch.StartNew();
        while (until.Elapsed < window
            && await ReadAsync(reader, window - until.Elapsed, cancellationToken) is { } received)
            state.Add(received.Message, received.Interface.Index);
    }

    private static MdnsServiceInstance ToInstance(
        (
            DomainName Name,
            int InterfaceIndex,
            SRVRecord? Srv,
            TXTRecord? Txt,
            IReadOnlyList<System.Net.IPAddress> Addresses) s,
        DomainName typeName, IReadOnlyList<MdnsInterface> interfaces) =>
        new(InstanceName: s.Name.Labels[0],
            ServiceType: typeName.ToString(),
            HostName: s.Srv?.Target.ToString(),
            Port: s.Srv?.Port ?? 0,
            Addresses: s.Addresses,
            Txt: s.Txt is null ? new Dictionary<string, string>() : MdnsTxt.Decode(s.Txt.Strings),
            InterfaceName: MdnsInterfaces.ByIndex(interfaces, s.InterfaceIndex)?.Name ?? "?");

    // RFC 6762 §11: a querier "MUST only accept responses to that query that originate from the local link". What
    // came through the group did (link-local multicast is not routed); what was sent to this host's address counts
    // only from a source on the receiving interface's link, so no host elsewhere can answer for a .local name.
    private static bool IsFromOffLink(MdnsDatagram datagram) =>
        !datagram.SentToGroup && !MdnsLink.IsOnLink(datagram.Source.Address, datagram.Interface.Prefixes);

    /// <summary>
    /// The next datagram from the link (those sent to this host from off the link are dropped), or null if none
    /// arrives within <paramref name="wait"/>.
    /// </summary>
    internal static async Task<MdnsDatagram?> ReadAsync(
        ChannelReader<MdnsDatagram> reader, TimeSpan wait, CancellationToken cancellationToken)
    {
        while (reader.TryRead(out var ready))
        {
            if (!IsFromOffLink(ready))
                return ready;
        }
        if (wait <= TimeSpan.Zero)
            return null;
        using var timer = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timer.CancelAfter(wait);
        try
        {
            while (await reader.WaitToReadAsync(timer.Token))
            {
                if (reader.TryRead(out var item) && !IsFromOffLink(item))
                    return item;
            }
            return null; // channel completed: the transport closed
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return null;
        }
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    internal static string FormatSeconds(TimeSpan span) =>
        span.TotalSeconds.ToString(span.TotalSeconds % 1 == 0 ? "0" : "0.###", CultureInfo.InvariantCulture) + " s";
}
