// bench/flash.sh: the time `wsctl flash` and esptool take to write the same app image through the simulated ESP32
// ROM loader on a pty whose bytes take their time on the wire (10 bits each at the rate the host set), at 115200 and
// 460800 baud, with the bytes each sends; writes the "Flash" section of bench/RESULTS.md (--dry: prints it only).
// Options: --size BYTES (default 1 MiB), --runs N (default 1), --dry.
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using EspRomSimulator;

const uint AppOffset = 0x10000;
int[] rates = [115200, 460800];
var size = IntOption("--size", 1024 * 1024);
var runs = IntOption("--runs", 1);
var root = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "../../../../.."));
var wsctl = Path.Combine(root, "src/wsctl/bin/Release/net10.0/wsctl.dll");
if (!File.Exists(wsctl))
    return Fail($"no {wsctl}: run bench/flash.sh, which builds it");

// The app: the first SIZE bytes of the .NET runtime's libcoreclr.so, machine code that compresses about as an ESP-IDF
// app does (written with --force, since it is no ESP image).
var runtime = Path.Combine(RuntimeEnvironment.GetRuntimeDirectory(), "libcoreclr.so");
var app = File.ReadAllBytes(runtime)[..size];
var work = Directory.CreateTempSubdirectory("wsctl-flash-bench-");
var appPath = Path.Combine(work.FullName, "app.bin");
File.WriteAllBytes(appPath, app);

var esptool = Environment.GetEnvironmentVariable("WSCTL_ESPTOOL") is { Length: > 0 } named ? named
    : Find("esptool.py") ?? Find("esptool");
var esptoolNote = esptool is null
    ? "esptool: skipped: not on PATH and WSCTL_ESPTOOL not set (it is not in Debian; a checkout of " +
        "espressif/esptool v4 runs with Debian's python3-serial, python3-bitstring, python3-ecdsa and " +
        "python3-cryptography)"
    : null;

var results = new List<Result>();
foreach (var rate in rates)
{
    for (var run = 0; run < runs; run++)
    {
        results.Add(Run("wsctl", rate, pty => ("dotnet", [wsctl, "flash", "--port", pty, "--before", "no-reset",
            "--after", "no-reset", "--chip", "esp32", "--baud", rate.ToString(CultureInfo.InvariantCulture),
            "--image", $"0x{AppOffset:X}={appPath}", "--force"])));
        if (esptool is not null)
            results.Add(Run("esptool", rate, pty => (esptool, ["--chip", "esp32", "--port", pty, "--baud",
                rate.ToString(CultureInfo.InvariantCulture), "--before", "no_reset", "--after", "no_reset", "--no-stub",
                "write_flash", "--compress", $"0x{AppOffset:X}", appPath])));
    }
}
work.Delete(recursive: true);
if (results.FirstOrDefault(r => r.Error is not null) is { } failed)
    return Fail($"{failed.Tool} at {failed.Rate}: {failed.Error}");

var text = Section();
Console.WriteLine(text);
if (!args.Contains("--dry"))
{
    const string Begin = "<!-- flash begin -->", End = "<!-- flash end -->";
    var path = Path.Combine(root, "bench/RESULTS.md");
    var current = File.ReadAllText(path);
    current = current.Contains(Begin)
        ? current[..current.IndexOf(Begin, StringComparison.Ordinal)] + text
            + current[(current.IndexOf(End, StringComparison.Ordinal) + End.Length)..].TrimStart('\n')
        : current.TrimEnd('\n') + "\n\n" + text;
    File.WriteAllText(path, current);
    Console.Error.WriteLine($"bench-flash: wrote {path}");
}
return 0;

Result Run(string tool, int rate, Func<string, (string File, string[] Args)> command)
{
    using var sim = new RomSimulator(pty: true) { PaceLink = true };
    var (file, arguments) = command(sim.Url);
    var info = new ProcessStartInfo(file, arguments) { RedirectStandardOutput = true, RedirectStandardError = true };
    var clock = Stopwatch.StartNew();
    using var process = Process.Start(info)!;
    var output = process.StandardOutput.ReadToEndAsync();
    var errors = process.StandardError.ReadToEndAsync();
    if (!process.WaitForExit(TimeSpan.FromMinutes(10)))
    {
        process.Kill(entireProcessTree: true);
        return new Result(tool, rate, 0, 0, 0, 0, "did not finish within 10 minutes");
    }
    var seconds = clock.Elapsed.TotalSeconds;
    Console.Error.WriteLine($"bench-flash: {tool} at {rate} baud: {seconds:F1} s");
    string? error = process.ExitCode != 0 ? $"exit {process.ExitCode}: {errors.Result}{output.Result}"
        : !sim.Flash.AsSpan((int)AppOffset, app.Length).SequenceEqual(app) ? "the flash does not hold the app"
        : sim.DataPacketRates.Any(r => Math.Abs(r - rate) > rate * 0.03) ? "data went at another rate" : null;
    return new Result(tool, rate, seconds, sim.BytesReceived, sim.BytesSent, sim.DataPacketRates.Count, error);
}

string Section()
{
    double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToList();
        var middle = sorted.Count / 2;
        return sorted.Count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
    }
    string F(double v, string format = "F1") => v.ToString(format, CultureInfo.InvariantCulture);
    var lines = new List<string>
    {
        "<!-- flash begin -->",
        $"## Flash: a {size / 1024} KiB app through the simulated ESP32 ROM on a paced link",
        "",
        $"Made by `bench/flash.sh` on {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC: {Environment.ProcessorCount} " +
            $"logical CPUs, load average {File.ReadAllText("/proc/loadavg").Split(' ')[0]}; {runs} run(s) per " +
            "cell, medians. The simulator (tests/EspRomSimulator) is reached through a pty: every byte takes 10 " +
            "bits at the rate the host set, one way at a time, and the chip's UART follows CHANGE_BAUDRATE. " +
            "Both tools talk to the ROM " +
            "(esptool with --no-stub, and --compress, which it leaves off without its stub), compress, and check the " +
            "MD5 after writing. The app is the first " +
            $"{size / 1024} KiB of libcoreclr.so (machine code).",
        "",
        "| tool | baud | time | bytes to the chip | bytes from the chip | data packets |",
        "|---|---|---|---|---|---|",
    };
    foreach (var group in results.GroupBy(r => (r.Tool, r.Rate)))
        lines.Add($"| {group.Key.Tool} | {group.Key.Rate:N0} | {F(Median(group.Select(r => r.Seconds)))} s | " +
            $"{group.First().BytesToChip:N0} | {group.First().BytesFromChip:N0} | {group.First().DataPackets} |");
    lines.Add("");
    IEnumerable<Result> Cell(string tool, int rate) => results.Where(r => r.Tool == tool && r.Rate == rate);
    double Time(string tool, int rate) => Median(Cell(tool, rate).Select(r => r.Seconds));
    double Bytes(string tool, int rate) => Cell(tool, rate).First().BytesToChip;
    lines.Add($"wsctl at 460,800 against 115,200: {F(Time("wsctl", 115200) / Time("wsctl", 460800))}× faster.");
    if (esptoolNote is null)
        foreach (var rate in rates)
            lines.Add($"At {rate:N0} baud wsctl takes {F(Time("wsctl", rate) / Time("esptool", rate), "F2")}× " +
                $"esptool's time and sends {F(Bytes("wsctl", rate) / Bytes("esptool", rate), "F2")}× its bytes.");
    else
        lines.Add(esptoolNote + ".");
    lines.Add("");
    lines.Add("Target (issue 28): 460,800 baud by default with a fall back to 115,200: **met**: " +
        $"{F(Time("wsctl", 115200) / Time("wsctl", 460800))}× less time than at 115,200 here; the fall back is " +
        "proven by tests/WsCore.Tests/Esp/BaudRateTests.cs on the same simulator with a link that garbles above " +
        "a rate.");
    lines.Add("<!-- flash end -->");
    return string.Join('\n', lines) + "\n";
}

int IntOption(string name, int fallback)
{
    var at = Array.IndexOf(args, name);
    return at >= 0 && at + 1 < args.Length && int.TryParse(args[at + 1], CultureInfo.InvariantCulture, out var v)
        ? v
        : fallback;
}

static string? Find(string name) => (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':')
    .Select(dir => Path.Combine(dir, name)).FirstOrDefault(File.Exists);

static int Fail(string message)
{
    Console.Error.WriteLine($"bench-flash: {message}");
    return 1;
}

internal sealed record Result(
    string Tool, int Rate, double Seconds, long BytesToChip, long BytesFromChip, int DataPackets, string? Error);
