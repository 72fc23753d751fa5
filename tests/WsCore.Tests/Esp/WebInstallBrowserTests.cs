using System.Text.Json;
using WsCore.Chips;
using WsCore.FlashFiles;
using WsCore.Tests.Support;

namespace WsCore.Tests.Esp;

/// <summary>
/// <c>wsctl flash --web-install</c>'s folder as a visitor's browser sees it: served over http on loopback, loaded in
/// headless Chromium with ESP Web Tools' own install button (npm <c>esp-web-tools</c>, pinned in tests/web-install,
/// installed there by test.sh), the button pressed with a stand-in for the Web Serial port the visitor would pick.
/// What is checked is what the component did: the manifest it fetched and parsed, and the images that manifest points
/// it to. Skipped with the reason where the npm package is not installed.
/// </summary>
public class WebInstallBrowserTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(60);

    /// <summary>ESP Web Tools' browser bundle (install-button.js and the chunks it imports).</summary>
    public static string ComponentDir =>
        RepoPaths.Combine("tests", "web-install", "node_modules", "esp-web-tools", "dist", "web");

    // A port that opens and stays silent: enough for the install dialog to download the manifest (it then waits for
    // an Improv answer that never comes), with nothing flashed.
    private const string FakePort = """
        (() => {
          const port = {
            readable: new ReadableStream({ start() {} }),
            writable: new WritableStream({ write() {} }),
            open: async () => {}, close: async () => {}, setSignals: async () => {},
            getInfo: () => ({ usbVendorId: 0x303a, usbProductId: 0x1001 }),
            addEventListener() {}, removeEventListener() {},
          };
          navigator.serial.requestPort = async () => port;
          return 'ok';
        })()
        """;

    [WebInstallFact]
    public async Task WebInstall_C3Build_TheComponentFetchesItsManifest_AndFindsEveryImage()
    {
        using var fw = new FirmwareFixture(appSize: 16 * 1024, chip: KnownChips.Esp32C3);
        var site = Path.Combine(fw.Dir, "site");
        var run = await WsctlProcess.RunAsync(["flash", "--firmware", fw.Dir, "--web-install", site,
            "--web-install-script", "esp-web-tools/install-button.js"]);
        Assert.True(run.ExitCode == 0, run.All);
        // The component served beside the page, as a team without a CDN would.
        var component = Path.Combine(site, "esp-web-tools");
        Directory.CreateDirectory(component);
        foreach (var file in Directory.EnumerateFiles(ComponentDir))
            File.Copy(file, Path.Combine(component, Path.GetFileName(file)));
        var regions = FlashFileLoader.Plan(new FlashRequest { Firmware = fw.Dir }).Regions;

        await using var server = await StaticFileServer.StartAsync(site);
        await using var browser = await HeadlessChromium.OpenAsync(server.Url + "index.html", Limit);
        // The component has defined its element and found Web Serial in a secure context.
        await browser.EvaluateUntilAsync(
            "document.querySelector('esp-web-install-button')?.hasAttribute('install-supported') ?? false",
            v => v == "True", Limit);
        await browser.EvaluateUntilAsync(FakePort, v => v == "ok", Limit);
        await browser.EvaluateUntilAsync(
            "document.querySelector('esp-web-install-button').shadowRoot.querySelector('button').click(), 'clicked'",
            v => v == "clicked", Limit);
        var fetched = await browser.EvaluateUntilAsync(
            "JSON.stringify(document.querySelector('ewt-install-dialog')?._manifest ?? null)",
            v => v != "null" && v.Length > 0, Limit);

        Assert.Contains("/manifest.json", server.Requested);
        using var manifest = JsonDocument.Parse(fetched);
        Assert.Equal("ESP32-C3", manifest.RootElement.GetProperty("builds")[0].GetProperty("chipFamily").GetString());
        var parts = manifest.RootElement.GetProperty("builds")[0].GetProperty("parts").EnumerateArray().ToList();
        Assert.Equal(regions.Select(r => r.Offset), parts.Select(p => p.GetProperty("offset").GetUInt32()));
        // Each part, fetched by the page as the component resolves it (relative to the manifest), is its region.
        foreach (var (part, region) in parts.Zip(regions))
        {
            var path = part.GetProperty("path").GetString()!;
            var hex = await browser.EvaluateUntilAsync(
                $"window.__part_{region.Offset} ?? (fetch(new URL({JsonSerializer.Serialize(path)}, " +
                "new URL('manifest.json', location))).then(r => r.arrayBuffer()).then(b => crypto.subtle.digest(" +
                $"'SHA-256', b)).then(d => window.__part_{region.Offset} = [...new Uint8Array(d)].map(x => " +
                "x.toString(16).padStart(2, '0')).join('')), '')",
                v => v.Length == 64, Limit);
            Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(region.Data)), hex);
        }
    }
}

/// <summary>A [Fact] that runs only where tests/web-install has its npm packages (test.sh installs them).</summary>
public sealed class WebInstallFactAttribute : FactAttribute
{
    public WebInstallFactAttribute()
    {
        if (!File.Exists(Path.Combine(WebInstallBrowserTests.ComponentDir, "install-button.js")))
            Skip = "esp-web-tools is not installed: run npm ci in tests/web-install (test.sh does)";
    }
}
