using WsCore.Monitor;
using Wsctl.Cli;

namespace WsCore.Tests.Monitor;

/// <summary>Decoding against ELF files built by real compilers, with binutils' addr2line as the oracle.</summary>
public class ElfSymbolizerTests
{
    private static string Location(DecodedAddress decoded) => $"{Path.GetFileName(decoded.File)}:{decoded.Line}";

    [ElfFact]
    public void Riscv_EveryAddressOfEachFunction_AsAddr2LineSaysIt()
    {
        var elf = TestElf.Riscv;
        var symbolizer = ElfSymbolizer.Load(elf.Path);
        Assert.Null(symbolizer.LineInfoNote);
        foreach (var function in new[] { "store_through", "app_main", "_start" })
        {
            var start = elf.Symbols[function];
            for (var address = start; address < start + 8; address += 2)
            {
                var decoded = symbolizer.Decode(address);
                Assert.NotNull(decoded);
                var (oracleFunction, oracleLocation) = elf.Oracle(address);
                Assert.Equal(oracleFunction, decoded.Function);
                Assert.Equal(oracleLocation, Location(decoded));
                Assert.Equal(Path.Combine(TestElf.SourceDir, "app.c"), decoded.File);
            }
        }
        // The store through the pointer is line 7 of the source.
        Assert.Contains(Enumerable.Range(0, 16).Select(i => symbolizer.Decode(elf.Symbols["store_through"] + (ulong)i)),
            d => d?.Line == 7);
    }

    [ElfFact]
    public void Riscv_AddressesOutsideTheCode_Null()
    {
        var elf = TestElf.Riscv;
        var symbolizer = ElfSymbolizer.Load(elf.Path);
        Assert.Null(symbolizer.Decode(0));
        Assert.Null(symbolizer.Decode(0x3fc93a40));   // a stack address
        Assert.Null(symbolizer.Decode(elf.Symbols["store_through"] - 0x40)); // before .text
        Assert.Null(symbolizer.Decode(0x4037f2c6));   // IRAM code of a real C3 app, not in this ELF
    }

    [ElfFact(TestElf.HostCompiler)]
    public void HostDwarf4_LinesRead()
    {
        var elf = TestElf.HostDwarf4;
        var symbolizer = ElfSymbolizer.Load(elf.Path);
        var decoded = symbolizer.Decode(elf.Symbols["app_main"])!;
        Assert.Equal("app_main", decoded.Function);
        Assert.Equal(elf.Oracle(elf.Symbols["app_main"]).Location, Location(decoded));
    }

    [ElfFact(TestElf.HostCompiler)]
    public void HostDwarf5_LineTableUnreadable_FunctionAloneAndANoteSayingWhy()
    {
        var elf = TestElf.HostDwarf5;
        var symbolizer = ElfSymbolizer.Load(elf.Path);
        Assert.Equal(
            new DecodedAddress(elf.Symbols["app_main"] + 1, "app_main", null, null),
            symbolizer.Decode(elf.Symbols["app_main"] + 1));
        Assert.Contains("DWARF 5", symbolizer.LineInfoNote);
        Assert.Contains("-gdwarf-4", symbolizer.LineInfoNote);
    }

    [ElfFact]
    public void Stripped_NoLineTable_FunctionsStillNamed()
    {
        var elf = TestElf.Riscv;
        var copy = Path.Combine(TestElf.SourceDir, "stripped.elf");
        File.Copy(elf.Path, copy, overwrite: true);
        RunTool("/usr/bin/riscv64-unknown-elf-strip", "--strip-debug", copy);
        var symbolizer = ElfSymbolizer.Load(copy);
        Assert.False(symbolizer.HasLineInfo);
        Assert.Contains(".debug_line", symbolizer.LineInfoNote);
        Assert.Equal("store_through", symbolizer.Decode(elf.Symbols["store_through"] + 2)?.Function);
    }

    [Fact]
    public void NotAnElf_InvalidInputSayingSo()
    {
        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllBytes(path, [0xE9, 0x03, 0x02, 0x20, 0, 0, 0, 0]);
            var error = Assert.Throws<WsCoreException>(() => ElfSymbolizer.Load(path));
            Assert.Equal(FailureKind.InvalidInput, error.Kind);
            Assert.Equal($"{path}: not an ELF file", error.Message);
            var truncated = Assert.Throws<WsCoreException>(() => ElfSymbolizer.Load(
                [0x7F, (byte)'E', (byte)'L', (byte)'F', 1, 1, 1, 0, 0, 0], "cut.elf"));
            Assert.StartsWith("cut.elf: cannot read this ELF file", truncated.Message);
            Assert.Equal(
                FailureKind.InvalidInput,
                Assert.Throws<WsCoreException>(() => ElfSymbolizer.Load("/nonexistent/app.elf")).Kind);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Locator_ProjectDescription_ThenFlasherArgs_ThenTheOnlyElf()
    {
        var dir = Directory.CreateTempSubdirectory("wsctl-build-").FullName;
        try
        {
            Assert.Contains(
                "no app ELF found", Assert.Throws<WsCoreException>(() => FirmwareElfLocator.Find(dir)).Message);
            File.WriteAllText(Path.Combine(dir, "other.elf"), "");
            Assert.Equal(Path.Combine(dir, "other.elf"), FirmwareElfLocator.Find(dir));
            File.WriteAllText(Path.Combine(dir, "esp32ws.elf"), "");
            Assert.Contains(
                "several ELF files", Assert.Throws<WsCoreException>(() => FirmwareElfLocator.Find(dir)).Message);
            File.WriteAllText(
                Path.Combine(dir, "flasher_args.json"), """{"app": {"offset": "0x10000", "file": "esp32ws.bin"}}""");
            Assert.Equal(Path.Combine(dir, "esp32ws.elf"), FirmwareElfLocator.Find(dir));
            File.WriteAllText(
                Path.Combine(dir, "project_description.json"), """{"app_elf": "other.elf", "app_bin": "other.bin"}""");
            Assert.Equal(Path.Combine(dir, "other.elf"), FirmwareElfLocator.Find(dir));
            Assert.Equal(
                FailureKind.InvalidInput,
                Assert.Throws<WsCoreException>(() => FirmwareElfLocator.Find(Path.Combine(dir, "missing"))).Kind);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static void RunTool(string program, params string[] args)
    {
        using var process = System.Diagnostics.Process.Start(program, args);
        Assert.True(process.WaitForExit(30_000));
        Assert.Equal(0, process.ExitCode);
    }
}
