using System.CommandLine;
using Wsctl.Cli;
using Wsctl.Device;

namespace Wsctl.Commands;

/// <summary>
/// <c>wsctl device</c>: the chip's toolbox through its ROM loader, over the connection code of <c>flash</c>: info,
/// read, erase, verify and partitions; and ports, which lists the serial ports without touching any.
/// </summary>
public static class DeviceCommand
{
    private static readonly ExitCode[] ChipCodes =
        [ExitCode.Ok, ExitCode.Usage, ExitCode.Device, ExitCode.VerificationFailed, ExitCode.Interrupted];

    public static Command Create()
    {
        var command = new Command("device", HelpText.Describe(
            "Inspect, read, erase and verify an ESP32 through its ROM bootloader, and list serial ports.",
            [
                "wsctl device info                                   # chip, revision, MAC, flash, security",
                "wsctl device read --partition nvs -o nvs-backup.bin  # back up before a flash (file mode 0600)",
                "wsctl device verify --firmware build                 # is the chip running what I built?",
            ],
            "Each subverb resets the board into its ROM bootloader (--before), does its work with the ROM's own " +
            "commands, and resets it again (--after). Nothing but erase writes to the flash.",
            ChipCodes));
        command.Subcommands.Add(Info());
        command.Subcommands.Add(Read());
        command.Subcommands.Add(Erase());
        command.Subcommands.Add(Verify());
        command.Subcommands.Add(Partitions());
        command.Subcommands.Add(Ports());
        return command;
    }

    /// <summary>--flash-size of the subverbs that reach the flash: detected from the flash chip unless given.</summary>
    private static Option<string> FlashSize() => new("--flash-size")
    {
        Description = "The flash size (1MB, 2MB, 4MB, 8MB, 16MB), or detect: read the flash chip's JEDEC ID.",
        HelpName = "SIZE",
        DefaultValueFactory = _ => "detect",
    };

    /// <summary>A subverb that connects: the loader's options, --flash-size and --json.</summary>
    private static (Command Command, LoaderOptions Loader, Option<string> FlashSize, Option<bool> Json) Connecting(
        string name, string summary, string[] examples, string? notes, string jsonWhat)
    {
        var command = new Command(name, HelpText.Describe(summary, examples, notes, ChipCodes));
        var loader = new LoaderOptions();
        loader.AddTo(command);
        var flashSize = FlashSize();
        var json = SharedOptions.Json(jsonWhat);
        command.Options.Add(flashSize);
        command.Options.Add(json);
        return (command, loader, flashSize, json);
    }

    private static DeviceRun Run(ParseResult parse, LoaderOptions loader, Option<string> flashSize,
        Option<bool> json) => new(loader.Read(parse), parse.GetValue(flashSize), parse.GetValue(json));

    private static Command Info()
    {
        var (command, loader, flashSize, json) = Connecting("info",
            "Show the chip: family, package, revision, features, crystal, MAC, flash JEDEC ID and size, security.",
            ["wsctl device info", "wsctl device info -p /dev/ttyUSB0 --json"],
            "Security comes from the ROM's GET_SECURITY_INFO where it has one (S2, S3, C3), from the eFuses on " +
            "the ESP32.",
            "the connection's events, then the result with the chip's information");
        command.SetAction((parse, cancel) => VerbRunner.RunAsync(parse, cancel, (logger, token) =>
            DeviceSession.InfoAsync(Run(parse, loader, flashSize, json), logger, token)));
        return command;
    }

    private static Command Read()
    {
        var (command, loader, flashSize, json) = Connecting("read",
            "Read a range, a partition or the whole flash to a file, checked against the chip's own MD5.",
            [
                "wsctl device read 0x10000 0x1000 -o app-head.bin",
                "wsctl device read --partition nvs -o nvs-backup.bin",
                "wsctl device read --all -o flash-backup.bin --baud 921600",
            ],
            "The ROM reads 64 bytes a command, about 5 KiB/s at 115200 baud: --baud speeds it up. The file is " +
            "written with mode 0600: flash may hold the Wi-Fi password.",
            "the connection's events, progress, then the result with the range and its MD5");
        var (offset, size) = RangeArguments();
        var partition = PartitionOption("Read the partition labelled NAME (as the chip's partition table says).");
        var all = new Option<bool>("--all") { Description = "Read the whole flash." };
        var output = new Option<string>("--output", "-o")
        {
            Description = "The file to write what was read to (mode 0600).",
            HelpName = "FILE",
            Required = true,
        };
        command.Arguments.Add(offset);
        command.Arguments.Add(size);
        command.Options.Add(partition);
        command.Options.Add(all);
        command.Options.Add(output);
        command.SetAction((parse, cancel) => VerbRunner.RunAsync(parse, cancel, (logger, token) =>
            DeviceSession.ReadAsync(Run(parse, loader, flashSize, json),
                Area(parse, offset, size, partition, all), parse.GetValue(output)!, logger, token)));
        return command;
    }

    private static Command Erase()
    {
        var (command, loader, flashSize, json) = Connecting("erase",
            "Erase whole 4 KiB sectors: a range, a partition or the whole flash; then check they read back as 0xFF.",
            [
                "wsctl device erase --partition nvs         # forget the Wi-Fi settings",
                "wsctl device erase 0x9000 0x6000",
                "wsctl device erase --all",
            ],
            "A range that does not start and end on a 4 KiB boundary is refused, with the sectors it touches as " +
            "the hint. The ROM erases through FLASH_BEGIN, which erases what it announces.",
            "the connection's events, then the result with the range erased");
        var (offset, size) = RangeArguments();
        var partition = PartitionOption("Erase the partition labelled NAME (as the chip's partition table says).");
        var all = new Option<bool>("--all") { Description = "Erase the whole flash." };
        command.Arguments.Add(offset);
        command.Arguments.Add(size);
        command.Options.Add(partition);
        command.Options.Add(all);
        command.SetAction((parse, cancel) => VerbRunner.RunAsync(parse, cancel, (logger, token) =>
            DeviceSession.EraseAsync(Run(parse, loader, flashSize, json),
                Area(parse, offset, size, partition, all), logger, token)));
        return command;
    }

    private static Command Verify()
    {
        var (command, loader, flashSize, json) = Connecting("verify",
            "Compare each region of a build with the chip's flash by MD5; nothing is written.",
            ["wsctl device verify --firmware build", "wsctl device verify --image 0x10000=app.bin"],
            "Exit 11 names the first region that differs. The bootloader is compared as flash writes it (its " +
            "header's flash settings patched as the build says).",
            "the connection's events, each region verified or differing, then the result");
        var firmware = new Option<string?>("--firmware")
        {
            Description = "An ESP-IDF build directory (reads flasher_args.json) or an app .bin (at 0x10000).",
            HelpName = "DIR|FILE",
        };
        var image = new Option<string[]>("--image")
        {
            Description = "Compare FILE with the flash at OFFSET (repeatable), e.g. --image 0x10000=app.bin.",
            HelpName = "OFFSET=FILE",
        };
        command.Options.Add(firmware);
        command.Options.Add(image);
        command.SetAction((parse, cancel) => VerbRunner.RunAsync(parse, cancel, (logger, token) =>
            DeviceSession.VerifyAsync(Run(parse, loader, flashSize, json), parse.GetValue(firmware),
                parse.GetValue(image) ?? [], logger, token)));
        return command;
    }

    private static Command Partitions()
    {
        var (command, loader, flashSize, json) = Connecting("partitions",
            "Show the partition table read from the chip (or from a build), with its MD5 entry checked.",
            ["wsctl device partitions", "wsctl device partitions --firmware build --json"],
            "Exit 11 when the table's MD5 entry does not match its entries (the bootloader would refuse it).",
            "the connection's events, then the result with the partitions");
        var firmware = new Option<string?>("--firmware")
        {
            Description = "Read the table from this ESP-IDF build directory instead of a chip (no port is opened).",
            HelpName = "DIR",
        };
        command.Options.Add(firmware);
        command.SetAction((parse, cancel) => VerbRunner.RunAsync(parse, cancel, (logger, token) =>
            DeviceSession.PartitionsAsync(Run(parse, loader, flashSize, json), parse.GetValue(firmware), logger,
                token)));
        return command;
    }

    private static Command Ports()
    {
        var command = new Command("ports", HelpText.Describe(
            "List the USB serial ports: VID:PID, maker, product, and which look like ESP32 adapters.",
            ["wsctl device ports", "wsctl device ports --json"],
            "The last line says what --port auto would pick, and why.",
            ExitCode.Ok, ExitCode.Usage));
        var json = SharedOptions.Json("the result with every port and what auto picks");
        command.Options.Add(json);
        command.SetAction((parse, cancel) => VerbRunner.RunAsync(parse, cancel, (_, _) =>
            Task.FromResult(DeviceSession.Ports(parse.GetValue(json)))));
        return command;
    }

    private static (Argument<string?> Offset, Argument<string?> Size) RangeArguments() =>
    (
        new Argument<string?>("OFFSET")
        {
            Description = "Where the range starts: 0x9000, 36864, 36K.",
            Arity = ArgumentArity.ZeroOrOne,
        },
        new Argument<string?>("SIZE")
        {
            Description = "How many bytes: 0x6000, 24576, 24K, 4M.",
            Arity = ArgumentArity.ZeroOrOne,
        });

    private static Option<string?> PartitionOption(string description) => new("--partition")
    {
        Description = description,
        HelpName = "NAME",
    };

    private static FlashArea Area(ParseResult parse, Argument<string?> offset, Argument<string?> size,
        Option<string?> partition, Option<bool> all) =>
        new(parse.GetValue(offset), parse.GetValue(size), parse.GetValue(partition), parse.GetValue(all));
}
