using System.Text;
using System.Text.RegularExpressions;
using WsCore.Monitor;

namespace WsCore.Tests.Monitor;

/// <summary>
/// The sans-I/O pieces of the monitor: splitting, escape stripping, crash recognition, address extraction, ending.
/// </summary>
public class MonitorRecognizerTests
{
    private static IReadOnlyList<ulong>[] ExtractAll(string sample)
    {
        var extractor = new CrashAddressExtractor();
        return PanicSamples.Lines(sample).Select(extractor.Extract).ToArray();
    }

    private static ulong[] Flat(string sample) => ExtractAll(sample).SelectMany(a => a).ToArray();

    [Fact]
    public void Extract_XtensaPanic_PcOfRegisterDumpThenThePcOfEachBacktracePair_NoStackPointers()
    {
        Assert.Equal(
            [0x400d6e2dUL, 0x400d6e2a, 0x400d6e69, 0x400e4f6f, 0x40087c1d], Flat(PanicSamples.XtensaLoadProhibited));
    }

    [Fact]
    public void Extract_XtensaAbort_CallerPcThenBacktraceUpToCorrupted()
    {
        Assert.Equal([0x400d6e3bUL, 0x40081a36, 0x40087d29, 0x4008c9e2, 0x400d6e3b], Flat(PanicSamples.XtensaAbort));
    }

    [Fact]
    public void Extract_RiscvPanic_MepcAndRa_ThenEveryStackWord_NothingFromOtherRegisters()
    {
        var perLine = ExtractAll(PanicSamples.RiscvLoadAccessFault);
        var lines = PanicSamples.Lines(PanicSamples.RiscvLoadAccessFault);
        Assert.Equal(
            [0x42007a1aUL, 0x42007a14],
            perLine[Array.FindIndex(lines, l => l.StartsWith("MEPC", StringComparison.Ordinal))]);
        var stackLine = Array.FindIndex(lines, l => l.StartsWith("3fc93a40:", StringComparison.Ordinal));
        Assert.Equal([0UL, 0x42007a3c, 0x4037f2c6], perLine[stackLine]);
        Assert.Equal([0UL], perLine[stackLine + 1]);
        // T0 (0x40057fa6) and MTVEC are code addresses too, but not where the crash is.
        Assert.DoesNotContain(0x40057fa6UL, perLine.SelectMany(a => a));
        Assert.DoesNotContain(0x40380001UL, perLine.SelectMany(a => a));
        // The dump ends at the first line that is not one of its rows: the SHA line gives nothing.
        Assert.Empty(perLine[Array.FindIndex(lines, l => l.StartsWith("ELF file", StringComparison.Ordinal))]);
    }

    [Fact]
    public void Extract_OrdinaryLogLines_Nothing()
    {
        Assert.Empty(Flat(PanicSamples.HealthyBoot));
        Assert.Empty(Flat("I (100) app: value 0x400d1234 read\r\nentry 0x400805f0\r\n"));
    }

    [Fact]
    public void IsPanic_EachSample_ExactlyItsFirstLine()
    {
        foreach (var (sample, first) in new[]
                 {
                     (
                         PanicSamples.XtensaLoadProhibited,
                         "Guru Meditation Error: Core  0 panic'ed (LoadProhibited). Exception was unhandled."),
                     (PanicSamples.XtensaAbort, "abort() was called at PC 0x400d6e3b on core 0"),
                     (
                         PanicSamples.RiscvLoadAccessFault,
                         "Guru Meditation Error: Core  0 panic'ed (Load access fault). Exception was unhandled."),
                     (PanicSamples.RiscvAssert, "assert failed: app_main main.c:12 (count == 1)"),
                 })
            Assert.Equal([first], PanicSamples.Lines(sample).Where(CrashMarkers.IsPanic));
        Assert.DoesNotContain(
            PanicSamples.Lines(PanicSamples.WatchdogResets + PanicSamples.HealthyBoot), CrashMarkers.IsPanic);
        // A panic can interrupt a log line half-way (the UART is shared).
        Assert.True(CrashMarkers.IsPanic("I (676) phy_init: phGuru Meditation Error: Core  0 panic'ed (Illegal " +
            "instruction)."));
        Assert.True(CrashMarkers.IsPanic("Core  1 panic'ed (Interrupt wdt timeout on CPU1)"));
        Assert.True(CrashMarkers.IsPanic("***ERROR*** A stack overflow in task main has been detected."));
    }

    [Theory]
    [InlineData("rst:0x1 (POWERON_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)", "rst:0x1 (POWERON_RESET)")]
    [InlineData("rst:0x10 (RTCWDT_RTC_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)", "rst:0x10 (RTCWDT_RTC_RESET)")]
    [InlineData("rst:0x3 (RTC_SW_SYS_RST),boot:0xc (SPI_FAST_FLASH_BOOT)", "rst:0x3 (RTC_SW_SYS_RST)")]
    [InlineData("rst:0xc,boot:0x13", "rst:0xc")]
    public void IsBootBanner_RomBanners_ReasonAsPrinted(string line, string reason)
    {
        Assert.True(CrashMarkers.IsBootBanner(line, out var found));
        Assert.Equal(reason, found);
    }

    [Theory]
    [InlineData("I (10) app: first rst:0x1 mentioned in a log line")]
    [InlineData("ets Jul 29 2019 12:21:46")]
    [InlineData("")]
    public void IsBootBanner_OtherLines_False(string line) => Assert.False(CrashMarkers.IsBootBanner(line, out _));

    [Theory]
    [InlineData("\u001b[0;32mI (611) ws: on\u001b[0m", "I (611) ws: on")]
    [InlineData("\u001b[1;31mE\u001b[0m plain", "E plain")]
    [InlineData("\u001b]0;title\u0007after", "after")]
    [InlineData("\u001b[2K\u001b[1Gprompt> ", "prompt> ")]
    [InlineData("cut off \u001b[0;3", "cut off ")]
    [InlineData("no escapes", "no escapes")]
    public void AnsiStrip_RemovesSequencesKeepsText(string text, string plain) => Assert.Equal(
        plain, AnsiEscapes.Strip(text));

    [Fact]
    public void Splitter_CrLfAcrossPushes_AndUtf8SplitInsideACharacter()
    {
        var splitter = new ConsoleLineSplitter();
        var bytes = Encoding.UTF8.GetBytes("temp 21.5 °C\r\nnext");
        var degree = Array.IndexOf(bytes, (byte)0xC2);
        Assert.Empty(splitter.Push(bytes.AsSpan(0, degree + 1)));
        var lines = splitter.Push(bytes.AsSpan(degree + 1));
        Assert.Equal([new ConsoleLine("temp 21.5 °C")], lines);
        Assert.True(splitter.HasPending);
        Assert.Equal("next", splitter.PendingLine);
    }

    [Fact]
    public void Splitter_PendingPromptShown_CompleteLineCarriesHowMuchWasShown()
    {
        var splitter = new ConsoleLineSplitter();
        splitter.Push("esp32> "u8);
        Assert.Equal("esp32> ", splitter.TakePendingText());
        Assert.False(splitter.HasPending);
        splitter.Push("help"u8);
        Assert.Equal("help", splitter.TakePendingText());
        var line = Assert.Single(splitter.Push("\r\n"u8));
        Assert.Equal(new ConsoleLine("esp32> help", 11), line);
        Assert.Equal("", line.Text[line.ShownBefore..]);
    }

    [Fact]
    public void Splitter_GarbageWithoutLineFeeds_CutAtMaxLength()
    {
        var splitter = new ConsoleLineSplitter();
        var lines = splitter.Push(new byte[ConsoleLineSplitter.MaxLineLength * 2 + 10].AsSpan());
        Assert.Equal(2, lines.Count);
        Assert.All(lines, l => Assert.Equal(ConsoleLineSplitter.MaxLineLength, l.Text.Length));
    }

    /// <summary>
    /// Megabytes without a line feed in one push (a line at the wrong baud rate, read in one go): what the splitter
    /// allocates beyond the lines it hands out does not grow with the push, and what it holds stays under one line.
    /// </summary>
    [Fact]
    public void Splitter_MegabytesInOnePush_AllocatesOnlyTheLinesItReturns_AndHoldsLessThanALine()
    {
        const int noiseBytes = 4 * 1024 * 1024;
        var noise = new byte[noiseBytes + 100];
        noise.AsSpan().Fill((byte)'x');
        var splitter = new ConsoleLineSplitter();
        var allocatedBefore = GC.GetAllocatedBytesForCurrentThread();

        var lines = splitter.Push(noise);

        var allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
        var handedOut = lines.Sum(l => 2L * l.Text.Length);
        Assert.Equal(noise.Length / ConsoleLineSplitter.MaxLineLength, lines.Count);
        Assert.InRange(allocated - handedOut, 0, 256 * 1024);
        Assert.Equal(noise.Length % ConsoleLineSplitter.MaxLineLength, splitter.PendingLine.Length);
    }

    private static MonitorResult? Feed(ConsoleWatcher watcher, string sample, TimeSpan at)
    {
        foreach (var line in PanicSamples.Lines(sample))
            if (watcher.OnLine(line, at) is { } result)
                return result;
        return null;
    }

    [Fact]
    public void Watcher_Panic_EndsAtRebootingAfterTheBacktrace_NotAtItsFirstLine()
    {
        var watcher = new ConsoleWatcher(null, null);
        var lines = PanicSamples.Lines(PanicSamples.XtensaLoadProhibited);
        var ended = -1;
        for (var i = 0; i < lines.Length && ended < 0; i++)
            if (watcher.OnLine(lines[i], TimeSpan.FromMilliseconds(i)) is { } result)
            {
                Assert.Equal(MonitorOutcome.Panicked, result.Outcome);
                Assert.Equal(
                    "the device panicked: Guru Meditation Error: Core  0 panic'ed (LoadProhibited). Exception was " +
                        "unhandled.",
                    result.Message);
                ended = i;
            }
        Assert.Equal("Rebooting...", lines[ended]);
    }

    [Fact]
    public void Watcher_PanicThenSilence_EndsAfterTheQuietTime()
    {
        var watcher = new ConsoleWatcher(null, TimeSpan.FromSeconds(30));
        Assert.Null(Feed(watcher, PanicSamples.RiscvAssert, TimeSpan.FromSeconds(1)));
        Assert.True(watcher.InPanicReport);
        Assert.Null(watcher.OnTick(TimeSpan.FromSeconds(1) + ConsoleWatcher.PanicQuietTime / 2));
        Assert.Equal(
            MonitorOutcome.Panicked, watcher.OnTick(TimeSpan.FromSeconds(1) + ConsoleWatcher.PanicQuietTime)?.Outcome);
    }

    [Fact]
    public void Watcher_PanicReportRunningPastTheTimeout_StillAPanic()
    {
        var watcher = new ConsoleWatcher(null, TimeSpan.FromSeconds(2));
        Assert.Null(watcher.OnLine("abort() was called at PC 0x400d6e3b on core 0", TimeSpan.FromSeconds(1.9)));
        Assert.Null(watcher.OnTick(TimeSpan.FromSeconds(2.1)));
        Assert.Equal(MonitorOutcome.Panicked, watcher.OnTick(TimeSpan.FromSeconds(3))?.Outcome);
    }

    [Fact]
    public void Watcher_Until_MatchesPlainTextOfALine_AndAPendingPrompt()
    {
        var watcher = new ConsoleWatcher(new Regex("WebSocket server on"), TimeSpan.FromSeconds(5));
        var result = Feed(
            watcher,
            string.Join("\n", PanicSamples.Lines(PanicSamples.HealthyBoot).Select(AnsiEscapes.Strip)),
            TimeSpan.FromSeconds(1));
        Assert.Equal(
            new MonitorResult(MonitorOutcome.Matched, "matched: I (611) ws_server: WebSocket server on port 8080"),
            result);
        var prompt = new ConsoleWatcher(new Regex("^esp32> $"), null);
        Assert.Equal(MonitorOutcome.Matched, prompt.OnPendingLine("esp32> ", TimeSpan.Zero)?.Outcome);
    }

    [Fact]
    public void Watcher_ThreeBootBannersWithinTheTimeout_RebootLoopNamingTheCauses()
    {
        var watcher = new ConsoleWatcher(null, TimeSpan.FromSeconds(10));
        var result = Feed(watcher, PanicSamples.WatchdogResets, TimeSpan.FromSeconds(1));
        Assert.Equal(MonitorOutcome.RebootLoop, result?.Outcome);
        Assert.Equal(
            "the device keeps rebooting: 3 resets within 0 s (rst:0x1 (POWERON_RESET), rst:0x10 (RTCWDT_RTC_RESET))",
            result?.Message);
    }

    [Fact]
    public void Watcher_BootBannersFurtherApartThanTheWindow_NoLoop()
    {
        var watcher = new ConsoleWatcher(null, null);
        var banner = "rst:0x1 (POWERON_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)";
        for (var i = 0; i < 5; i++)
            Assert.Null(watcher.OnLine(banner, ConsoleWatcher.DefaultRebootWindow * i * 0.6));
        Assert.Null(watcher.OnTick(TimeSpan.FromHours(1)));
    }

    [Fact]
    public void Watcher_Timeout_SaysWhatWasAwaited()
    {
        Assert.Null(new ConsoleWatcher(
            new Regex("ready"), TimeSpan.FromSeconds(1)).OnTick(TimeSpan.FromMilliseconds(999)));
        Assert.Equal(new MonitorResult(MonitorOutcome.TimedOut, "timeout: no line matched 'ready' within 1 s"),
            new ConsoleWatcher(new Regex("ready"), TimeSpan.FromSeconds(1)).OnTick(TimeSpan.FromSeconds(1)));
        Assert.Equal(
            "timeout after 1.5 s",
            new ConsoleWatcher(null, TimeSpan.FromSeconds(1.5)).OnTick(TimeSpan.FromSeconds(2))?.Message);
    }
}
