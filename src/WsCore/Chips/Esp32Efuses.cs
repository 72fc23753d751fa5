namespace WsCore.Chips;

/// <summary>
/// The ESP32's eFuses (esptool <c>targets/esp32.py</c>): block 0's words at 0x3FF5A000 hold the MAC (words 1-2), the
/// package and features (word 3), the revision (words 3 and 5, with a third bit in APB_CTL_DATE), the coding scheme
/// (word 6), and what secure boot and flash encryption need; the crystal is estimated from the UART's divider.
/// </summary>
public sealed class Esp32Efuses : EfuseLayout
{
    /// <summary>EFUSE_BLK0_RDATA0: word n of block 0 is at this + 4n.</summary>
    public const uint Block0 = 0x3FF5A000;

    /// <summary>APB_CTL_DATE: its bit 31 is the third bit of the major revision.</summary>
    public const uint ApbCtlDate = 0x3FF6607C;

    /// <summary>UART0's clock divider: the ROM set it from the line's rate; it gives the APB (crystal) clock.</summary>
    public const uint UartClockDivider = 0x3FF40014;

    [System.Diagnostics.CodeAnalysis.SetsRequiredMembers]
    public Esp32Efuses() => MacLow = Word(1);

    private static uint Word(int n) => Block0 + (uint)(4 * n);

    protected override ChipFacts Decode(Func<uint, uint> register, int baudRate)
    {
        var word3 = register(Word(3));
        var word5 = register(Word(5));
        // Three revision bits in three places, mapped as esptool's get_major_chip_version maps them.
        var combined = ((register(ApbCtlDate) >> 31) << 2) | (((word5 >> 20) & 1) << 1) | ((word3 >> 15) & 1);
        uint major = combined switch { 1 => 1, 3 => 2, 7 => 3, _ => 0 };
        var minor = (word5 >> 24) & 0x3;
        var package = ((word3 >> 9) & 0x7) + (((word3 >> 2) & 0x1) << 3);
        var singleCore = (word3 & 1) != 0;
        var rev3 = major == 3;
        var description = package switch
        {
            0 => singleCore ? "ESP32-S0WDQ6" : rev3 ? "ESP32-D0WDQ6-V3" : "ESP32-D0WDQ6",
            1 => singleCore ? "ESP32-S0WD" : rev3 ? "ESP32-D0WD-V3" : "ESP32-D0WD",
            2 => "ESP32-D2WD",
            4 => "ESP32-U4WDH",
            5 => rev3 ? "ESP32-PICO-V3" : "ESP32-PICO-D4",
            6 => "ESP32-PICO-V3-02",
            7 => "ESP32-D0WDR2-V3",
            _ => "Unknown ESP32",
        };
        var features = new List<string> { "Wi-Fi" };
        if ((word3 & (1 << 1)) == 0)
            features.Add("BT");
        features.Add(singleCore ? "Single Core" : "Dual Core");
        if ((word3 & (1 << 13)) != 0)
            features.Add((word3 & (1 << 12)) != 0 ? "160MHz" : "240MHz");
        if (package is 2 or 4 or 5 or 6)
            features.Add("Embedded Flash");
        if (package == 6)
            features.Add("Embedded PSRAM");
        if (((register(Word(4)) >> 8) & 0x1F) != 0)
            features.Add("Vref calibration in eFuse");
        if (((word3 >> 14) & 1) != 0)
            features.Add("BLK3 partially reserved");
        features.Add("Coding Scheme " + (register(Word(6)) & 0x3) switch
        {
            0 => "None",
            1 => "3/4",
            2 => "Repeat (UNSUPPORTED)",
            _ => "None (may contain encoding data)",
        });
        // FLASH_CRYPT_CNT is word 0's bits 20-26; ABS_DONE_0 (secure boot v1) is word 6's bit 4, and from
        // revision 3 on ABS_DONE_1 (secure boot v2) its bit 5 (esptool get_secure_boot_enabled).
        var cryptCount = (register(Word(0)) >> 20) & 0x7F;
        var absDone = register(Word(6));
        var security = new EfuseSecurity(
            SecureBoot: (absDone & (1 << 4)) != 0 || (major >= 3 && (absDone & (1 << 5)) != 0),
            FlashEncryption: (System.Numerics.BitOperations.PopCount(cryptCount) & 1) != 0);
        return new ChipFacts(description, major, minor, features, ReadMac(register),
            EstimateCrystal(register(UartClockDivider) & 0xFFFFF, baudRate), security);
    }

    /// <summary>
    /// The crystal from the UART's divider: the ROM derived it from the host's rate, so rate × divider is the APB
    /// clock, which on the ESP32 is the crystal; rounded to the crystals that exist (esptool get_crystal_freq).
    /// </summary>
    public static int EstimateCrystal(uint divider, int baudRate)
    {
        var mhz = baudRate * (double)divider / 1e6;
        return mhz > 45 ? 48 : mhz > 33 ? 40 : 26;
    }
}
