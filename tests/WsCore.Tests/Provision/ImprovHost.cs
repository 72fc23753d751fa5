using WsCore.Nvs;
using WsCore.Tests.Probe;

namespace WsCore.Tests.Provision;

/// <summary>
/// The firmware host build speaking Improv on a pty (<c>ws_server_host --improv-pty</c>), with its simulated Wi-Fi
/// (one network, <see cref="Ssid"/> / <see cref="Password"/>) and its NVS stand-in file, in a directory of its own
/// that dispose removes.
/// </summary>
public sealed class ImprovHost : IDisposable
{
    public const string Ssid = "wsctl-lab";
    public const string Password = "correct horse battery";

    private readonly DirectoryInfo _directory;
    private FirmwareHost? _firmware;

    private ImprovHost(DirectoryInfo directory) => _directory = directory;

    /// <summary>The pty's link: what wsctl's --port and the SDK shim open.</summary>
    public string Pty => Path.Combine(_directory.FullName, "improv.pty");

    /// <summary>The NVS stand-in (host/host_nvs.h): namespace wsctl's string keys.</summary>
    public string NvsFile => Path.Combine(_directory.FullName, "nvs.txt");

    /// <summary>The WebSocket server's port, for the URL the device gives.</summary>
    public int Port => _firmware!.Port;

    /// <summary>Starts the host build; <paramref name="args"/> add to or override the simulation's options.</summary>
    public static async Task<ImprovHost> StartAsync(params string[] args)
    {
        var host = new ImprovHost(Directory.CreateTempSubdirectory("wsctl-improv-"));
        try
        {
            await host.RestartAsync(args);
            return host;
        }
        catch
        {
            host.Dispose();
            throw;
        }
    }

    /// <summary>Stops the host build and starts it again on the same NVS file (a reboot).</summary>
    public async Task RestartAsync(params string[] args)
    {
        _firmware?.Dispose();
        _firmware = await FirmwareHost.StartAsync(["--counter-interval-ms", "300", "--improv-pty", Pty,
            "--nvs-file", NvsFile, "--sim-ssid", Ssid, "--sim-pass", Password, "--sim-connect-ms", "200", .. args]);
    }

    /// <summary>The NVS file's bytes (empty when nothing was stored yet).</summary>
    public byte[] NvsBytes() => File.Exists(NvsFile) ? File.ReadAllBytes(NvsFile) : [];

    /// <summary>The NVS file host_nvs.h writes for <paramref name="ssid"/> and <paramref name="password"/>.</summary>
    /// <remarks>
    /// The namespace and keys are <c>wsctl flash</c>'s (<see cref="DeviceSettings"/>): the device stores what Improv
    /// provisions where flash writes it.
    /// </remarks>
    public static string NvsText(string ssid, string password) =>
        $"{DeviceSettings.NamespaceName}:{DeviceSettings.SsidKey}:str:{Hex(ssid)}\n" +
        $"{DeviceSettings.NamespaceName}:{DeviceSettings.PasswordKey}:str:{Hex(password)}\n";

    private static string Hex(string value) => Convert.ToHexStringLower(System.Text.Encoding.UTF8.GetBytes(value));

    public void Dispose()
    {
        _firmware?.Dispose();
        try
        {
            _directory.Delete(recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
