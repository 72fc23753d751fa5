using WsCore;

namespace Wsctl.Cli;

/// <summary>The one exit-code table of every verb (README, "Exit codes").</summary>
public enum ExitCode
{
    Ok = 0,
    Usage = 1,
    Failure = 2,
    NameNotResolved = 3,
    ConnectFailed = 4,
    HandshakeRejected = 5,
    Timeout = 6,
    ConnectionEnded = 7,
    Tls = 8,
    Partial = 9,
    Device = 10,
    VerificationFailed = 11,
    DeviceCrashed = 12,
    Interrupted = 130,
}

public static class ExitCodes
{
    /// <summary>One line per code, as printed in --help and the README.</summary>
    public static readonly IReadOnlyList<(ExitCode Code, string Meaning)> Table =
    [
        (ExitCode.Ok, "ok"),
        (ExitCode.Usage, "usage error (bad arguments or input; nothing was done)"),
        (ExitCode.Failure, "other failure"),
        (ExitCode.NameNotResolved, "name not resolved"),
        (ExitCode.ConnectFailed, "connection refused or unreachable"),
        (ExitCode.HandshakeRejected, "handshake rejected (status other than 101, e.g. 503 when the server is full)"),
        (ExitCode.Timeout, "timeout"),
        (
            ExitCode.ConnectionEnded,
            "connection ended other than as asked (close code other than 1000/1001 or none, early close, protocol " +
                "error)"),
        (ExitCode.Tls, "TLS or authentication failure (a certificate, a pin, an OTA key)"),
        (ExitCode.Partial, "partial: some targets failed (all failed: the first failure's code)"),
        (ExitCode.Device, "device or serial-port error"),
        (ExitCode.VerificationFailed, "verification failed (also: an updated device rolled back)"),
        (ExitCode.DeviceCrashed, "the device panicked or keeps rebooting"),
        (ExitCode.Interrupted, "interrupted"),
    ];

    public static ExitCode From(FailureKind kind) => kind switch
    {
        FailureKind.InvalidInput => ExitCode.Usage,
        FailureKind.NameNotResolved => ExitCode.NameNotResolved,
        FailureKind.ConnectionFailed => ExitCode.ConnectFailed,
        FailureKind.HandshakeRejected => ExitCode.HandshakeRejected,
        FailureKind.Timeout => ExitCode.Timeout,
        FailureKind.ConnectionEnded => ExitCode.ConnectionEnded,
        FailureKind.Tls or FailureKind.AuthenticationFailed => ExitCode.Tls,
        FailureKind.Partial => ExitCode.Partial,
        FailureKind.Device => ExitCode.Device,
        FailureKind.VerificationFailed => ExitCode.VerificationFailed,
        FailureKind.Interrupted => ExitCode.Interrupted,
        FailureKind.DeviceCrashed => ExitCode.DeviceCrashed,
        _ => ExitCode.Failure,
    };

    /// <summary>What <paramref name="code"/> means, as the table says it.</summary>
    public static string Meaning(ExitCode code) =>
        Table.FirstOrDefault(row => row.Code == code).Meaning ?? $"exit {(int)code}";

    /// <summary>The help epilogue naming the codes a verb can return.</summary>
    public static string Describe(params ExitCode[] codes)
    {
        var lines = Table.Where(row => codes.Length == 0 || codes.Contains(row.Code))
            .Select(row => $"  {(int)row.Code,3}  {row.Meaning}");
        return "Exit codes:\n" + string.Join("\n", lines);
    }
}
