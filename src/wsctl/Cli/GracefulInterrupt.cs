using System.Runtime.InteropServices;

namespace Wsctl.Cli;

/// <summary>
/// Turns the first SIGINT (Ctrl-C) or SIGTERM into a cancelled <see cref="Token"/>, so a verb can stop, report what it
/// has and exit 130 itself; a second signal is left to the runtime's default, which ends the process at once (for
/// when stopping takes longer than the user will wait). The verb sets System.CommandLine's
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
        if (_interrupted.IsCancellationRequested)
            return;   // the second one: the default action ends the process
        context.Cancel = true;
        _interrupted.Cancel();
    }

    public void Dispose()
    {
        _sigint.Dispose();
        _sigterm.Dispose();
        _interrupted.Dispose();
    }
}
