using System.Runtime.InteropServices;

namespace Wsctl.Cli;

/// <summary>
/// Turns the first SIGINT (Ctrl-C) or SIGTERM into a cancelled <see cref="Token"/>, so a verb can stop, report what it
/// has and exit 130 itself; a second signal ends the process at once (for when stopping takes longer than the user
/// will wait), with 128 + the signal's number as a shell reports a process the signal killed, but through
/// <see cref="Environment.Exit"/>, so process-exit handlers still run: serve's control socket is removed by one. The
/// runtime's own default would kill the process without them. The verb sets System.CommandLine's
/// <c>ProcessTerminationTimeout</c> to null first: its own handling would end the process after a 2 s grace period,
/// possibly before the report is written.
/// </summary>
public sealed class GracefulInterrupt : IDisposable
{
    private readonly CancellationTokenSource _interrupted;
    private readonly PosixSignalRegistration _sigint;
    private readonly PosixSignalRegistration _sigterm;

    /// <param name="outer">Also cancels <see cref="Token"/> (System.CommandLine's token, say).</param>
    public GracefulInterrupt(CancellationToken outer)
    {
        _interrupted = CancellationTokenSource.CreateLinkedTokenSource(outer);
        // A script's `wsctl bench … &` inherits SIGINT ignored; `kill -INT` must still stop it.
        IgnoredSignals.RestoreInterrupt();
        _sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        _sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
    }

    /// <summary>Cancelled by the first SIGINT or SIGTERM.</summary>
    public CancellationToken Token => _interrupted.Token;

    private void OnSignal(PosixSignalContext context)
    {
        context.Cancel = true;
        if (!_interrupted.IsCancellationRequested)
        {
            _interrupted.Cancel();
            return;
        }
        // The second one.
        Environment.Exit(128 + (context.Signal == PosixSignal.SIGINT ? SigInt : SigTerm));
    }

    // Their numbers on Linux (signal(7)); PosixSignal's values are not the platform's.
    private const int SigInt = 2;
    private const int SigTerm = 15;

    public void Dispose()
    {
        _sigint.Dispose();
        _sigterm.Dispose();
        _interrupted.Dispose();
    }
}
