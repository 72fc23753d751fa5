using System.Diagnostics;
using System.Text.Json;
using WsCore.Tests.Examples;
using WsCore.Tests.Support;
using Wsctl.Cli;

namespace WsCore.Tests.Monitor;

/// <summary>
/// The built wsctl monitor, as a process, against a scripted console on loopback (and through a pty).
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public class MonitorCliTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(60);

    /// <summary>
    /// An Xtensa-style panic whose backtrace PCs are store_through, app_main and _start of the test ELF.
    /// </summary>
    private static (string Script, ulong[] Pcs) XtensaPanicIn(TestElf elf)
    {
        ulong[] pcs = [elf.Symbols["store_through"] + 2, elf.Symbols["app_main"] + 6, elf.Symbols["_start"] + 4];
        var script = PanicSamples.HealthyBoot +
            "Guru Meditation Error: Core  0 panic'ed (StoreProhibited). Exception was unhandled.\r\n\r\n" +
            "Core  0 register dump:\r\n" +
            $"PC      : 0x{pcs[0]:x8}  PS      : 0x00060830  A0      : 0x800d6e6c  A1      : 0x3ffb5620  \r\n\r\n" +
            $"Backtrace: 0x{pcs[0]:x8}:0x3ffb5620 0x{pcs[1]:x8}:0x3ffb5640 0x{pcs[2]:x8}:0x3ffb5660\r\n\r\n" +
            "ELF file SHA256: 9a3ff5b8fe5a8e0f\r\n\r\nRebooting...\r\n" +
            "ets Jul 29 2019 12:21:46\r\n\r\nrst:0xc (SW_CPU_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)\r\n";
        return (script, pcs);
    }

    [ElfFact]
    public async Task Panic_XtensaBacktraceInTheElf_Exit12_EachPcDecodedToFunctionAndLine()
    {
        var elf = TestElf.Riscv;
        var (script, pcs) = XtensaPanicIn(elf);
        using var device = new ScriptedDevice(script);
        var result = await WsctlProcess.RunAsync(["monitor", "-p", device.Url, "--elf", elf.Path], timeout: Limit);
        Assert.True(result.ExitCode == 12, result.All);
        var lines = result.Stdout.Split('\n');
        var backtrace = Array.FindIndex(lines, l => l.StartsWith("Backtrace:", StringComparison.Ordinal));
        Assert.True(backtrace > 0, result.Stdout);
        for (var i = 0; i < pcs.Length; i++)
        {
            var (function, location) = elf.Oracle(pcs[i]);
            var line = location.Split(':')[1];
            Assert.Equal(
                $"  0x{pcs[i]:x8}: {function} at {Path.Combine(TestElf.SourceDir, "app.c")}:{line}",
                lines[backtrace + 1 + i]);
        }
        // The register dump's PC is decoded too, right after its line.
        Assert.StartsWith(
            $"  0x{pcs[0]:x8}: store_through at ",
            lines[Array.FindIndex(lines, l => l.StartsWith("PC ", StringComparison.Ordinal)) + 1]);
        Assert.Contains("Rebooting...", result.Stdout);
        Assert.Contains(
            "wsctl: the device panicked: Guru Meditation Error: Core  0 panic'ed (StoreProhibited)", result.Stderr);
        Assert.DoesNotContain("   at ", result.Stderr);
    }

    [ElfFact]
    public async Task Panic_RiscvRegistersAndStack_Json_DecodedObjectsThenResult()
    {
        var elf = TestElf.Riscv;
        var mepc = elf.Symbols["store_through"] + 2;
        var ra = elf.Symbols["app_main"] + 6;
        var onStack = elf.Symbols["_start"] + 4;
        var script = "Guru Meditation Error: Core  0 panic'ed (Store access fault). Exception was unhandled.\r\n\r\n" +
            "Core  0 register dump:\r\n" +
            $"MEPC    : 0x{mepc:x8}  RA      : 0x{ra:x8}  SP      : 0x3fc93a40  GP      : 0x3fc8d800  \r\n\r\n" +
            "Stack memory:\r\n" +
            $"3fc93a40: 0x00000000 0x3fc93a60 0x00000000 0x{onStack:x8} 0x00000000 0x00000000 0x00000000 " +
            "0x00000000\r\n\r\n" +
            "ELF file SHA256: 3c7ab2ef61a0ab2e\r\n\r\nRebooting...\r\n";
        using var device = new ScriptedDevice(script);
        var result = await WsctlProcess.RunAsync(
            ["monitor", "-p", device.Url, "--elf", elf.Path, "--json"], timeout: Limit);
        Assert.True(result.ExitCode == 12, result.All);
        var objects = result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => JsonDocument.Parse(l).RootElement)
            .ToList();
        Assert.All(objects, o => Assert.True(o.TryGetProperty("ts", out _)));
        var decoded = objects.Where(o => o.GetProperty("type").GetString() == "decoded")
            .SelectMany(o => o.GetProperty("addresses").EnumerateArray()).ToList();
        Assert.Equal(
            [$"0x{mepc:x8}", $"0x{ra:x8}", $"0x{onStack:x8}"],
            decoded.Select(d => d.GetProperty("address").GetString()));
        Assert.Equal(
            ["store_through", "app_main", "_start"], decoded.Select(d => d.GetProperty("function").GetString()));
        Assert.Equal(
            int.Parse(elf.Oracle(mepc).Location.Split(':')[1], System.Globalization.CultureInfo.InvariantCulture),
            decoded[0].GetProperty("line").GetInt32());
        Assert.EndsWith("app.c", decoded[0].GetProperty("file").GetString());
        // Each decoded object follows the line it decodes.
        var mepcLine = objects.FindIndex(o => o.TryGetProperty("text", out var l)
            && l.GetString()!.StartsWith("MEPC", StringComparison.Ordinal));
        Assert.Equal("decoded", objects[mepcLine + 1].GetProperty("type").GetString());
        var last = objects[^1];
        Assert.Equal("result", last.GetProperty("type").GetString());
        Assert.Equal("panic", last.GetProperty("outcome").GetString());
        Assert.Equal(12, last.GetProperty("exit_code").GetInt32());
    }

    [Fact]
    public async Task Panic_WithoutElf_Exit12_HintNamesElf()
    {
        using var device = new ScriptedDevice(PanicSamples.XtensaAbort);
        var result = await WsctlProcess.RunAsync(["monitor", "-p", device.Url], timeout: Limit);
        Assert.Equal(12, result.ExitCode);
        Assert.Contains("Backtrace: 0x40081a36:0x3ffb5580", result.Stdout);
        Assert.Contains("wsctl: the device panicked: abort() was called at PC 0x400d6e3b on core 0", result.Stderr);
        Assert.Contains("hint: give the app's ELF (--elf", result.Stderr);
    }

    [Fact]
    public async Task RebootLoop_Exit12_NamesTheResetCauses()
    {
        using var device = new ScriptedDevice(PanicSamples.WatchdogResets);
        var result = await WsctlProcess.RunAsync(["monitor", "-p", device.Url, "--timeout", "30s"], timeout: Limit);
        Assert.Equal(12, result.ExitCode);
        Assert.Contains("wsctl: the device keeps rebooting: 3 resets within", result.Stderr);
        Assert.Contains("rst:0x10 (RTCWDT_RTC_RESET)", result.Stderr);
    }

    [Fact]
    public async Task Until_MatchingLine_Exit0_AfterPrintingIt()
    {
        using var device = new ScriptedDevice(PanicSamples.HealthyBoot + "I (700) app: after the match\r\n");
        var result = await WsctlProcess.RunAsync(
            ["monitor", "-p", device.Url, "--until", "WebSocket server on", "--timeout", "30s"], timeout: Limit);
        Assert.True(result.ExitCode == 0, result.All);
        Assert.EndsWith("I (611) ws_server: WebSocket server on port 8080\n", result.Stdout);
    }

    // A line that matches, though the backtracking engine would try 2^40 ways at its start before finding where:
    // --until runs in linear time (the non-backtracking engine), so the line is not missed; with the backtracking
    // engine and its 200 ms limit per line it counted as no match and the monitor ran into its timeout (exit 6).
    [Fact]
    public async Task Until_LineThatWouldBacktrackWithoutEnd_StillMatches_Exit0()
    {
        var line = new string('a', 40) + "!ab";
        using var device = new ScriptedDevice($"I (100) app: {line}\r\nI (200) app: later\r\n");
        var result = await WsctlProcess.RunAsync(
            ["monitor", "-p", device.Url, "--until", "(a+)+b", "--timeout", "20s"], timeout: Limit);
        Assert.True(result.ExitCode == 0, result.All);
        Assert.EndsWith($"I (100) app: {line}\n", result.Stdout);
    }

    // A pattern the linear engine cannot run (a lookahead) still works, with the backtracking engine.
    [Fact]
    public async Task Until_PatternWithLookahead_MatchingLine_Exit0()
    {
        using var device = new ScriptedDevice(PanicSamples.HealthyBoot + "I (700) app: after the match\r\n");
        var result = await WsctlProcess.RunAsync(
            ["monitor", "-p", device.Url, "--until", "server on(?= port 8080)", "--timeout", "30s"], timeout: Limit);
        Assert.True(result.ExitCode == 0, result.All);
        Assert.EndsWith("I (611) ws_server: WebSocket server on port 8080\n", result.Stdout);
    }

    [Fact]
    public async Task Timeout_SilentDevice_Exit6()
    {
        using var device = new ScriptedDevice("");
        var clock = Stopwatch.StartNew();
        var result = await WsctlProcess.RunAsync(
            ["monitor", "-p", device.Url, "--until", "never", "--timeout", "1s"], timeout: Limit);
        Assert.Equal(6, result.ExitCode);
        Assert.Contains("wsctl: timeout: no line matched 'never' within 1 s", result.Stderr);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task Piped_Output_HasNoEscapeCodes_TextKept()
    {
        using var device = new ScriptedDevice(PanicSamples.HealthyBoot);
        var result = await WsctlProcess.RunAsync(
            ["monitor", "-p", device.Url, "--until", "WebSocket server on"], timeout: Limit);
        Assert.True(result.ExitCode == 0, result.All);
        Assert.DoesNotContain('\u001b', result.Stdout);
        Assert.Contains("W (530) mdns: no IPv6 address yet\n", result.Stdout);
    }

    // `monitor | head -1`: once the reader of stdout has gone, the next line's write fails (EPIPE) and the monitor
    // lets the board go and exits 0; it used to watch on forever, its writes dropped unseen.
    [Fact]
    public async Task Piped_IntoAReaderThatLeft_Exits0_AndLetsTheBoardGo()
    {
        using var device = new ScriptedDevice("I (100) app: first line\r\n");
        using var shell = ShellProcess.Start(
            $"dotnet '{WsctlProcess.DllPath}' monitor -p {device.Url} </dev/null | head -1; " +
            "echo \"monitor exit ${PIPESTATUS[0]}\"", Path.GetTempPath(), new Dictionary<string, string>());
        await shell.WaitForStdoutAsync(line => line == "I (100) app: first line", Limit);
        // The app keeps logging; the line after head has gone is the one whose write fails.
        using var limit = new CancellationTokenSource(Limit);
        for (var i = 0; !shell.HasExited; i++)
        {
            await device.PushAsync($"I ({200 + i}) app: still running\r\n");
            await Task.Delay(100, limit.Token);
        }
        Assert.Equal(0, await shell.WaitForExitAsync(Limit));
        Assert.True(shell.StdoutLines is ["I (100) app: first line", "monitor exit 0"], shell.All);
        await device.Disconnected.WaitAsync(Limit);
    }

    [Fact]
    public async Task StdinLines_ReachTheDevice()
    {
        using var device = new ScriptedDevice("esp32> ");
        using var wsctl = WsctlProcess.Start(["monitor", "-p", device.Url, "--timeout", "60s"], null);
        await wsctl.StandardInput.WriteAsync("status\nled on\n");
        await wsctl.StandardInput.FlushAsync();
        Assert.True(
            await device.WaitForReceivedAsync("status\r\nled on\r\n", TimeSpan.FromSeconds(30)),
            $"received: '{device.Received}'\n{wsctl.Stderr}");
        wsctl.Signal("INT");
        Assert.Equal(130, await wsctl.WaitForExitAsync(TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public async Task Pty_ThroughSocat_UntilMatched_ResetRefusedIsWarned()
    {
        using var device = new ScriptedDevice(PanicSamples.HealthyBoot);
        await using var pty = await SocatPty.StartAsync(device.Port);
        var result = await WsctlProcess.RunAsync(
            ["monitor", "-p", pty.Path, "--until", "WebSocket server on", "--timeout", "30s"], timeout: Limit);
        Assert.True(result.ExitCode == 0, result.All);
        Assert.Contains("NOT reset", result.Stderr);
        Assert.Contains("tap EN", result.Stderr);
        Assert.Contains("I (611) ws_server: WebSocket server on port 8080", result.Stdout);
    }

    [Theory]
    [InlineData(new[] { "--until", "(unclosed" },
        "--until: expected a regular expression, got '(unclosed' (Not enough )'s, at character 9)")]
    [InlineData(new[] { "--elf", "a.elf", "--firmware", "build" }, "--elf: give --elf or --firmware, not both")]
    [InlineData(new[] { "--elf", "/nonexistent/app.elf" }, "/nonexistent/app.elf: cannot read it")]
    [InlineData(new[] { "--firmware", "/nonexistent/build" },
        "--firmware: /nonexistent/build: no such build directory")]
    public async Task BadInput_Exit1_OneMessageNoPortTouched(string[] args, string message)
    {
        using var device = new ScriptedDevice("should never be read\r\n");
        var result = await WsctlProcess.RunAsync(["monitor", "-p", device.Url, .. args], timeout: Limit);
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("wsctl: " + message, result.Stderr);
        Assert.Equal("", result.Stdout);
        Assert.DoesNotContain("   at ", result.Stderr);
    }

    [Fact]
    public async Task Help_ShowsExamplesAndExitCode12()
    {
        var result = await WsctlProcess.RunAsync(["monitor", "--help"], timeout: Limit);
        Assert.Equal(0, result.ExitCode);
        Assert.Contains("Examples:", result.Stdout);
        Assert.Contains("--until 'WebSocket server on'", result.Stdout);
        Assert.Contains(" 12  the device panicked or keeps rebooting", result.Stdout);
        Assert.Contains("  6  timeout", result.Stdout);
        var root = await WsctlProcess.RunAsync(["--help"], timeout: Limit);
        Assert.Contains("monitor", root.Stdout);
        Assert.Contains(" 12  the device panicked or keeps rebooting", root.Stdout);
    }
}

/// <summary>wsctl monitor on a pseudo-terminal (script(1)), as a person uses it.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public class MonitorTerminalTests
{
    [WsCore.Tests.Bench.TerminalFact]
    public async Task Terminal_ColoursKept_TypedKeysReachTheDevice_CtrlBracketEndsWithExit0()
    {
        using var device = new ScriptedDevice("\u001b[0;32mI (611) ws_server: WebSocket server on port " +
            "8080\u001b[0m\r\nesp32> ");
        using var terminal = PseudoTerminal.StartWsctl($"monitor -p {device.Url} --timeout 60s");
        var screen = new System.Text.StringBuilder();
        var reading = Task.Run(async () =>
        {
            var buffer = new char[1024];
            int n;
            while ((n = await terminal.StandardOutput.ReadAsync(buffer)) > 0)
                lock (screen)
                    screen.Append(buffer, 0, n);
        });
        string Screen()
        {
            lock (screen)
                return screen.ToString();
        }
        try
        {
            var end = DateTime.UtcNow + TimeSpan.FromSeconds(60);
            while (!Screen().Contains("esp32> ", StringComparison.Ordinal) && DateTime.UtcNow < end)
                await Task.Delay(20);
            // Colours as the device sent them; the prompt, a line not ended, shown once the device paused.
            Assert.Contains("\u001b[0;32mI (611) ws_server: WebSocket server on port 8080\u001b[0m", Screen());
            Assert.Contains("esp32> ", Screen());
            await terminal.StandardInput.WriteAsync("help\r");
            await terminal.StandardInput.FlushAsync();
            Assert.True(
                await device.WaitForReceivedAsync("help\r\n", TimeSpan.FromSeconds(30)),
                $"received: '{device.Received}'\n{Screen()}");
            await terminal.StandardInput.WriteAsync(WsCore.Tests.Monitor.ConsoleKeys.CtrlBracket);
            await terminal.StandardInput.FlushAsync();
            using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await terminal.WaitForExitAsync(limit.Token);
            Assert.True(terminal.ExitCode == 0, Screen());
        }
        finally
        {
            if (!terminal.HasExited)
                terminal.Kill(entireProcessTree: true);
        }
        await reading.WaitAsync(TimeSpan.FromSeconds(10));
    }
}

/// <summary>Keys as a terminal sends them.</summary>
public static class ConsoleKeys
{
    public const string CtrlBracket = "\u001d";
}

/// <summary>
/// <c>wsctl flash --monitor</c>: flashing, then the console of the new firmware on the same connection.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public class FlashMonitorTests
{
    [ElfFact]
    public async Task FlashMonitor_BuildDirWithElf_FlashesThenDecodesThePanicOfTheNewFirmware_Exit12()
    {
        var elf = TestElf.Riscv;
        using var fw = new WsCore.Tests.Esp.FirmwareFixture();
        File.Copy(elf.Path, Path.Combine(fw.Dir, "app.elf"));
        using var sim = new RomSimulator();
        var pc = elf.Symbols["store_through"] + 2;
        using var wsctl = WsctlProcess.Start(["flash", "--port", sim.Url, "--before", "no-reset", "--firmware", fw.Dir,
            "--ssid", "MyNet", "--pass", "password123", "--monitor", "--json"], null);
        // Flashing is over (the hard reset is done) when the "done" event is out: then the new firmware speaks.
        await wsctl.WaitForStdoutAsync(
            l => l.Contains("\"type\":\"done\"", StringComparison.Ordinal), TimeSpan.FromMinutes(1));
        sim.SendToHost(System.Text.Encoding.UTF8.GetBytes(PanicSamples.HealthyBoot +
            "Guru Meditation Error: Core  0 panic'ed (StoreProhibited). Exception was unhandled.\r\n" +
            $"Backtrace: 0x{pc:x8}:0x3ffb5620\r\n\r\nRebooting...\r\n"));
        Assert.Equal(12, await wsctl.WaitForExitAsync(TimeSpan.FromMinutes(1)));
        var objects = wsctl.StdoutLines.Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Contains(objects, o => o.GetProperty("type").GetString() == "region_verified");
        Assert.Contains(
            objects,
            o => o.TryGetProperty("text", out var l)
                && l.GetString() == "I (611) ws_server: WebSocket server on port 8080");
        var decoded = Assert.Single(objects, o => o.GetProperty("type").GetString() == "decoded")
            .GetProperty("addresses")[0];
        Assert.Equal("store_through", decoded.GetProperty("function").GetString());
        Assert.Equal("panic", objects[^1].GetProperty("outcome").GetString());
        // One result, the monitor's: it is the last word.
        Assert.Single(objects, o => o.GetProperty("type").GetString() == "result");
        Assert.Contains("wsctl: the device panicked", wsctl.Stderr);
        Assert.DoesNotContain("password123", wsctl.Stdout + wsctl.Stderr);
    }

    [Theory]
    [InlineData("--dry-run", "--monitor: needs a board")]
    [InlineData("--after", "--monitor: the board must boot the new firmware")]
    public async Task FlashMonitor_WithoutABoardToWatch_Exit1(string option, string message)
    {
        string[] extra = option == "--after" ? ["--after", "no-reset"] : [option];
        var result = await WsctlProcess.RunAsync(["flash", "--ssid", "MyNet", "--pass", "password123", "--monitor",
            .. extra, "-p", "socket://127.0.0.1:9"]);
        Assert.Equal(1, result.ExitCode);
        Assert.Contains(message, result.Stderr);
    }
}
