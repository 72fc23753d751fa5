using System.Runtime.InteropServices;

namespace Wsctl.Cli;

/// <summary>
/// SIGHUP as "reload your files", as daemons take it (nginx, HAProxy, sshd): while registered, each SIGHUP runs
/// <c>reload</c> (one at a time) instead of ending the process. Beside <see cref="GracefulInterrupt"/>, which keeps
/// SIGINT and SIGTERM; only a verb with something to reload registers it, so for every other verb a hangup still ends
/// the process. Not on Windows, where SIGHUP stands for the console window closing, which cannot be refused.
/// </summary>
public sealed class ReloadSignal : IDisposable
{
    private readonly PosixSignalRegistration? _sighup;
    private readonly Lock _reloading = new();

    /// <param name="reload">Runs on each SIGHUP, never twice at once; what it throws is its own to report.</param>
    public ReloadSignal(Action reload)
    {
        if (OperatingSystem.IsWindows())
            return;
        _sighup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, context =>
        {
            context.Cancel = true;
            lock (_reloading)
                reload();
        });
    }

    public void Dispose() => _sighup?.Dispose();
}
