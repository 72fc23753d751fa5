using System.Net;
using WsCore;

namespace Wsctl.Send;

/// <summary>
/// Watches a client's resolve hook, so that a run limit that ends while a name is still being resolved reports "name
/// not resolved" (exit 3) rather than a timeout: mDNS has no negative answer (RFC 6762 §5), silence until the
/// deadline is its "no", and the run limit and the resolve deadline are the same --timeout.
/// </summary>
public sealed class ResolveWatch
{
    private volatile string? _pending;

    /// <summary><paramref name="resolve"/>, wrapped to record which name is being resolved until it resolves.</summary>
    public Func<string, CancellationToken, Task<IPAddress[]>>? Wrap(
        Func<string, CancellationToken, Task<IPAddress[]>>? resolve) =>
        resolve is null
            ? null
            : async (host, cancel) =>
            {
                _pending = host;
                var addresses = await resolve(host, cancel);
                _pending = null;
                return addresses;
            };

    /// <summary>
    /// The NameNotResolved error to report instead of a timeout, or null when no resolve was cut off.
    /// </summary>
    public WsCoreException? CutOff(TimeSpan limit) => _pending is { } host
        ? new WsCoreException(FailureKind.NameNotResolved,
            $"'{host}' could not be resolved within {Cli.Duration.Format(limit)}",
            "is the device on this network? wsctl probe --discover lists the devices that answer")
        : null;
}
