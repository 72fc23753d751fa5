using System.Diagnostics;
using System.Globalization;
using Wsctl.Cli;

namespace WsCore.Tests.Monitor;

/// <summary>
/// Small firmware-like ELF files built at test time from <see cref="Source"/> with the installed compilers, so their
/// symbols and line tables are real compiler output: a 32-bit RISC-V one (Debian's riscv64-unknown-elf-gcc with
/// ESP32-C3's -march=rv32imc -mabi=ilp32, text at 0x42000020 as in the C3's flash-mapped code) and host x86-64 ones
/// (text at 0x400d0000, where an ESP32's flash code sits). Built once per test run into a temporary directory.
/// The call chain is _start → app_main → store_through, which writes through a null pointer.
/// </summary>
public sealed class TestElf
{
    public const string RiscvCompiler = "/usr/bin/riscv64-unknown-elf-gcc";
    public const string HostCompiler = "/usr/bin/gcc";

    /// <summary>The program. Line numbers matter: tests name them (store_through's store is line 7).</summary>
    public const string Source = """
        volatile int sink;
        int *volatile target;

        __attribute__((noinline)) void store_through(int *where)
        {
            sink = 1;
            *where = 42;
        }

        __attribute__((noinline)) void app_main(void)
        {
            sink = 2;
            store_through(target);
            sink = 3;
        }

        void _start(void)
        {
            app_main();
            for (;;) {
            }
        }
        """;

    private static readonly Lazy<string> Dir = new(() =>
    {
        var dir = Directory.CreateTempSubdirectory("wsctl-elf-").FullName;
        File.WriteAllText(System.IO.Path.Combine(dir, "app.c"), Source + "\n");
        return dir;
    });

    private static readonly Lazy<TestElf> RiscvElf = new(() => Build(RiscvCompiler, "riscv.elf",
        ["-march=rv32imc", "-mabi=ilp32", "-g", "-gdwarf-4", "-O1", "-nostdlib", "-ffreestanding",
            "-Wl,-Ttext=0x42000020", "-Wl,--build-id=none"],
        "/usr/bin/riscv64-unknown-elf-addr2line", "/usr/bin/riscv64-unknown-elf-nm"));

    private static readonly Lazy<TestElf> HostDwarf4Elf = new(() => Build(
        HostCompiler, "host-dwarf4.elf", HostFlags("-gdwarf-4"), "/usr/bin/addr2line", "/usr/bin/nm"));

    private static readonly Lazy<TestElf> HostDwarf5Elf = new(() => Build(
        HostCompiler, "host-dwarf5.elf", HostFlags("-gdwarf-5"), "/usr/bin/addr2line", "/usr/bin/nm"));

    private TestElf(string path, IReadOnlyDictionary<string, ulong> symbols, string addr2line)
    {
        Path = path;
        Symbols = symbols;
        Addr2Line = addr2line;
    }

    /// <summary>The ELF file.</summary>
    public string Path { get; }

    /// <summary>The function symbols and their addresses, as nm lists them.</summary>
    public IReadOnlyDictionary<string, ulong> Symbols { get; }

    /// <summary>The binutils addr2line for this ELF's architecture: the oracle for file:line.</summary>
    public string Addr2Line { get; }

    /// <summary>The directory app.c is in (the line table's directory).</summary>
    public static string SourceDir => Dir.Value;

    public static TestElf Riscv => RiscvElf.Value;
    public static TestElf HostDwarf4 => HostDwarf4Elf.Value;
    public static TestElf HostDwarf5 => HostDwarf5Elf.Value;

    /// <summary>
    /// What addr2line says of <paramref name="address"/>: (function, "app.c:LINE", the file's name only).
    /// </summary>
    public (string Function, string Location) Oracle(ulong address)
    {
        var lines = Run(
            Addr2Line, ["-f", "-e", Path, $"0x{address:x}"]).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        // "app.c:7 (discriminator 1)" → "app.c:7"
        return (lines[0].Trim(), System.IO.Path.GetFileName(lines[1].Split(' ')[0].Trim()));
    }

    private static string[] HostFlags(string dwarf) =>
        ["-g", dwarf, "-O1", "-nostdlib", "-static", "-no-pie", "-ffreestanding", "-fno-asynchronous-unwind-tables",
            "-Wl,-Ttext=0x400d0000", "-Wl,--build-id=none"];

    private static TestElf Build(string compiler, string name, string[] flags, string addr2line, string nm)
    {
        var output = System.IO.Path.Combine(Dir.Value, name);
        Run(compiler, [.. flags, "-o", output, System.IO.Path.Combine(Dir.Value, "app.c")]);
        var symbols = new Dictionary<string, ulong>();
        foreach (var line in Run(nm, [output]).Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length == 3 && parts[1] is "T" or "t")
                symbols[parts[2]] = ulong.Parse(parts[0], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        }
        return new TestElf(output, symbols, addr2line);
    }

    private static string Run(string program, string[] args)
    {
        var info = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
            info.ArgumentList.Add(arg);
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(60_000))
        {
            process.Kill();
            throw new TimeoutException($"{program} did not finish");
        }
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{program} {string.Join(' ', args)} failed: {stderr.Result}");
        return stdout.Result;
    }
}

/// <summary>A [Fact] that needs a compiler to build its test ELF; skipped, saying which, where it is missing.</summary>
public sealed class ElfFactAttribute : FactAttribute
{
    public ElfFactAttribute(string compiler = TestElf.RiscvCompiler)
    {
        if (!File.Exists(compiler))
            Skip = $"needs {compiler} to build the test ELF (scripts/prereqs.sh installs " +
                $"{(compiler == TestElf.RiscvCompiler ? "gcc-riscv64-unknown-elf" : "gcc")})";
    }
}
