using System.Diagnostics;

namespace WsCore.Tests.Support;

/// <summary>
/// A pseudo-terminal bridged by socat to a TCP server of the test's (a simulated ROM loader, a scripted console):
/// what a USB serial adapter looks like to wsctl, except that DTR/RTS are refused. Killed on dispose.
/// </summary>
public sealed class SocatPty : IAsyncDisposable
{
    private readonly Process _socat;

    private SocatPty(Process socat, string path)
    {
        _socat = socat;
        Path = path;
    }

    /// <summary>The pty's link, to pass as wsctl's --port.</summary>
    public string Path { get; }

    public static async Task<SocatPty> StartAsync(int tcpPort)
    {
        if (!File.Exists("/usr/bin/socat"))
            Assert.Fail("socat is missing: scripts/prereqs.sh installs it");
        var link = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"wsctl-pty-{Guid.NewGuid():N}");
        var socat = Process.Start(new ProcessStartInfo(
            "socat", [$"pty,link={link},raw,echo=0", $"tcp:127.0.0.1:{tcpPort}"])
        {
            RedirectStandardError = true,
        })!;
        var pty = new SocatPty(socat, link);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!File.Exists(link) && DateTime.UtcNow < deadline && !socat.HasExited)
            await Task.Delay(20);
        if (!File.Exists(link))
        {
            await pty.DisposeAsync();
            Assert.Fail("socat made no pty");
        }
        return pty;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_socat.HasExited)
            _socat.Kill();
        await _socat.WaitForExitAsync();
        _socat.Dispose();
    }
}
