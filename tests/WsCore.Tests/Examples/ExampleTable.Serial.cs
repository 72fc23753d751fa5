using System.Text;
using WsCore.FlashFiles;
using WsCore.Flashing;
using WsCore.Nvs;
using WsCore.Tests.Esp;
using WsCore.Tests.Monitor;
using WsCore.Tests.Provision;
using WsCore.Tests.Support;

namespace WsCore.Tests.Examples;

/// <summary>
/// The rows that talk to a board: a RomSimulator (the ESP32 ROM loader) or a ScriptedDevice (a serial console), over
/// socket:// where the example lets the port be found (--port auto has no adapter to find here) or through a pty
/// bridged by socat where it names /dev/ttyUSB0; a FirmwareFixture as the ESP-IDF build directory 'build'.
/// </summary>
public static partial class ExampleTable
{
    private static Substitution AutoPortToSimulator =>
        Sub("wsctl flash ", "wsctl flash -p {sim} ",
            "the port --port auto would find → -p socket://… of a RomSimulator (this machine has no USB adapter)");

    private static Substitution AutoPortToConsole =>
        Sub("wsctl monitor ", "wsctl monitor -p {console} ",
            "the port auto-detection would find → -p socket://… of a scripted console (no USB adapter here)");

    private static Substitution AutoPortToImprov =>
        Sub("wsctl provision ", "wsctl provision -p {pty} ",
            "the port --port auto would find → -p the pty of the firmware host build speaking Improv (no USB adapter)");

    /// <summary>The firmware host build speaking Improv on a pty; its simulated network: MyNet, WifiPassword.</summary>
    private static Task<ImprovHost> ImprovMyNet() =>
        ImprovHost.StartAsync("--sim-ssid", "MyNet", "--sim-pass", WifiPassword);

    private static Substitution TtyToPty =>
        Sub("/dev/ttyUSB0", "{pty}", "/dev/ttyUSB0 → a pty bridged by socat to the simulated board");

    private const string BuildDir = "build: a FirmwareFixture (bootloader, partition table, app, flasher_args.json)";

    private static Example[] SerialRows() =>
    [
        new("wsctl flash --ssid MyNet --pass - < wifi-pass.txt", ExampleFixture.Serial,
            "a RomSimulator; wifi-pass.txt in the working directory",
            [AutoPortToSimulator],
            "exit 0; the board's flash holds the NVS partition of MyNet and the password at 0x9000 and nothing else " +
            "changed; the password is in no output",
            async run =>
            {
                using var sim = new RomSimulator();
                run.WriteFile("wifi-pass.txt", WifiPassword + "\n");
                var flash = await run.RunAsync(run.Command(("sim", sim.Url)));
                ExitCode(0, flash);
                Assert.Equal(FirmwareFixture.ExpectedFlash(
                    [(0x9000u, new DeviceSettings("MyNet", WifiPassword).BuildNvsImage(0x6000))]), sim.Flash);
                Assert.DoesNotContain(WifiPassword, flash.All);
            }),
        new("wsctl flash -p /dev/ttyUSB0 --firmware build --ssid MyNet --pass - --baud 921600 < wifi-pass.txt",
            ExampleFixture.Serial,
            $"a RomSimulator on a pty (it sees the rate the port is set to); {BuildDir}; wifi-pass.txt",
            [TtyToPty],
            "exit 0 at 921600 baud (CHANGE_BAUDRATE sent, every data packet at that rate); the flash holds the " +
            "build's images and the NVS partition, byte for byte",
            async run =>
            {
                using var sim = new RomSimulator(pty: true);
                using var fw = Build(run);
                run.WriteFile("wifi-pass.txt", WifiPassword + "\n");
                var flash = await run.RunAsync(run.Command(("pty", sim.Url)));
                ExitCode(0, flash);
                // The host's port at 921600 (the ROM is asked for it scaled to its clock estimate), and the chip too.
                Assert.Contains("Changed baud rate to 921600", flash.Stderr);
                Assert.NotEmpty(sim.DataPacketRates);
                Assert.All(sim.DataPacketRates, rate => Assert.InRange(rate, 921600 * 0.97, 921600 * 1.03));
                Assert.Equal(FlashedBuild(run, new DeviceSettings("MyNet", WifiPassword)), sim.Flash);
            }),
        new("wsctl flash --ssid MyNet --pass - --device-echo --counter-interval 0 < wifi-pass.txt",
            ExampleFixture.Serial,
            "a RomSimulator; wifi-pass.txt",
            [AutoPortToSimulator],
            "exit 0; the NVS partition at 0x9000 holds MyNet, the password, echo = 1 and counter_ms = 0 (what bench " +
            "--mode echo needs of a board)",
            async run =>
            {
                using var sim = new RomSimulator();
                run.WriteFile("wifi-pass.txt", WifiPassword + "\n");
                ExitCode(0, await run.RunAsync(run.Command(("sim", sim.Url))));
                var settings = new DeviceSettings("MyNet", WifiPassword, Echo: true, CounterInterval: TimeSpan.Zero);
                Assert.Equal(
                    FirmwareFixture.ExpectedFlash([(0x9000u, settings.BuildNvsImage(0x6000))]), sim.Flash);
            }),
        new("wsctl flash --firmware build --monitor", ExampleFixture.Serial,
            $"a RomSimulator that prints a healthy boot once flashed; {BuildDir}; a terminal (script(1))",
            [AutoPortToSimulator],
            "the build flashed ('Done'), then the new firmware's boot on screen ('WebSocket server on port 8080'); " +
            "Ctrl-] ends it with 0",
            async run =>
            {
                using var sim = new RomSimulator();
                using var fw = Build(run);
                using var session = TerminalSession.Shell(run.Command(("sim", sim.Url)), run.Environment,
                    run.WorkDirectory);
                await session.WaitForAsync("Done\r\n", ExampleRun.Timeout);
                sim.SendToHost(Encoding.UTF8.GetBytes(PanicSamples.HealthyBoot));
                await session.WaitForAsync("WebSocket server on port 8080", ExampleRun.Timeout);
                await session.TypeAsync(ConsoleKeys.CtrlBracket);
                Assert.True(await session.WaitForExitAsync(ExampleRun.Timeout) == 0, session.Screen);
                Assert.Equal(FlashedBuild(run, null), sim.Flash);
            }),
        new("wsctl flash --firmware build --ssid MyNet --pass - --monitor < pass.txt", ExampleFixture.Serial,
            $"a RomSimulator that prints a healthy boot once flashed; {BuildDir}; pass.txt",
            [AutoPortToSimulator],
            "the build and credentials flashed ('Done'), then the new firmware's boot lines on stdout; Ctrl-C ends " +
            "it with 130",
            async run =>
            {
                using var sim = new RomSimulator();
                using var fw = Build(run);
                run.WriteFile("pass.txt", WifiPassword + "\n");
                var flash = run.Start(run.Command(("sim", sim.Url)));
                await flash.WaitForStdoutAsync(l => l == "Done", ExampleRun.Timeout);
                sim.SendToHost(Encoding.UTF8.GetBytes(PanicSamples.HealthyBoot));
                await flash.WaitForStdoutAsync(
                    l => l == "I (611) ws_server: WebSocket server on port 8080", ExampleRun.Timeout);
                flash.Signal("INT");
                ExitCode(130, await Exited(flash));
                Assert.Equal(FlashedBuild(run, new DeviceSettings("MyNet", WifiPassword)), sim.Flash);
            }),
        new("wsctl provision --ssid MyNet --pass - < wifi-pass.txt", ExampleFixture.Serial,
            "the firmware host build speaking Improv on a pty (simulated network MyNet); wifi-pass.txt",
            [AutoPortToImprov],
            "exit 0; 'Joined 'MyNet': ws://127.0.0.1:PORT/'; the device stored MyNet and the password in its NVS; " +
            "the password is in no output",
            async run =>
            {
                using var host = await ImprovMyNet();
                run.WriteFile("wifi-pass.txt", WifiPassword + "\n");
                var provision = await run.RunAsync(run.Command(("pty", host.Pty)));
                ExitCode(0, provision);
                Assert.Contains($"Joined 'MyNet': ws://127.0.0.1:{host.Port}/", provision.Stdout);
                Assert.Equal(ImprovHost.NvsText("MyNet", WifiPassword),
                    Encoding.UTF8.GetString(host.NvsBytes()));
                Assert.DoesNotContain(WifiPassword, provision.All);
            }),
        new("wsctl provision -p /dev/ttyUSB0 --scan", ExampleFixture.Serial,
            "the firmware host build speaking Improv on a pty (simulated network MyNet)",
            [TtyToPty],
            "exit 0; the device's firmware and the network it sees, MyNet, secured; nothing stored",
            async run =>
            {
                using var host = await ImprovMyNet();
                var scan = await run.RunAsync(run.Command(("pty", host.Pty)));
                ExitCode(0, scan);
                Assert.Contains("esp32ws 1.0.0", scan.Stdout);
                Assert.Contains("secured  MyNet", scan.Stdout);
                Assert.Empty(host.NvsBytes());
            }),
        new("wsctl provision --ssid MyNet --pass - --probe < wifi-pass.txt", ExampleFixture.Serial,
            "the firmware host build speaking Improv on a pty (simulated network MyNet), its WebSocket server on " +
            "loopback; wifi-pass.txt",
            [AutoPortToImprov],
            "exit 0; joined, then the probe of the URL the device gave: verdict healthy",
            async run =>
            {
                using var host = await ImprovMyNet();
                run.WriteFile("wifi-pass.txt", WifiPassword + "\n");
                var provision = await run.RunAsync(run.Command(("pty", host.Pty)));
                ExitCode(0, provision);
                Assert.Contains($"ws://127.0.0.1:{host.Port}/", provision.Stdout);
                Assert.Contains("healthy", provision.Stdout);
            }),
        new("wsctl monitor --firmware build", ExampleFixture.Serial,
            $"a scripted console that boots and panics (a backtrace into the build's ELF); {BuildDir} and the app's " +
            "ELF (app.elf, compiled by the test)",
            [AutoPortToConsole],
            "the console printed, each backtrace address followed by its function and line from the ELF, and exit " +
            "12 (the device panicked)",
            async run =>
            {
                var elf = TestElf.Riscv;
                using var fw = Build(run);
                File.Copy(elf.Path, Path.Combine(run.WorkDirectory, "build", "app.elf"));
                var pc = elf.Symbols["store_through"] + 2;
                using var console = new ScriptedDevice(PanicSamples.HealthyBoot +
                    "Guru Meditation Error: Core  0 panic'ed (StoreProhibited). Exception was unhandled.\r\n" +
                    $"Backtrace: 0x{pc:x8}:0x3ffb5620\r\n\r\nRebooting...\r\n");
                var monitor = await run.RunAsync(run.Command(("console", console.Url)));
                ExitCode(12, monitor);
                Assert.Contains(monitor.StdoutLines, l => l.StartsWith($"  0x{pc:x8}: store_through at ",
                    StringComparison.Ordinal));
                Assert.Contains("the device panicked", monitor.Stderr);
            }),
        new("wsctl monitor -p /dev/ttyUSB0 --until 'WebSocket server on' --timeout 30s", ExampleFixture.Serial,
            "a scripted console printing the firmware's boot, behind a pty",
            [TtyToPty],
            "exit 0 once the line 'WebSocket server on port 8080' came, which is the last line printed",
            async run =>
            {
                using var console = new ScriptedDevice(PanicSamples.HealthyBoot + "I (700) app: after the match\r\n");
                await using var pty = await SocatPty.StartAsync(console.Port);
                var monitor = await run.RunAsync(run.Command(("pty", pty.Path)));
                ExitCode(0, monitor);
                Assert.Equal("I (611) ws_server: WebSocket server on port 8080", monitor.StdoutLines[^1]);
            }),
        new("wsctl flash --firmware build --web-install site/", ExampleFixture.Serial,
            BuildDir,
            [],
            "exit 0, no board touched; site/ holds each image of the build, a manifest.json naming the chip and " +
            "each image's offset, and an index.html with the install button naming the manifest",
            async run =>
            {
                using var fw = Build(run);
                ExitCode(0, await run.RunAsync(run.Command()));
                var site = Path.Combine(run.WorkDirectory, "site");
                using var manifest = System.Text.Json.JsonDocument.Parse(
                    await File.ReadAllTextAsync(Path.Combine(site, "manifest.json")));
                var build = manifest.RootElement.GetProperty("builds")[0];
                Assert.Equal("ESP32", build.GetProperty("chipFamily").GetString());
                foreach (var part in build.GetProperty("parts").EnumerateArray())
                    Assert.True(File.Exists(Path.Combine(site, part.GetProperty("path").GetString()!)));
                Assert.Contains("<esp-web-install-button manifest=\"manifest.json\">",
                    await File.ReadAllTextAsync(Path.Combine(site, "index.html")));
            }),
        new("wsctl device info", ExampleFixture.Serial,
            "a RomSimulator (an ESP32 whose eFuses hold a MAC)",
            [Sub("wsctl device info", "wsctl device info -p {sim}",
                "the port --port auto would find → -p socket://… of a RomSimulator (this machine has no USB adapter)")],
            "exit 0; the chip, its MAC and the flash's size and JEDEC ID on stdout; nothing written to the flash",
            async run =>
            {
                using var sim = new RomSimulator();
                sim.Registers[WsCore.Chips.Esp32Efuses.Block0 + 4] = 0x33445566;
                sim.Registers[WsCore.Chips.Esp32Efuses.Block0 + 8] = 0x00001122;
                var info = await run.RunAsync(run.Command(("sim", sim.Url)));
                ExitCode(0, info);
                Assert.Contains("Chip:      ESP32 (", info.Stdout);
                Assert.Contains("MAC:       11:22:33:44:55:66", info.Stdout);
                Assert.Contains("Flash:     4MB (JEDEC ID 0x164020", info.Stdout);
                Assert.DoesNotContain((byte)0x02, sim.Ops);
            }),
        new("wsctl device read --partition nvs -o nvs-backup.bin", ExampleFixture.Serial,
            $"a RomSimulator whose flash holds {BuildDir} and Wi-Fi settings",
            [Sub("wsctl device read ", "wsctl device read -p {sim} ",
                "the port --port auto would find → -p socket://… of a RomSimulator (this machine has no USB adapter)")],
            "exit 0; nvs-backup.bin is the NVS partition's 0x6000 bytes as the chip holds them, mode 0600",
            async run =>
            {
                using var sim = new RomSimulator();
                using var fw = Build(run);
                FlashedBuild(run, new DeviceSettings("MyNet", WifiPassword)).CopyTo(sim.Flash, 0);
                ExitCode(0, await run.RunAsync(run.Command(("sim", sim.Url))));
                var backup = Path.Combine(run.WorkDirectory, "nvs-backup.bin");
                Assert.Equal(sim.Flash.AsSpan(0x9000, 0x6000).ToArray(), await File.ReadAllBytesAsync(backup));
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(backup));
            }),
        new("wsctl device verify --firmware build", ExampleFixture.Serial,
            $"a RomSimulator whose flash holds {BuildDir}, then the same with one byte of the app changed",
            [Sub("wsctl device verify ", "wsctl device verify -p {sim} ",
                "the port --port auto would find → -p socket://… of a RomSimulator (this machine has no USB adapter)")],
            "exit 0 while the chip holds the build; exit 11 naming app.bin once a byte of it differs; nothing written",
            async run =>
            {
                using var sim = new RomSimulator();
                using var fw = Build(run);
                FlashedBuild(run, null).CopyTo(sim.Flash, 0);
                ExitCode(0, await run.RunAsync(run.Command(("sim", sim.Url))));
                sim.Flash[0x10000 + 100] ^= 1;
                var differs = await run.RunAsync(run.Command(("sim", sim.Url)));
                ExitCode(11, differs);
                Assert.Contains("app.bin at 0x10000 differs", differs.Stderr);
                Assert.DoesNotContain((byte)0x02, sim.Ops);
            }),
    ];

    /// <summary>A FirmwareFixture copied to WORKDIR/build, where the examples name it.</summary>
    private static FirmwareFixture Build(ExampleRun run)
    {
        var fw = new FirmwareFixture();
        var target = Path.Combine(run.WorkDirectory, "build");
        foreach (var file in Directory.EnumerateFiles(fw.Dir, "*", SearchOption.AllDirectories))
        {
            var to = Path.Combine(target, Path.GetRelativePath(fw.Dir, file));
            Directory.CreateDirectory(Path.GetDirectoryName(to)!);
            File.Copy(file, to);
        }
        return fw;
    }

    /// <summary>The whole flash after WORKDIR/build (and the NVS partition of <paramref name="settings"/>).</summary>
    private static byte[] FlashedBuild(ExampleRun run, DeviceSettings? settings) =>
        FirmwareFixture.ExpectedFlash(FlashFileLoader.Plan(new FlashRequest
        {
            Firmware = Path.Combine(run.WorkDirectory, "build"),
            Settings = settings,
        }).Regions.Select(r => (r.Offset, r.Data)));
}
