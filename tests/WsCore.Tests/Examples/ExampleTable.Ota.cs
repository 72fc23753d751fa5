using System.Text.Json;
using WsCore.Nvs;
using WsCore.Ota;
using WsCore.Tests.Esp;
using WsCore.Tests.Ota;

namespace WsCore.Tests.Examples;

/// <summary>
/// The rows of <c>wsctl ota</c> and of <c>flash --ota-key</c>: devices that speak wsctl-ota.1 on loopback
/// (<see cref="OtaDeviceSimulator"/>), a build directory whose app is an update, and the key file in the working
/// directory.
/// </summary>
public static partial class ExampleTable
{
    private static readonly byte[] ExampleOtaKey = [.. Enumerable.Range(0x30, 32).Select(i => (byte)i)];

    private static Substitution DeviceNameToSimulator(string name, string placeholder) =>
        Sub(name, $"127.0.0.1:{{{placeholder}}}",
            $"the board {name} → a device speaking wsctl-ota.1 on loopback (OtaDeviceSimulator), running 1.2.0");

    private const string OtaBuild = "build: a FirmwareFixture whose app.bin is esp32ws 1.3.0 for the ESP32-C3";

    private static Example[] OtaRows() =>
    [
        new("wsctl ota esp32ws.local --firmware build --ota-key ota.key", ExampleFixture.Loopback,
            $"a device running esp32ws 1.2.0 with the key of ota.key; {OtaBuild}; ota.key in the working directory",
            [DeviceNameToSimulator("esp32ws.local", "port")],
            "exit 0; the device went through hello, the upload, its restart and the confirmation, and runs 1.3.0 " +
            "confirmed; the last line says 'updated 1.3.0'",
            async run =>
            {
                await using var device = await OtaExampleDeviceAsync(run);
                var ota = await run.RunAsync(run.Command(("port", device.Port)));
                ExitCode(0, ota);
                Assert.Matches(@"^127\.0\.0\.1:\d+\s+updated\s+1\.3\.0\s", ota.StdoutLines[^1]);
                Assert.Equal(("1.3.0", false), (device.Running.Version, device.Pending));
            }),
        new("wsctl ota --to esp32-a.local --to esp32-b.local --firmware build --ota-key ota.key --canary 1 --json",
            ExampleFixture.Loopback,
            $"two devices running esp32ws 1.2.0 with the key of ota.key; {OtaBuild}; ota.key",
            [DeviceNameToSimulator("esp32-a.local", "a"), DeviceNameToSimulator("esp32-b.local", "b")],
            "exit 0; JSON lines: esp32-a's events before any of esp32-b's (the canary first), a target line " +
            "'updated' for each, and an ok result naming the image",
            async run =>
            {
                await using var a = await OtaExampleDeviceAsync(run);
                await using var b = await OtaExampleDeviceAsync(run);
                var ota = await run.RunAsync(run.Command(("a", a.Port), ("b", b.Port)));
                ExitCode(0, ota);
                var objects = ota.StdoutLines.Select(l => JsonDocument.Parse(l).RootElement).ToList();
                // The device events in the order they happened; the target lines come together at the end.
                var order = objects.Where(o => o.GetProperty("type").GetString() is not ("result" or "target"))
                    .Select(o => o.GetProperty("target").GetString()).ToList();
                Assert.True(order.LastIndexOf($"127.0.0.1:{a.Port}") < order.IndexOf($"127.0.0.1:{b.Port}"),
                    ota.All);
                Assert.Equal(["updated", "updated"], objects.Where(o => o.GetProperty("type").GetString() == "target")
                    .Select(o => o.GetProperty("outcome").GetString()));
                Assert.Equal("1.3.0", objects[^1].GetProperty("image").GetProperty("version").GetString());
            }),
        new("wsctl ota esp32ws.local --firmware build --dry-run", ExampleFixture.Loopback,
            OtaBuild,
            AsWritten,
            "exit 0 without resolving or contacting esp32ws.local: the image line (esp32ws 1.3.0 for esp32c3), the " +
            "target with its /ota URL, the plan, and 'dry run: no device was contacted'",
            async run =>
            {
                OtaExampleBuild(run);
                var ota = await run.RunAsync(run.Command());
                ExitCode(0, ota);
                Assert.StartsWith("image    esp32ws 1.3.0 for esp32c3", ota.StdoutLines[0], StringComparison.Ordinal);
                Assert.Equal("target   esp32ws.local (ws://esp32ws.local:8080/ota)", ota.StdoutLines[1]);
                Assert.Equal("dry run: no device was contacted", ota.StdoutLines[^1]);
            }),
        new("wsctl flash --ssid MyNet --pass - --ota-key ota.key < wifi-pass.txt", ExampleFixture.Serial,
            "a RomSimulator; wifi-pass.txt; no ota.key yet",
            [AutoPortToSimulator],
            "exit 0; ota.key made (mode 0600, 64 hex digits), and the NVS partition at 0x9000 holds MyNet, the " +
            "password and that key as ota_key; neither the key nor the password is in any output",
            async run =>
            {
                using var sim = new RomSimulator();
                run.WriteFile("wifi-pass.txt", WifiPassword + "\n");
                var flash = await run.RunAsync(run.Command(("sim", sim.Url)));
                ExitCode(0, flash);
                var keyFile = Path.Combine(run.WorkDirectory, "ota.key");
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(keyFile));
                var key = OtaKeyFile.Load(keyFile).Key;
                Assert.Equal(FirmwareFixture.ExpectedFlash(
                    [(0x9000u, new DeviceSettings("MyNet", WifiPassword, OtaKey: key).BuildNvsImage(0x6000))]),
                    sim.Flash);
                Assert.DoesNotContain(Convert.ToHexStringLower(key), flash.All, StringComparison.OrdinalIgnoreCase);
                Assert.DoesNotContain(WifiPassword, flash.All, StringComparison.Ordinal);
            }),
    ];

    /// <summary>WORKDIR/build whose app is esp32ws 1.3.0 (the update the examples send).</summary>
    private static void OtaExampleBuild(ExampleRun run)
    {
        using var fw = Build(run);
        File.WriteAllBytes(Path.Combine(run.WorkDirectory, "build", "app.bin"),
            OtaTestImage.Build("esp32ws", "1.3.0", 96 * 1024));
    }

    /// <summary>The build, ota.key, and a device running esp32ws 1.2.0 with that key.</summary>
    private static async Task<OtaDeviceSimulator> OtaExampleDeviceAsync(ExampleRun run)
    {
        if (!Directory.Exists(Path.Combine(run.WorkDirectory, "build")))
            OtaExampleBuild(run);
        run.WriteFile("ota.key", Convert.ToHexStringLower(ExampleOtaKey) + "\n");
        File.SetUnixFileMode(Path.Combine(run.WorkDirectory, "ota.key"),
            UnixFileMode.UserRead | UnixFileMode.UserWrite);
        return await OtaDeviceSimulator.StartAsync(ExampleOtaKey,
            OtaImage.Parse(OtaTestImage.Build("esp32ws", "1.2.0", 4096), "running"));
    }
}
