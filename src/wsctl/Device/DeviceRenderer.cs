using System.Text.Json;
using WsCore.Esp;
using WsCore.Flashing;
using Wsctl.Cli;

namespace Wsctl.Device;

/// <summary>
/// The results of <c>device info</c>, <c>partitions</c> and <c>ports</c>: aligned text for people, one result object
/// for wrappers (<see cref="JsonLines"/>; schemas/device.schema.json).
/// </summary>
public static class DeviceRenderer
{
    public static void WriteInfoText(DeviceInfo info, TextWriter text)
    {
        var facts = info.Facts;
        text.WriteLine($"Chip:      {info.Chip.Name} ({facts.Description}, revision {facts.Revision})");
        text.WriteLine($"Features:  {string.Join(", ", facts.Features)}");
        text.WriteLine($"Crystal:   {facts.CrystalMhz} MHz");
        text.WriteLine($"MAC:       {facts.MacText}");
        text.WriteLine($"Flash:     {info.FlashSize ?? "unknown size"} (JEDEC ID 0x{info.JedecId:X6}: manufacturer " +
            $"0x{info.JedecId & 0xFF:X2}, type 0x{(info.JedecId >> 8) & 0xFF:X2}, capacity " +
            $"0x{(info.JedecId >> 16) & 0xFF:X2})");
        var security = $"secure boot {OnOff(info.SecureBoot)}, flash encryption {OnOff(info.FlashEncryption)}";
        if (info.Security is { } rom)
        {
            security += $" (from the ROM; flags 0x{rom.Flags:X8}";
            security += rom.SetFlags.Count > 0 ? $": {string.Join(", ", rom.SetFlags)})" : ")";
        }
        else
            security += " (from the eFuses)";
        text.WriteLine($"Security:  {security}");
    }

    public static void WriteInfoJson(DeviceInfo info, Stream stdout)
    {
        var facts = info.Facts;
        new JsonLines(stdout).WriteResult(ExitCode.Ok, more: w =>
        {
            w.WriteString("chip", info.Chip.Name);
            w.WriteString("chip_id", info.Chip.Id);
            w.WriteString("description", facts.Description);
            w.WriteString("revision", facts.Revision);
            w.WriteStartArray("features");
            foreach (var feature in facts.Features)
                w.WriteStringValue(feature);
            w.WriteEndArray();
            w.WriteNumber("crystal_mhz", facts.CrystalMhz);
            w.WriteString("mac", facts.MacText);
            w.WriteString("flash_id", $"0x{info.JedecId:X6}");
            if (info.FlashSize is { } size)
                w.WriteString("flash_size", size);
            else
                w.WriteNull("flash_size");
            w.WriteStartObject("security");
            w.WriteString("source", info.Security is null ? "efuses" : "rom");
            w.WriteBoolean("secure_boot", info.SecureBoot);
            w.WriteBoolean("flash_encryption", info.FlashEncryption);
            if (info.Security is { } rom)
            {
                w.WriteNumber("flags", rom.Flags);
                w.WriteStartArray("flag_names");
                foreach (var flag in rom.SetFlags)
                    w.WriteStringValue(flag);
                w.WriteEndArray();
                w.WriteBoolean("secure_download", rom.SecureDownload);
            }
            w.WriteEndObject();
        });
    }

    public static void WritePartitionsText(PartitionTableImage table, string source, uint offset, TextWriter text)
    {
        if (table.Partitions.Count == 0)
        {
            text.WriteLine($"No partition table at 0x{offset:X} ({source}): the flash there holds no entry");
            return;
        }
        text.WriteLine($"{"label",-16} {"type",-6} {"subtype",-10} {"offset",-10} {"size",-10} {"bytes",10}  flags");
        foreach (var p in table.Partitions)
            text.WriteLine($"{p.Label,-16} {p.TypeName,-6} {p.SubtypeName,-10} 0x{p.Offset,-8:X} " +
                $"0x{p.Size,-8:X} {p.Size,10}  {p.FlagNames}");
        text.WriteLine(table.StoredMd5 is null
            ? $"Table at 0x{offset:X} ({source}): {table.Partitions.Count} partitions, no MD5 entry"
            : $"Table at 0x{offset:X} ({source}): {table.Partitions.Count} partitions, MD5 entry " +
                (table.Md5Matches ? "matches" : "does NOT match") + $" ({table.StoredMd5})");
    }

    public static void WritePartitionsJson(PartitionTableImage table, string source, uint offset, ExitCode exit,
        string? error, string? hint, Stream stdout)
    {
        new JsonLines(stdout).WriteResult(exit, error, hint, w =>
        {
            w.WriteString("source", source);
            w.WriteNumber("table_offset", offset);
            if (table.StoredMd5 is { } stored)
                w.WriteString("md5", stored);
            else
                w.WriteNull("md5");
            if (table.StoredMd5 is null)
                w.WriteNull("md5_ok");
            else
                w.WriteBoolean("md5_ok", table.Md5Matches);
            w.WriteStartArray("partitions");
            foreach (var p in table.Partitions)
            {
                w.WriteStartObject();
                w.WriteString("label", p.Label);
                w.WriteString("type", p.TypeName);
                w.WriteString("subtype", p.SubtypeName);
                w.WriteNumber("offset", p.Offset);
                w.WriteNumber("size", p.Size);
                w.WriteString("flags", p.FlagNames);
                w.WriteEndObject();
            }
            w.WriteEndArray();
        });
    }

    public static void WritePortsText(IReadOnlyList<SerialPortInfo> ports, string? auto, string reason,
        TextWriter text)
    {
        if (ports.Count == 0)
            text.WriteLine("No USB serial ports");
        else
        {
            text.WriteLine($"{"port",-16} {"vid:pid",-9}  {"esp32 adapter",-26} product");
            foreach (var p in ports)
                text.WriteLine($"{p.DevicePath,-16} {p.VendorId}:{p.ProductId}  {p.Kind ?? "-",-26} " +
                    string.Join(", ", new[] { p.Manufacturer, p.Product, p.SerialNumber is null ? null
                        : $"serial {p.SerialNumber}" }.Where(s => !string.IsNullOrEmpty(s))));
        }
        text.WriteLine(auto is null ? $"--port auto: none ({reason})" : $"--port auto: {auto} ({reason})");
    }

    public static void WritePortsJson(IReadOnlyList<SerialPortInfo> ports, string? auto, string reason,
        Stream stdout)
    {
        new JsonLines(stdout).WriteResult(ExitCode.Ok, more: w =>
        {
            w.WriteStartArray("ports");
            foreach (var p in ports)
            {
                w.WriteStartObject();
                w.WriteString("port", p.DevicePath);
                w.WriteString("vid", p.VendorId);
                w.WriteString("pid", p.ProductId);
                WriteOptional(w, "manufacturer", p.Manufacturer);
                WriteOptional(w, "product", p.Product);
                WriteOptional(w, "serial", p.SerialNumber);
                WriteOptional(w, "adapter", p.Kind);
                w.WriteBoolean("esp32_adapter", p.IsEsp32Adapter);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            WriteOptional(w, "auto", auto);
            w.WriteString("auto_reason", reason);
        });
    }

    private static void WriteOptional(Utf8JsonWriter w, string name, string? value)
    {
        if (value is null)
            w.WriteNull(name);
        else
            w.WriteString(name, value);
    }

    private static string OnOff(bool on) => on ? "on" : "off";
}
