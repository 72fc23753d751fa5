using System.Diagnostics;
using System.Text.RegularExpressions;
using WsCore.Mdns;

namespace WsCore.Ota;

/// <summary>
/// Updates many devices: the first <c>canary</c> of them first, and the rest only if every canary succeeded; at
/// most <c>parallel</c> at a time, each with its own <see cref="OtaClient"/>. Thread-safety: one run at a time per
/// instance; the observer is called from every device's task.
/// </summary>
public sealed class OtaFleet(OtaOptions options, IOtaObserver? observer = null)
{
    /// <summary>
    /// Updates <paramref name="targets"/> (names and endpoints) to <paramref name="image"/>; the results in the order
    /// of <paramref name="targets"/>. Only <see cref="OperationCanceledException"/> of <paramref name="cancel"/>
    /// escapes.
    /// </summary>
    public async Task<IReadOnlyList<OtaTargetResult>> RunAsync(IReadOnlyList<(string Name, Uri Endpoint)> targets,
        OtaImage image, int canary, int parallel, CancellationToken cancel)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(canary);
        ArgumentOutOfRangeException.ThrowIfLessThan(parallel, 1);
        var canaries = Math.Min(canary, targets.Count);
        var first = await RunBatchAsync(targets.Take(canaries).ToList(), image, parallel, cancel);
        if (first.Any(r => !r.Ok))
        {
            var failed = first.First(r => !r.Ok).Target;
            return [.. first, .. targets.Skip(canaries).Select(t => new OtaTargetResult(t.Name, null,
                new WsCoreException(FailureKind.Other, $"not updated: canary {failed} failed"), TimeSpan.Zero,
                Skipped: true))];
        }
        return [.. first, .. await RunBatchAsync(targets.Skip(canaries).ToList(), image, parallel, cancel)];
    }

    private async Task<OtaTargetResult[]> RunBatchAsync(IReadOnlyList<(string Name, Uri Endpoint)> batch,
        OtaImage image, int parallel, CancellationToken cancel)
    {
        using var gate = new SemaphoreSlim(parallel);
        return await Task.WhenAll(batch.Select(async target =>
        {
            await gate.WaitAsync(cancel);
            var started = Stopwatch.GetTimestamp();
            try
            {
                var result = await new OtaClient(options, observer).UpdateAsync(target.Endpoint, target.Name, image,
                    cancel);
                return new OtaTargetResult(target.Name, result, null, Stopwatch.GetElapsedTime(started));
            }
            catch (WsCoreException e)
            {
                return new OtaTargetResult(target.Name, null, e, Stopwatch.GetElapsedTime(started));
            }
            finally
            {
                gate.Release();
            }
        }));
    }

    /// <summary>
    /// Whether a device found by DNS-SD matches <paramref name="pattern"/>, a glob (<c>*</c> any run of characters,
    /// <c>?</c> one; case ignored) on its instance name, its host name (with or without <c>.local</c>), or one of
    /// its TXT entries as <c>key=value</c> (<c>version=1.2.*</c>).
    /// </summary>
    public static bool Matches(DiscoveredDevice device, string pattern)
    {
        var glob = new Regex("^" + Regex.Escape(pattern).Replace("\\*", ".*").Replace("\\?", ".") + "$",
            RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
        var instance = device.Instance;
        var host = instance.HostName?.TrimEnd('.');
        IEnumerable<string?> candidates =
        [
            instance.InstanceName, host, host is null ? null : Regex.Replace(host, @"\.local$", "",
                RegexOptions.IgnoreCase, TimeSpan.FromSeconds(1)),
            .. instance.Txt.Select(kv => $"{kv.Key}={kv.Value}"),
        ];
        return candidates.Any(c => c is not null && glob.IsMatch(c));
    }
}
