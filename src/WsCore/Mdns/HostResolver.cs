using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Serilog;
using Serilog.Core;
using WsCore.Targets;
using WsCore.WebSockets.Client;

namespace WsCore.Mdns;

/// <summary>The resolve stage of a probe: which addresses a host has, found how, and how long it took.</summary>
/// <param name="Host">The host as given.</param>
/// <param name="Method">"mdns", "dns" or "literal".</param>
/// <param name="Addresses">The addresses, IPv4 first.</param>
/// <param name="InterfaceName">For mDNS: the interface the answer came on; otherwise null.</param>
/// <param name="Elapsed">Time taken by the stage.</param>
/// <param name="QueriesSent">For mDNS: queries sent (RFC 6762 §5.2 retransmissions); otherwise 0.</param>
/// <param name="ServicePort">For mDNS without a given port: the port of the host's _ws._tcp service, if it
/// answered.</param>
public sealed record HostResolution(
    string Host,
    string Method,
    IReadOnlyList<IPAddress> Addresses,
    string? InterfaceName,
    TimeSpan Elapsed,
    int QueriesSent,
    int? ServicePort = null);

/// <summary>
/// Resolves a probe target's host: mDNS for <c>NAME.local</c> (no nss-mdns needed), the system resolver for other
/// names, nothing for an address. Thread-safety: stateless; concurrent calls are safe.
/// </summary>
public sealed class HostResolver
{
    private readonly ILogger _logger;
    private readonly MdnsClient _mdns;

    /// <summary>A resolver logging to <paramref name="logger"/> (default: nowhere).</summary>
    public HostResolver(ILogger? logger = null)
    {
        _logger = logger ?? Logger.None;
        _mdns = new MdnsClient(_logger);
    }

    /// <summary>
    /// A <see cref="WsCore.WebSockets.Client.WebSocketClientOptions.Resolve"/> hook: <c>NAME.local</c> by mDNS (so
    /// <c>wsctl send esp32ws.local</c> works without nss-mdns), other names by the system resolver; at most
    /// <paramref name="timeout"/> per name. Addresses come back IPv4 first.
    /// </summary>
    public Func<string, CancellationToken, Task<IPAddress[]>> ForClient(
        TimeSpan timeout, MdnsOptions? mdnsOptions = null) =>
        async (host, cancellationToken) =>
        {
            var resolution = await ResolveAsync(WebSocketTarget.Parse(host), timeout, mdnsOptions, cancellationToken);
            return [.. resolution.Addresses];
        };

    /// <summary>
    /// Resolves <paramref name="target"/>'s host within <paramref name="timeout"/>.
    /// </summary>
    /// <exception cref="WsCoreException">
    /// <see cref="FailureKind.NameNotResolved"/> if no address was found in time (mDNS: the querier's message and
    /// hint; DNS: the resolver's error); <see cref="FailureKind.InvalidInput"/> for bad options.
    /// </exception>
    public async Task<HostResolution> ResolveAsync(WebSocketTarget target, TimeSpan timeout,
        MdnsOptions? mdnsOptions = null, CancellationToken cancellationToken = default)
    {
        var clock = Stopwatch.StartNew();
        switch (target.Kind)
        {
            case HostKind.Address:
                return new HostResolution(
                    target.Host, "literal", [IPAddress.Parse(target.Host)], null, clock.Elapsed, 0);
            case HostKind.Mdns:
                // Without a port of the caller's, the device's _ws._tcp record says which (in the same query).
                if (!target.PortGiven)
                    mdnsOptions = (mdnsOptions ?? new MdnsOptions()) with { ServicePortOf = "_ws._tcp" };
                var answer = await _mdns.ResolveAsync(target.Host, timeout, mdnsOptions, cancellationToken);
                return new HostResolution(
                    target.Host,
                    "mdns",
                    answer.Addresses,
                    answer.InterfaceName,
                    answer.Elapsed,
                    answer.QueriesSent,
                    answer.ServicePort);
            default:
                try
                {
                    var addresses = await Dns.GetHostAddressesAsync(
                        target.Host, cancellationToken).WaitAsync(timeout, cancellationToken);
                    if (addresses.Length == 0)
                        throw new WsCoreException(FailureKind.NameNotResolved, $"{target.Host} has no address");
                    return new HostResolution(
                        target.Host, "dns", MdnsQueryMatcher.OrderIPv4First(addresses), null, clock.Elapsed, 0);
                }
                catch (TimeoutException)
                {
                    throw new WsCoreException(FailureKind.NameNotResolved,
                        $"{target.Host} could not be resolved by DNS within {MdnsClient.FormatSeconds(timeout)}",
                        hint: "check the name and the DNS settings");
                }
                catch (SocketException ex)
                {
                    _logger.Debug("DNS lookup of {Host} failed: {Error}", target.Host, ex.SocketErrorCode);
                    throw new WsCoreException(
                        FailureKind.NameNotResolved,
                        $"{target.Host} could not be resolved by DNS ({ex.Message})",
                        hint: "check the name; a device's mDNS name ends in .local",
                        inner: ex);
                }
        }
    }
}
