using System.Net;
using Serilog;
using WsCore.WebSockets.Tls;

namespace WsCore.Ota;

/// <summary>How <see cref="OtaClient"/> updates a device.</summary>
public sealed record OtaOptions
{
    /// <summary>The device's OTA key (32 bytes).</summary>
    public required byte[] Key { get; init; }

    /// <summary>Install an image of another project than the running one (the device's <c>force</c>).</summary>
    public bool Force { get; init; }

    /// <summary>
    /// Confirm the new image once the device runs it (the default). Without, the update ends when the device runs
    /// it unconfirmed (<see cref="OtaOutcome.Pending"/>), and it rolls back at its own deadline unless confirmed.
    /// </summary>
    public bool Confirm { get; init; } = true;

    /// <summary>
    /// The limit of each wait on the device during an upload: connecting, its hello, <c>ready</c>, each
    /// acknowledgement (the first one waits for the slot's erase), the read-back hash.
    /// </summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long to wait, after <c>rebooting</c>, for the device to come back and confirm.</summary>
    public TimeSpan ConfirmTimeout { get; init; } = TimeSpan.FromSeconds(120);

    /// <summary>For <c>wss://</c>: accept any certificate (a device's self-signed one).</summary>
    public bool AllowUntrustedCertificate { get; init; }

    /// <summary>For <c>wss://</c>: trust exactly the certificate with this fingerprint.</summary>
    public CertificatePin? CertificatePin { get; init; }

    /// <summary>Resolves host names in place of the system resolver (mDNS for NAME.local), or null.</summary>
    public Func<string, CancellationToken, Task<IPAddress[]>>? Resolve { get; init; }

    /// <summary>Where the client logs.</summary>
    public ILogger Logger { get; init; } = Serilog.Core.Logger.None;

    /// <summary>Never prints the key.</summary>
    public override string ToString() =>
        $"OtaOptions {{ Force = {Force}, Confirm = {Confirm}, Timeout = {Timeout}, " +
            $"ConfirmTimeout = {ConfirmTimeout} }}";
}
