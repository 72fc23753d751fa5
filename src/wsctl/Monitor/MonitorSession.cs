using System.Text;
using System.Text.RegularExpressions;
using Serilog;
using WsCore;
using WsCore.Esp;
using WsCore.Monitor;
using Wsctl.Cli;

namespace Wsctl.Monitor;

/// <summary>What <c>wsctl monitor</c> was asked to do.</summary>
/// <param name="Port">A serial device, socket://HOST:PORT, or auto.</param>
/// <param name="Elf">The app's ELF, or null.</param>
/// <param name="Firmware">A build directory whose app ELF decodes panics, or null.</param>
/// <param name="Timeout">The time limit, or null for none.</param>
public sealed record MonitorSettings(string Port, int Baud, string? Elf, string? Firmware, bool ResetIntoApp,
    Regex? Until, TimeSpan? Timeout, bool Json);

/// <summary>
/// Runs a <see cref="SerialMonitor"/> on an open transport with the renderer stdout calls for, feeds it stdin, and
/// turns its end into an exit code (shared by <c>monitor</c> and <c>flash --monitor</c>): matched or stopped 0;
/// a timeout, a panic or a reboot loop as a <see cref="WsCoreException"/> of their kind, after the JSON result.
/// </summary>
public static class MonitorSession
{
    /// <summary>
    /// <c>wsctl monitor</c>: reads the ELF first (before the board is reset, so no boot line is missed while a large
    /// one loads), opens the port, and runs the monitor on it.
    /// </summary>
    public static ExitCode Run(MonitorSettings settings, ILogger logger, CancellationToken cancel)
    {
        var options = new MonitorOptions
        {
            Until = settings.Until,
            Timeout = settings.Timeout,
            Decoder = LoadDecoder(settings.Elf, settings.Firmware, logger),
            ResetIntoApp = settings.ResetIntoApp,
        };
        var (transport, _) = SerialPortOption.Open(settings.Port, settings.Baud, logger,
            "Reset the board by hand (tap EN) to see it boot");
        using (transport)
            return Run(transport, options, settings.Json, logger, cancel);
    }

    public static ExitCode Run(
        ISerialTransport transport, MonitorOptions options, bool json, ILogger logger, CancellationToken cancel)
    {
        var stdout = WatchedOutput.Open();
        var text = json ? null : new TextMonitorRenderer(new StreamWriter(stdout, new UTF8Encoding(false)),
            keepEscapes: !Console.IsOutputRedirected);
        IMonitorRenderer renderer = text ?? (IMonitorRenderer)new JsonMonitorRenderer(stdout);
        var monitor = new SerialMonitor(transport, options, renderer, logger);
        // Once stdout's reader has gone (`monitor | grep -m1 ready`), the board is watched for nobody: stop.
        using var readerGone = stdout.ReaderGone.Register(monitor.Stop);
        ConsoleInput.Start(monitor, new MenuActions(() => text?.ToggleTimestamps() ?? false,
            note => logger.Information("{Note}", note)));
        if (!Console.IsInputRedirected)
            logger.Information("Monitoring {Port}; Ctrl-] ends, Ctrl-T H shows the menu", transport.Name);
        MonitorResult result;
        try
        {
            result = monitor.Run(cancel);
        }
        catch (WsCoreException e)
        {
            renderer.OnResult("error", (int)ExitCodes.From(e.Kind), InputFlags.Describe(e).Message);
            throw;
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            renderer.OnResult("interrupted", (int)ExitCode.Interrupted, "interrupted");
            throw;
        }
        var (name, code, failure, hint) = result.Outcome switch
        {
            MonitorOutcome.Matched => ("matched", ExitCode.Ok, (FailureKind?)null, (string?)null),
            MonitorOutcome.Stopped => ("stopped", ExitCode.Ok, null, null),
            MonitorOutcome.TimedOut => ("timeout", ExitCode.Timeout, FailureKind.Timeout, null),
            MonitorOutcome.Panicked => (
                "panic",
                ExitCode.DeviceCrashed,
                FailureKind.DeviceCrashed,
                options.Decoder is null
                ? "give the app's ELF (--elf build/PROJECT.elf, or --firmware build) to see the backtrace as " +
                    "functions and source lines"
                : null),
            _ => ("reboot-loop", ExitCode.DeviceCrashed, FailureKind.DeviceCrashed,
                "a reset cause such as a brownout (power supply), a watchdog or a boot failure; the lines above say " +
                    "which"),
        };
        if (stdout.ReaderGone.IsCancellationRequested)
        {
            // Whatever the session was waiting for, nobody reads its output any more: exit 0, as send does.
            logger.Debug("stdout was closed by its reader; monitor ended");
            return ExitCode.Ok;
        }
        renderer.OnResult(name, (int)code, result.Message);
        if (failure is { } kind)
            throw new WsCoreException(kind, result.Message, hint);
        logger.Debug("Monitor ended: {Message}", result.Message);
        return code;
    }

    /// <summary>
    /// The decoder for <paramref name="elf"/>, or for the app ELF of the build directory <paramref name="firmware"/>;
    /// null when neither is given.
    /// </summary>
    public static ElfSymbolizer? LoadDecoder(string? elf, string? firmware, ILogger logger)
    {
        var path = elf ?? (firmware is null ? null : FirmwareElfLocator.Find(firmware));
        if (path is null)
            return null;
        var symbolizer = ElfSymbolizer.Load(path);
        logger.Debug(
            "{Elf}: {Functions} functions, line information {Lines}",
            path,
            symbolizer.SymbolCount,
            symbolizer.HasLineInfo ? "read" : "absent");
        if (symbolizer.LineInfoNote is { } note)
            logger.Warning("{Elf}: {Note}", path, note);
        return symbolizer;
    }
}
