using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using WsCore.Tests.Support;
using Wsctl.Cli;

namespace WsCore.Tests.Esp;

/// <summary>
/// Espressif's QEMU (its esp-develop branch) running an ESP32 or ESP32-C3 with the chip's real mask ROM, booted in
/// UART download mode with its serial port on loopback TCP: the real ROM loader, where the simulator is only our
/// reading of it. QEMU is not in Debian: it is taken from <c>WSCTL_QEMU_DIR</c> or <c>PATH</c>
/// (<c>qemu-system-xtensa</c>, <c>qemu-system-riscv32</c>); tests using it are skipped with the reason when absent.
/// The flash is a file that QEMU writes back as the guest programs it.
/// </summary>
public sealed class EspEmulator : IDisposable
{
    public const int FlashSize = 4 * 1024 * 1024;
    private readonly Process _qemu;

    private EspEmulator(string chip, byte[] flash)
    {
        FlashPath = Path.Combine(Directory.CreateTempSubdirectory("wsctl-qemu-").FullName, "flash.bin");
        File.WriteAllBytes(FlashPath, flash);
        Port = FreePort();
        var (binary, machine, strap) = chip == "esp32"
            ? ("qemu-system-xtensa", "esp32", "driver=esp32.gpio,property=strap_mode,value=0x0f")
            : ("qemu-system-riscv32", "esp32c3", "driver=esp32c3.gpio,property=strap_mode,value=0x02");
        var info = new ProcessStartInfo(Find(binary)!)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var arg in (string[])["-nographic", "-monitor", "none", "-machine", machine,
            "-drive", $"file={FlashPath},if=mtd,format=raw", "-global", strap, "-serial",
            $"tcp:127.0.0.1:{Port},server=on"])
            info.ArgumentList.Add(arg);
        _qemu = Process.Start(info)!;
        _qemu.StandardInput.Close();
        _qemu.OutputDataReceived += (_, _) => { };
        _qemu.ErrorDataReceived += (_, _) => { };
        _qemu.BeginOutputReadLine();
        _qemu.BeginErrorReadLine();
        WaitListening(TimeSpan.FromSeconds(20));
    }

    public int Port { get; }
    public string FlashPath { get; }

    /// <summary>
    /// Boots <paramref name="chip"/> ("esp32", "esp32c3") in download mode with <paramref name="flash"/>.
    /// </summary>
    public static EspEmulator Start(string chip, byte[] flash) => new(chip, flash);

    /// <summary>Stops QEMU and returns the flash as it left it.</summary>
    public byte[] StopAndReadFlash()
    {
        Stop();
        return File.ReadAllBytes(FlashPath);
    }

    public void Dispose()
    {
        Stop();
        Directory.Delete(Path.GetDirectoryName(FlashPath)!, recursive: true);
    }

    private void Stop()
    {
        if (!_qemu.HasExited)
        {
            _qemu.Kill();
            _qemu.WaitForExit(10_000);
        }
    }

    /// <summary>
    /// QEMU's tcp server=on waits for its first client before it runs the guest: wait until it listens.
    /// </summary>
    private void WaitListening(TimeSpan timeout)
    {
        // Listening shows in /proc/net/tcp without connecting (a probing connection would be taken as the client).
        var hexPort = $":{Port:X4} ";
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (_qemu.HasExited)
                throw new InvalidOperationException($"QEMU exited with {_qemu.ExitCode}");
            if (File.ReadLines("/proc/net/tcp").Any(line => line.Contains(hexPort) && line.Contains(" 0A ")))
                return;
            Thread.Sleep(20);
        }
        throw new TimeoutException("QEMU did not listen in time");
    }

    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    /// <summary>The path of <paramref name="binary"/> in WSCTL_QEMU_DIR or PATH, or null.</summary>
    public static string? Find(string binary) =>
        Executables.Find(binary, Environment.GetEnvironmentVariable("WSCTL_QEMU_DIR"));

    /// <summary>Why the emulator for <paramref name="chip"/> cannot run here, or null when it can.</summary>
    public static string? SkipReason(string chip)
    {
        var (binary, machine) = chip == "esp32" ? ("qemu-system-xtensa", "esp32") : ("qemu-system-riscv32", "esp32c3");
        if (Find(binary) is not { } path)
            return $"{binary} (Espressif's QEMU, esp-develop) is not in WSCTL_QEMU_DIR or PATH: the real {machine} " +
                "ROM cannot be reached";
        try
        {
            var info = new ProcessStartInfo(path, ["-machine", "help"])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true
            };
            using var p = Process.Start(info)!;
            var machines = p.StandardOutput.ReadToEnd();
            p.WaitForExit(10_000);
            return machines.Split('\n').Any(l => l.StartsWith(machine + " ", StringComparison.Ordinal))
                ? null : $"{path} has no {machine} machine (it is not Espressif's fork)";
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or IOException)
        {
            return $"{path} does not run: {e.Message}";
        }
    }
}

/// <summary>
/// A [Fact] that runs only where Espressif's QEMU for the ESP32 is found (see <see cref="EspEmulator"/>).
/// </summary>
public sealed class Esp32EmulatorFactAttribute : FactAttribute
{
    private static readonly Lazy<string?> Reason = new(() => EspEmulator.SkipReason("esp32"));

    public Esp32EmulatorFactAttribute()
    {
        if (Reason.Value is { } reason)
            Skip = reason;
    }
}

/// <summary>A [Fact] that runs only where Espressif's QEMU for the ESP32-C3 is found.</summary>
public sealed class Esp32C3EmulatorFactAttribute : FactAttribute
{
    private static readonly Lazy<string?> Reason = new(() => EspEmulator.SkipReason("esp32c3"));

    public Esp32C3EmulatorFactAttribute()
    {
        if (Reason.Value is { } reason)
            Skip = reason;
    }
}

/// <summary>
/// Emulator tests run alone, after the parallel ones: QEMU paces the UART in real time, and a starved guest loses
/// bytes the way a noisy cable does, which is not what these tests are about.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class EmulatorCollection
{
    public const string Name = "ESP emulator";
}
