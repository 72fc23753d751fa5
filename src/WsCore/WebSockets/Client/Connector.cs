using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using WsCore.WebSockets.Tls;

namespace WsCore.WebSockets.Client;

/// <summary>How long each step of a connection took.</summary>
/// <param name="Resolve">Name to addresses (zero for an address literal or a caller's stream).</param>
/// <param name="Connect">TCP, every address tried included.</param>
/// <param name="Tls">The TLS handshake (zero for <c>ws://</c>).</param>
/// <param name="Handshake">The WebSocket opening handshake (RFC 6455 §4).</param>
public sealed record ConnectTimings(TimeSpan Resolve, TimeSpan Connect, TimeSpan Tls, TimeSpan Handshake)
{
    /// <summary>No step taken yet.</summary>
    public static readonly ConnectTimings None = new(TimeSpan.Zero, TimeSpan.Zero, TimeSpan.Zero, TimeSpan.Zero);
}

/// <summary>A TCP connection to one of a host's addresses.</summary>
/// <param name="Socket">The connected socket (the caller owns it).</param>
/// <param name="RemoteEndPoint">The address and port that accepted.</param>
/// <param name="Elapsed">Time taken, every address tried included.</param>
internal sealed record TcpConnection(Socket Socket, IPEndPoint RemoteEndPoint, TimeSpan Elapsed);

/// <summary>
/// The way to a WebSocket server's stream, one for <see cref="WebSocketClient"/> and the prober: resolve the host,
/// connect TCP to each address in turn, add TLS for <c>wss://</c>. Each step fails with the same
/// <see cref="WsCoreException"/> kinds, messages and hints whoever calls it.
/// </summary>
/// <remarks>
/// Each step takes a time limit of its own (the prober times and bounds stage by stage) and the caller's token (the
/// client bounds all the steps together with it, and says so when it fires); a step whose own limit passes fails with
/// <see cref="FailureKind.Timeout"/>, while the caller's token ends it with <see cref="OperationCanceledException"/>.
/// Stateless; thread-safe.
/// </remarks>
internal static class Connector
{
    /// <summary>
    /// The host's addresses: an address literal as it is, else <paramref name="resolve"/> (e.g. mDNS for
    /// <c>NAME.local</c>) or the system resolver. <paramref name="limit"/> is only named in messages: the caller's
    /// <paramref name="cancel"/> bounds the time, and <paramref name="caller"/> tells its own cancellation apart.
    /// </summary>
    public static async Task<IPAddress[]> ResolveAsync(string host,
        Func<string, CancellationToken, Task<IPAddress[]>>? resolve, TimeSpan limit, CancellationToken caller,
        CancellationToken cancel)
    {
        if (IPAddress.TryParse(host.Trim('[', ']'), out var literal))
            return [literal];
        if (resolve is not null)
        {
            try
            {
                var resolved = await resolve(host, cancel);
                return resolved.Length > 0
                    ? resolved
                    : throw new WsCoreException(FailureKind.NameNotResolved, $"'{host}' has no address");
            }
            catch (OperationCanceledException) when (!caller.IsCancellationRequested)
            {
                // mDNS has no negative answer (RFC 6762 §5): silence until the deadline means "no such name".
                throw new WsCoreException(FailureKind.NameNotResolved,
                    $"'{host}' could not be resolved within {Seconds(limit)}",
                    "is the device on this network?")
                { HintField = InputField.Target };
            }
        }
        try
        {
            var addresses = await Dns.GetHostAddressesAsync(host, cancel);
            if (addresses.Length == 0)
                throw new WsCoreException(FailureKind.NameNotResolved, $"'{host}' has no address");
            return addresses;
        }
        catch (SocketException e)
        {
            throw new WsCoreException(FailureKind.NameNotResolved, $"cannot resolve '{host}': {e.Message}",
                host.EndsWith(".local", StringComparison.OrdinalIgnoreCase)
                    ? "for .local names, is the device on this network and mDNS (avahi) running?"
                    : "check the host name", e);
        }
    }

    /// <summary>
    /// Connects TCP to each address in turn (in the order given: resolvers put IPv4 first) until one accepts, all of
    /// them within <paramref name="timeout"/> (<see cref="Timeout.InfiniteTimeSpan"/>: only the caller's token). Each
    /// address that fails is added to <paramref name="failures"/> as it fails ("10.0.0.5:8080: Connection refused"),
    /// so the caller has the list whether or not one connects.
    /// </summary>
    /// <exception cref="WsCoreException">ConnectionFailed when every address refused or was unreachable; Timeout when
    /// <paramref name="timeout"/> passed. Both list each address tried and why it failed.</exception>
    public static async Task<TcpConnection> ConnectTcpAsync(string host, IReadOnlyList<IPAddress> addresses, int port,
        TimeSpan timeout, CancellationToken cancel, List<string>? failures = null)
    {
        var clock = Stopwatch.StartNew();
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        deadline.CancelAfter(timeout);
        var failed = failures ?? [];
        var timedOut = false;
        foreach (var address in addresses)
        {
            var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            var endPoint = new IPEndPoint(address, port);
            try
            {
                await socket.ConnectAsync(endPoint, deadline.Token);
                return new TcpConnection(socket, endPoint, clock.Elapsed);
            }
            catch (SocketException e)
            {
                socket.Dispose();
                failed.Add($"{Format(endPoint)}: {e.Message}");
            }
            catch (OperationCanceledException) when (!cancel.IsCancellationRequested)
            {
                socket.Dispose();
                failed.Add($"{Format(endPoint)}: no answer within {Seconds(timeout)}");
                timedOut = true;
                break;
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }
        var why = failed.Count == 0 ? "no address" : string.Join("; ", failed);
        throw timedOut
            ? new WsCoreException(FailureKind.Timeout, $"TCP connect to {host}:{port} timed out ({why})",
                "is the device powered and on this network?")
            : new WsCoreException(FailureKind.ConnectionFailed, $"cannot connect to {host}:{port} ({why})",
                "is the server running, and is the port right?");
    }

    /// <summary>
    /// Adds TLS over <paramref name="stream"/> (which the returned stream then owns; on failure it is disposed). The
    /// server's certificate must be trusted by the system for <paramref name="host"/>, unless
    /// <paramref name="allowUntrusted"/> (any certificate) or <paramref name="pin"/> (exactly the certificate with that
    /// fingerprint, whatever its chain, name or dates).
    /// </summary>
    /// <exception cref="WsCoreException">Tls, with a hint that tells an untrusted certificate from a server that does
    /// not speak TLS, and naming both fingerprints when the pin does not match; Timeout when
    /// <paramref name="timeout"/> passed.</exception>
    public static async Task<Stream> AuthenticateAsync(Stream stream, string host, bool allowUntrusted,
        CertificatePin? pin, TimeSpan timeout, CancellationToken cancel)
    {
        var tls = new SslStream(stream, leaveInnerStreamOpen: false);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        deadline.CancelAfter(timeout);
        // The certificate the server presented and why the system does not trust it, to say so when it is refused.
        string? presented = null;
        string? untrusted = null;
        try
        {
            var authentication = new SslClientAuthenticationOptions
            {
                TargetHost = host,
                RemoteCertificateValidationCallback = (_, certificate, chain, errors) =>
                {
                    presented = certificate is null ? null : CertificateFingerprint.Sha256(certificate);
                    if (pin is not null)
                        return certificate is not null && pin.Matches(certificate);
                    if (allowUntrusted || errors == SslPolicyErrors.None)
                        return true;
                    untrusted = DescribeErrors(errors, chain, host);
                    return false;
                },
            };
            await tls.AuthenticateAsClientAsync(authentication, deadline.Token);
            return tls;
        }
        catch (Exception e) when (e is AuthenticationException or IOException)
        {
            await tls.DisposeAsync();
            if (pin is not null && presented is not null)
                throw new WsCoreException(FailureKind.Tls,
                    $"TLS with {host} failed: its certificate's SHA-256 fingerprint is {presented}, not the pinned " +
                    $"{pin}",
                    "if the server's certificate was replaced on purpose (a restarted self-signed server makes a new " +
                    "one), pin the new fingerprint", e)
                { HintField = InputField.CertificatePin };
            // A certificate the system does not trust (a device's self-signed one) is one thing; an answer that is no
            // TLS at all (a plain ws:// server answering 400, or closing) is another, and far more common.
            if (untrusted is not null)
                throw new WsCoreException(FailureKind.Tls,
                    $"TLS with {host} failed: its certificate is not trusted ({untrusted})" +
                        (presented is null ? "" : $"; its SHA-256 fingerprint is {presented}"),
                    "if it is the device's own self-signed certificate, trust exactly that one by its fingerprint", e)
                { HintField = InputField.CertificatePin };
            // .NET's own words ("Cannot determine the frame size or a corrupted frame was received") describe the
            // symptom; the cause is nearly always a plain server, which answers a TLS hello with HTTP 400 or a close.
            throw new WsCoreException(FailureKind.Tls,
                $"{host} does not speak TLS: it answered the TLS hello with something else ({e.Message.TrimEnd('.')})",
                "it looks like a plain server: use ws:// instead of wss://", e);
        }
        catch (OperationCanceledException) when (!cancel.IsCancellationRequested)
        {
            await tls.DisposeAsync();
            throw new WsCoreException(FailureKind.Timeout, $"TLS with {host} took longer than {Seconds(timeout)}");
        }
        catch
        {
            await tls.DisposeAsync();
            throw;
        }
    }

    // What the system's validation found, e.g. "not issued for esp32.local; chain: UntrustedRoot".
    private static string DescribeErrors(SslPolicyErrors errors, X509Chain? chain, string host)
    {
        var why = new List<string>();
        if (errors.HasFlag(SslPolicyErrors.RemoteCertificateNotAvailable))
            why.Add("no certificate was sent");
        if (errors.HasFlag(SslPolicyErrors.RemoteCertificateNameMismatch))
            why.Add($"it is not issued for {host}");
        if (errors.HasFlag(SslPolicyErrors.RemoteCertificateChainErrors))
        {
            var status = chain?.ChainStatus.Select(s => s.Status.ToString()).Distinct().ToList() ?? [];
            why.Add(status.Count > 0 ? "chain: " + string.Join(", ", status) : "its chain does not validate");
        }
        return string.Join("; ", why);
    }

    /// <summary>
    /// Refuses a certificate pin for a target without TLS: the user asked for a trusted server and would otherwise get
    /// an unauthenticated one without a word.
    /// </summary>
    public static void CheckPinNeedsTls(CertificatePin? pin, bool secure, string target)
    {
        if (pin is not null && !secure)
            throw WsCoreException.Invalid(InputField.CertificatePin,
                $"a certificate pin needs a wss:// target, and {target} is not one");
    }

    /// <summary>An end point as written in URLs: IPv6 in brackets.</summary>
    public static string Format(IPEndPoint endPoint) =>
        endPoint.AddressFamily == AddressFamily.InterNetworkV6
            ? $"[{endPoint.Address}]:{endPoint.Port}"
            : $"{endPoint.Address}:{endPoint.Port}";

    private static string Seconds(TimeSpan value) =>
        $"{value.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture)} s";
}
