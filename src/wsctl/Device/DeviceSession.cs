using System.Globalization;
using System.Security.Cryptography;
using Serilog;
using WsCore;
using WsCore.Chips;
using WsCore.Esp;
using WsCore.FlashFiles;
using WsCore.Flashing;
using Wsctl.Cli;
using Wsctl.Flash;

namespace Wsctl.Device;

/// <summary>
/// Runs the <c>device</c> subverbs: checks what was given before any port is opened, connects through
/// <see cref="EspDevice"/> (the connection code of <c>flash</c>), does the work, and renders the result. Progress goes
/// to stderr as text (stdout carries the result only) or to stdout as JSON events before the result.
/// </summary>
public static class DeviceSession
{
    public static Task<ExitCode> InfoAsync(DeviceRun run, ILogger logger, CancellationToken cancel) =>
        Task.Run(() => Connected(run, null, logger, cancel, device =>
        {
            var info = device.ReadInfo();
            return () =>
            {
                if (run.Json)
                    DeviceRenderer.WriteInfoJson(info, Console.OpenStandardOutput());
                else
                    DeviceRenderer.WriteInfoText(info, Console.Out);
                return ExitCode.Ok;
            };
        }), cancel);

    public static Task<ExitCode> ReadAsync(DeviceRun run, FlashArea area, string output, ILogger logger,
        CancellationToken cancel)
    {
        var range = ParseArea(area, "read");
        CheckWritable(output);
        return Task.Run(() => Connected(run, null, logger, cancel, device =>
        {
            var (name, resolved) = Resolve(device, area, range);
            var data = device.Read(name, resolved, cancel);
            PrivateFile.Write(output, data, InputField.ReadOutputFile);
            var md5 = Convert.ToHexStringLower(MD5.HashData(data));
            return () =>
            {
                if (run.Json)
                    new JsonLines(Console.OpenStandardOutput()).WriteResult(ExitCode.Ok, more: w =>
                    {
                        w.WriteString("region", name);
                        w.WriteNumber("offset", resolved.Start);
                        w.WriteNumber("size", resolved.Length);
                        w.WriteString("md5", md5);
                        w.WriteString("output", output);
                    });
                else
                    Console.Out.WriteLine($"Read {name} (0x{resolved.Start:X}, {resolved.Length} bytes, md5 {md5}) " +
                        $"to {output} (mode 0600)");
                return ExitCode.Ok;
            };
        }), cancel);
    }

    public static Task<ExitCode> EraseAsync(DeviceRun run, FlashArea area, ILogger logger, CancellationToken cancel)
    {
        var range = ParseArea(area, "erase");
        if (range is { } given)
            FlashEraser.CheckAligned(given);
        return Task.Run(() => Connected(run, null, logger, cancel, device =>
        {
            var (name, resolved) = Resolve(device, area, range);
            if (area.All)
                device.EraseAll(cancel);
            else
                device.Erase(name, resolved, cancel);
            return () =>
            {
                if (run.Json)
                    new JsonLines(Console.OpenStandardOutput()).WriteResult(ExitCode.Ok, more: w =>
                    {
                        w.WriteString("region", name);
                        w.WriteNumber("offset", resolved.Start);
                        w.WriteNumber("size", resolved.Length);
                    });
                else
                    Console.Out.WriteLine($"Erased {name} (0x{resolved.Start:X}, {resolved.Length} bytes): it reads " +
                        "back as 0xFF");
                return ExitCode.Ok;
            };
        }), cancel);
    }

    public static Task<ExitCode> VerifyAsync(DeviceRun run, string? firmware, IReadOnlyList<string> images,
        ILogger logger, CancellationToken cancel)
    {
        if (firmware is null && images.Count == 0)
            throw WsCoreException.Invalid(InputField.Firmware, "nothing to compare: give --firmware or --image");
        var plan = FlashFileLoader.Plan(new FlashRequest
        {
            Chip = run.Loader.Chip ?? KnownChips.Esp32,
            Firmware = firmware,
            Images = [.. images.Select(FlashSession.ParseImage)],
        });
        var buildChip = plan.Chip is { } id ? KnownChips.ById(id) ?? throw WsCoreException.Invalid(
            InputField.Firmware, $"the build is for {id}, which wsctl does not know") : null;
        if (buildChip is not null && run.Loader.Chip is { } expected && expected != buildChip)
            throw WsCoreException.Invalid(InputField.Chip, $"the build is for {buildChip.Id}, not {expected.Id}");
        // The flash size the build's bootloader header names, as flash writes it; detected for loose images.
        var flashSize = run.FlashSize is null or "detect" && firmware is not null && !plan.DetectFlashSize
            ? plan.FlashSizeBytes : (uint?)null;
        return Task.Run(() => Connected(run with { Loader = run.Loader with { Chip = run.Loader.Chip ?? buildChip } },
            flashSize, logger, cancel, device =>
            {
                device.Verify(plan.Regions, cancel);
                return () =>
                {
                    if (!run.Json)
                        Console.Out.WriteLine(
                            $"The chip holds every region ({plan.Regions.Count}) as the files have it");
                    return ExitCode.Ok;
                };
            }), cancel);
    }

    public static Task<ExitCode> PartitionsAsync(DeviceRun run, string? firmware, ILogger logger,
        CancellationToken cancel)
    {
        if (firmware is not null)
        {
            var table = ReadBuildTable(firmware);
            return Task.FromResult(ShowTable(table, firmware, PartitionTable.DefaultOffset, run.Json));
        }
        return Task.Run(() => Connected(run, null, logger, cancel, device =>
        {
            var table = device.ReadPartitionTable();
            return () => ShowTable(table, "device", PartitionTable.DefaultOffset, run.Json);
        }), cancel);
    }

    public static ExitCode Ports(bool json)
    {
        var finder = new SerialPortFinder(SerialPortOption.SysfsRoot);
        var ports = finder.List();
        var candidates = ports.Where(p => p.IsEsp32Adapter).ToList();
        var (auto, reason) = candidates.Count switch
        {
            0 => ((string?)null, "no port is a known ESP32 adapter (CP210x, CH340, CH9102, FTDI, Espressif " +
                "USB-Serial/JTAG): name the port with --port"),
            1 => (candidates[0].DevicePath, $"the one known ESP32 adapter ({candidates[0].Kind})"),
            _ => (null, $"{candidates.Count} known ESP32 adapters: auto refuses to guess; name one with --port"),
        };
        if (json)
            DeviceRenderer.WritePortsJson(ports, auto, reason, Console.OpenStandardOutput());
        else
            DeviceRenderer.WritePortsText(ports, auto, reason, Console.Out);
        return ExitCode.Ok;
    }

    /// <summary>
    /// Opens the port, connects, runs <paramref name="body"/>, leaves the loader as asked (a hard reset unless
    /// --after no-reset), and only then renders what the body found: the result is the run's last line.
    /// </summary>
    private static ExitCode Connected(DeviceRun run, uint? flashSize, ILogger logger, CancellationToken cancel,
        Func<EspDevice, Func<ExitCode>> body)
    {
        var size = flashSize ?? ParseFlashSize(run.FlashSize);
        var (transport, usbJtag) = SerialPortOption.Open(run.Loader.Port, LoaderConnector.RomBaudRate, logger);
        using (transport)
        {
            // The result is rendered on stdout once the device is left: the progress goes to stderr.
            var observer = FlashProgress.ForConsole(run.Json, progressOnStderr: true);
            var device = new EspDevice(transport, new FlashSessionOptions
            {
                Before = run.Loader.Before,
                After = run.Loader.After ?? AfterReset.HardReset,
                Baud = run.Loader.Baud,
                FlashSize = size,
                UsbJtagSerial = usbJtag,
                ExpectedChip = run.Loader.Chip,
            }, logger, observer);
            device.Connect(cancel);
            var render = body(device);
            device.Finish();
            return render();
        }
    }

    private static uint? ParseFlashSize(string? text) =>
        text is null or "detect" ? null
            : FirmwareImage.ParseFlashSize(text) ?? throw WsCoreException.Invalid(InputField.FlashSize,
                $"'{text}' is not a flash size", "give 1MB, 2MB, 4MB, 8MB or 16MB, or detect");

    /// <summary>
    /// The range OFFSET SIZE gives, checked; null for --partition and --all (known once connected). Exactly one of
    /// the three must be given.
    /// </summary>
    private static FlashRange? ParseArea(FlashArea area, string verb)
    {
        var given = (area.Offset is not null ? 1 : 0) + (area.Partition is not null ? 1 : 0) + (area.All ? 1 : 0);
        if (given != 1)
            throw WsCoreException.Invalid(InputField.FlashRange,
                given == 0 ? $"what to {verb}? give OFFSET SIZE, --partition NAME or --all"
                    : "give one of OFFSET SIZE, --partition NAME and --all",
                $"e.g. wsctl device {verb} 0x9000 0x6000");
        if (area.Offset is null)
            return null;
        var offset = ParseNumber(area.Offset, "OFFSET");
        if (area.Size is null)
            throw WsCoreException.Invalid(InputField.FlashRange, "OFFSET needs a SIZE after it",
                $"e.g. wsctl device {verb} {area.Offset} 0x1000");
        var size = ParseNumber(area.Size, "SIZE");
        if (size == 0)
            throw WsCoreException.Invalid(InputField.FlashRange, "the SIZE must be more than 0");
        return new FlashRange(offset, offset + size);
    }

    /// <summary>A number as the flash tools write them: 0x9000, 36864, 36K, 4M.</summary>
    private static long ParseNumber(string text, string what)
    {
        var trimmed = text.Trim();
        var scale = trimmed.EndsWith('K') || trimmed.EndsWith('k') ? 1024L
            : trimmed.EndsWith('M') || trimmed.EndsWith('m') ? 1024L * 1024 : 1L;
        var digits = scale == 1 ? trimmed : trimmed[..^1];
        var parsed = digits.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            ? long.TryParse(digits[2..], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var hex)
                ? hex : -1
            : long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var dec) ? dec : -1;
        if (parsed < 0 || parsed > uint.MaxValue / scale)
            throw WsCoreException.Invalid(InputField.FlashRange, $"{what} '{text}' is not a number of bytes",
                "write it as 0x9000, 36864, 36K or 4M");
        return parsed * scale;
    }

    /// <summary>Fails before the (slow) read when the file could never be written.</summary>
    private static void CheckWritable(string output)
    {
        var full = Path.GetFullPath(output);
        if (Directory.Exists(full))
            throw WsCoreException.Invalid(InputField.ReadOutputFile, $"{output} is a directory",
                "give a file name inside it");
        if (Path.GetDirectoryName(full) is { } parent && !Directory.Exists(parent))
            throw WsCoreException.Invalid(InputField.ReadOutputFile, $"the directory {parent} does not exist",
                $"create it first: mkdir -p {parent}");
    }

    /// <summary>The name and range the area stands for on the connected chip.</summary>
    private static (string Name, FlashRange Range) Resolve(EspDevice device, FlashArea area, FlashRange? range)
    {
        if (range is { } given)
            return ($"0x{given.Start:X}", given);
        if (area.All)
            return ("flash", new FlashRange(0, device.FlashSize));
        var partition = EspDevice.FindPartition(device.ReadPartitionTable(), area.Partition!);
        return (partition.Label, new FlashRange(partition.Offset, partition.End));
    }

    /// <summary>The binary partition table a build directory holds (flasher_args.json's, at 0x8000).</summary>
    private static PartitionTableImage ReadBuildTable(string firmware)
    {
        if (!Directory.Exists(firmware))
            throw WsCoreException.Invalid(InputField.Firmware, $"{firmware} is not a build directory",
                "give the ESP-IDF build directory (the one with flasher_args.json)");
        var plan = FlashFileLoader.Plan(new FlashRequest { Firmware = firmware });
        var region = plan.Regions.FirstOrDefault(r => r.Offset == PartitionTable.DefaultOffset)
            ?? throw WsCoreException.Invalid(InputField.Firmware,
                $"the build writes no partition table at 0x{PartitionTable.DefaultOffset:X}");
        return PartitionTable.ParseImage(region.Data);
    }

    private static ExitCode ShowTable(PartitionTableImage table, string source, uint offset, bool json)
    {
        var mismatch = table.StoredMd5 is not null && !table.Md5Matches;
        var exit = mismatch ? ExitCode.VerificationFailed : ExitCode.Ok;
        string? error = mismatch
            ? $"the partition table's MD5 entry ({table.StoredMd5}) does not match its entries ({table.ComputedMd5})"
            : null;
        const string hint = "the bootloader refuses such a table: flash the build's partition table again";
        if (json)
            DeviceRenderer.WritePartitionsJson(table, source, offset, exit, error, error is null ? null : hint,
                Console.OpenStandardOutput());
        else
        {
            DeviceRenderer.WritePartitionsText(table, source, offset, Console.Out);
            if (error is not null)
                VerbRunner.ReportError(error, hint);
        }
        return exit;
    }
}
