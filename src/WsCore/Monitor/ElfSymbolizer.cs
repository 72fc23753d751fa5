using System.Buffers.Binary;
using LibObjectFile.Dwarf;
using LibObjectFile.Elf;

namespace WsCore.Monitor;

/// <summary>A code address and where it is in the firmware's source.</summary>
/// <param name="Address">The address as the device printed it.</param>
/// <param name="Function">The function (ELF symbol) that holds it, or null when no symbol covers it.</param>
/// <param name="File">The source file from the DWARF line table, or null without line information.</param>
/// <param name="Line">The line in <paramref name="File"/>, or null.</param>
public sealed record DecodedAddress(ulong Address, string? Function, string? File, int? Line);

/// <summary>Turns code addresses into functions and source lines.</summary>
public interface IAddressDecoder
{
    /// <summary>Where <paramref name="address"/> is, or null when it is not in the firmware's code.</summary>
    DecodedAddress? Decode(ulong address);
}

/// <summary>
/// Decodes addresses with an ELF file (the firmware's app ELF, Xtensa or RISC-V): only addresses inside its
/// executable sections are code; the function comes from the symbol table, the file and line from the DWARF
/// <c>.debug_line</c> table (read with LibObjectFile). LibObjectFile reads line tables of DWARF versions 2 to 4
/// (ESP-IDF compiles with <c>-gdwarf-4</c>); a unit in another version is skipped, and its addresses get the function
/// alone.
/// </summary>
/// <remarks>Immutable once loaded: safe to use from several threads.</remarks>
public sealed class ElfSymbolizer : IAddressDecoder
{
    private readonly (ulong Start, ulong End)[] _code;
    private readonly ulong[] _symbolStarts;
    private readonly (ulong Size, string Name)[] _symbols;
    private readonly ulong[] _rowStarts;
    private readonly (ulong End, int File, int Line)[] _rows;
    private readonly string[] _files;

    private ElfSymbolizer((ulong, ulong)[] code, List<(ulong Start, ulong Size, string Name)> symbols,
        List<(ulong Start, ulong End, int File, int Line)> rows, string[] files, string? lineInfoNote)
    {
        _code = code;
        symbols.Sort((a, b) => a.Start.CompareTo(b.Start));
        _symbolStarts = symbols.Select(s => s.Start).ToArray();
        _symbols = symbols.Select(s => (s.Size, s.Name)).ToArray();
        rows.Sort((a, b) => a.Start.CompareTo(b.Start));
        _rowStarts = rows.Select(r => r.Start).ToArray();
        _rows = rows.Select(r => (r.End, r.File, r.Line)).ToArray();
        _files = files;
        LineInfoNote = lineInfoNote;
    }

    /// <summary>Why some or all addresses will have no file:line (no DWARF, unsupported units), or null.</summary>
    public string? LineInfoNote { get; }

    /// <summary>How many function symbols were read.</summary>
    public int SymbolCount => _symbols.Length;

    /// <summary>Whether any line information was read.</summary>
    public bool HasLineInfo => _rows.Length > 0;

    /// <summary>Reads <paramref name="path"/>.</summary>
    /// <exception cref="WsCoreException">InvalidInput when the file cannot be read or is not an ELF file with
    /// code.</exception>
    public static ElfSymbolizer Load(string path)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new WsCoreException(
                FailureKind.InvalidInput, $"{path}: cannot read it: {FileProblem.Describe(path, e)}", null, e);
        }
        return Load(bytes, path);
    }

    /// <summary>Reads an ELF image held in memory; <paramref name="name"/> names it in messages.</summary>
    /// <exception cref="WsCoreException">InvalidInput when it is not an ELF file with code.</exception>
    public static ElfSymbolizer Load(byte[] bytes, string name)
    {
        if (bytes.Length < 4 || bytes[0] != 0x7F || bytes[1] != (byte)'E' || bytes[2] != (byte)'L'
            || bytes[3] != (byte)'F')
            throw new WsCoreException(FailureKind.InvalidInput, $"{name}: not an ELF file",
                "give the app's ELF from the build directory (build/PROJECT.elf), not the .bin");
        ElfFile elf;
        try
        {
            if (!ElfFile.TryRead(new MemoryStream(bytes, writable: false), out var read, out var diagnostics))
                throw new WsCoreException(FailureKind.InvalidInput,
                    $"{name}: cannot read this ELF file " +
                        $"({(diagnostics.Messages.Count > 0 ? diagnostics.Messages[0].Message : "malformed")})");
            elf = read;
        }
        catch (Exception e) when (e is not WsCoreException and not OutOfMemoryException)
        {
            // LibObjectFile throws its own and the runtime's exceptions on malformed input; to the user it is one case.
            throw new WsCoreException(
                FailureKind.InvalidInput, $"{name}: cannot read this ELF file ({e.Message})", null, e);
        }

        var code = elf.Sections
            .Where(s => (s.Flags & (ElfSectionFlags.Alloc | ElfSectionFlags.Executable))
                == (ElfSectionFlags.Alloc | ElfSectionFlags.Executable) && s.Size > 0)
            .Select(s => (s.VirtualAddress, s.VirtualAddress + s.Size))
            .ToArray();
        if (code.Length == 0)
            throw new WsCoreException(FailureKind.InvalidInput, $"{name}: the ELF file has no code sections");

        var symbols = new List<(ulong Start, ulong Size, string Name)>();
        foreach (var table in elf.Sections.OfType<ElfSymbolTable>())
        {
            foreach (var symbol in table.Entries)
            {
                var symbolName = symbol.Name.Value;
                // Mapping symbols ($x, $d) and local labels (.L…) name no function.
                if (string.IsNullOrEmpty(symbolName) || symbolName[0] is '$' or '.')
                    continue;
                if ((symbol.Type == ElfSymbolType.Function || symbol.Type == ElfSymbolType.NoType)
                    && InCode(code, symbol.Value))
                    symbols.Add((symbol.Value, symbol.Size, symbolName));
            }
        }
        // Functions before untyped labels at the same address, so lookups find the function.
        symbols = [.. symbols.GroupBy(s => s.Start).Select(g => g.OrderByDescending(s => s.Size).First())];

        var rows = new List<(ulong, ulong, int, int)>();
        var files = new List<string>();
        var note = ReadLineTable(elf, rows, files);
        return new ElfSymbolizer(code, symbols, rows, [.. files], note);
    }

    public DecodedAddress? Decode(ulong address)
    {
        if (!InCode(_code, address))
            return null;
        string? function = null;
        var s = LastAtOrBelow(_symbolStarts, address);
        if (s >= 0 && (_symbols[s].Size == 0 || address < _symbolStarts[s] + _symbols[s].Size))
            function = _symbols[s].Name;
        var r = LastAtOrBelow(_rowStarts, address);
        if (r >= 0 && address < _rows[r].End && _rows[r].Line > 0)
            return new DecodedAddress(address, function, _files[_rows[r].File], _rows[r].Line);
        return new DecodedAddress(address, function, null, null);
    }

    private static bool InCode((ulong Start, ulong End)[] code, ulong address)
    {
        foreach (var (start, end) in code)
            if (address >= start && address < end)
                return true;
        return false;
    }

    private static int LastAtOrBelow(ulong[] sorted, ulong value)
    {
        var i = Array.BinarySearch(sorted, value);
        if (i >= 0)
        {
            while (i + 1 < sorted.Length && sorted[i + 1] == value)
                i++;
            return i;
        }
        return ~i - 1;
    }

    /// <summary>
    /// Reads <c>.debug_line</c> one unit at a time (each starts with its length and version), so that a unit
    /// LibObjectFile cannot read (DWARF 5) costs only its own lines. Returns a note when lines are missing.
    /// </summary>
    private static string? ReadLineTable(ElfFile elf, List<(ulong, ulong, int, int)> rows, List<string> files)
    {
        var section = elf.Sections.OfType<ElfStreamSection>().FirstOrDefault(s => s.Name.Value == ".debug_line");
        if (section is null)
            return "the ELF file has no line information (.debug_line): functions only (build with debug info, as " +
                "ESP-IDF does by default)";
        var data = new MemoryStream();
        section.Stream.Position = 0;
        section.Stream.CopyTo(data);
        var bytes = data.GetBuffer().AsSpan(0, (int)data.Length).ToArray();
        var little = elf.Encoding != ElfEncoding.Msb;
        var fileIndex = new Dictionary<string, int>();
        int units = 0, skipped = 0;
        var skippedVersions = new SortedSet<int>();
        var offset = 0;
        while (offset + 6 <= bytes.Length)
        {
            var span = bytes.AsSpan(offset);
            ulong length = little
                ? BinaryPrimitives.ReadUInt32LittleEndian(span)
                : BinaryPrimitives.ReadUInt32BigEndian(span);
            var header = 4;
            if (length == 0xFFFF_FFFF && span.Length >= 14)
            {
                length = little
                    ? BinaryPrimitives.ReadUInt64LittleEndian(span[4..])
                    : BinaryPrimitives.ReadUInt64BigEndian(span[4..]);
                header = 12;
            }
            if (length == 0 || length > (ulong)(bytes.Length - offset - header))
                break;
            var unitLength = header + (int)length;
            var version = little
                ? BinaryPrimitives.ReadUInt16LittleEndian(span[header..])
                : BinaryPrimitives.ReadUInt16BigEndian(span[header..]);
            units++;
            if (version is >= 2 and <= 4)
            {
                if (!ReadUnit(bytes, offset, unitLength, little, elf.FileClass, rows, files, fileIndex))
                    skipped++;
            }
            else
            {
                skipped++;
                skippedVersions.Add(version);
            }
            offset += unitLength;
        }
        if (units == 0)
            return "the ELF file's .debug_line is empty: functions only";
        if (skipped == 0)
            return null;
        var versions = skippedVersions.Count > 0
            ? $" (DWARF {string.Join(", ", skippedVersions)}; the line reader takes versions 2-4, ESP-IDF builds " +
                "with -gdwarf-4)"
            : "";
        return $"{skipped} of {units} line-table units could not be read{versions}: their addresses show the " +
            "function only";
    }

    private static bool ReadUnit(byte[] bytes, int offset, int length, bool little, ElfFileClass fileClass,
        List<(ulong, ulong, int, int)> rows, List<string> files, Dictionary<string, int> fileIndex)
    {
        DwarfFile dwarf;
        try
        {
            dwarf = DwarfFile.Read(new DwarfReaderContext
            {
                IsLittleEndian = little,
                AddressSize = fileClass == ElfFileClass.Is64 ? DwarfAddressSize.Bit64 : DwarfAddressSize.Bit32,
                DebugLineStream = new MemoryStream(bytes, offset, length, writable: false),
                IsInputReadOnly = true,
            });
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // A unit LibObjectFile rejects (an opcode or form it does not know): skip it, keep the others.
            return false;
        }
        foreach (var table in dwarf.LineSection.LineTables)
        {
            foreach (var sequence in table.LineSequences)
            {
                var lines = sequence.Lines;
                // The last row of a sequence is its end (DW_LNE_end_sequence): the first address after it.
                for (var i = 0; i + 1 < lines.Count; i++)
                {
                    var row = lines[i];
                    var end = lines[i + 1].Address;
                    if (end <= row.Address || row.File is null)
                        continue;
                    var path = row.File.Directory is { Length: > 0 } dir && !row.File.Name.StartsWith('/')
                        ? $"{dir.TrimEnd('/')}/{row.File.Name}"
                        : row.File.Name;
                    if (!fileIndex.TryGetValue(path, out var index))
                    {
                        index = files.Count;
                        files.Add(path);
                        fileIndex[path] = index;
                    }
                    rows.Add((row.Address, end, index, (int)row.Line));
                }
            }
        }
        return true;
    }
}
