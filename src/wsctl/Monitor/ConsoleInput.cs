using System.Text;
using WsCore.Monitor;

namespace Wsctl.Monitor;

/// <summary>What the Ctrl-T menu does besides talking to the monitor: the renderer's switch, a note line.</summary>
public sealed record MenuActions(Func<bool> ToggleTimestamps, Action<string> Note);

/// <summary>
/// Feeds the user's input to a <see cref="SerialMonitor"/> on a background thread. From a terminal: each key as it
/// is typed (Enter as CR LF, as idf.py monitor sends it; arrows as VT100 sequences), Ctrl-] ends the session, and
/// Ctrl-T starts a command as in idf.py monitor's menu (<see cref="MenuHelp"/>). From a pipe or file: each line, with
/// CR LF. The end of piped input ends nothing: the console is still watched.
/// </summary>
public static class ConsoleInput
{
    /// <summary>The key that ends a session, as in idf.py monitor and telnet: Ctrl-] (GS, 0x1D).</summary>
    public const char ExitKey = '\x1d';

    /// <summary>The key that starts a menu command, as in idf.py monitor: Ctrl-T (DC4, 0x14).</summary>
    public const char MenuKey = '\x14';

    /// <summary>The menu's commands, as Ctrl-T H shows them.</summary>
    public const string MenuHelp = "Ctrl-T then: R reset the board into its app, I timestamps on/off, X exit, " +
        "Ctrl-T send Ctrl-T itself, H this help; Ctrl-] exits";

    /// <summary>Starts forwarding stdin to <paramref name="monitor"/>.</summary>
    public static void Start(SerialMonitor monitor, MenuActions menu)
    {
        var thread = new Thread(Console.IsInputRedirected ? () => PumpLines(monitor) : () => PumpKeys(monitor, menu))
        {
            // A thread blocked in a read must not keep the process alive once the session is over.
            IsBackground = true,
            Name = "monitor stdin",
        };
        thread.Start();
    }

    private static void PumpLines(SerialMonitor monitor)
    {
        try
        {
            while (Console.In.ReadLine() is { } line)
                monitor.Send(Encoding.UTF8.GetBytes(line + "\r\n"));
        }
        catch (IOException)
        {
            // stdin went away (a closed pipe): nothing more to send.
        }
    }

    private static void PumpKeys(SerialMonitor monitor, MenuActions menu)
    {
        try
        {
            var inMenu = false;
            while (true)
            {
                var key = Console.ReadKey(intercept: true);
                if (IsExitKey(key))
                {
                    monitor.Stop();
                    return;
                }
                if (inMenu)
                {
                    inMenu = false;
                    if (RunMenuCommand(key, monitor, menu) is { } typed)
                        monitor.Send(typed);
                    continue;
                }
                if (IsMenuKey(key))
                {
                    inMenu = true;
                    continue;
                }
                if (BytesFor(key) is { Length: > 0 } bytes)
                    monitor.Send(bytes);
            }
        }
        catch (Exception e) when (e is IOException or InvalidOperationException)
        {
            // No usable terminal after all: the console is still shown, only nothing can be typed.
        }
    }

    /// <summary>
    /// Whether <paramref name="key"/> is Ctrl-]. .NET reads the byte 0x1D from a terminal as Ctrl+5 with no key char
    /// (terminals send the same byte for both), other consoles report it as Ctrl+Oem6 or as the character itself.
    /// </summary>
    public static bool IsExitKey(ConsoleKeyInfo key) =>
        key.KeyChar == ExitKey
        || key.Modifiers.HasFlag(ConsoleModifiers.Control)
            && (key.Key == ConsoleKey.Oem6 || key.Key == ConsoleKey.D5 && key.KeyChar == '\0');

    /// <summary>Whether <paramref name="key"/> is Ctrl-T.</summary>
    public static bool IsMenuKey(ConsoleKeyInfo key) =>
        key.KeyChar == MenuKey || key.Modifiers.HasFlag(ConsoleModifiers.Control) && key.Key == ConsoleKey.T;

    /// <summary>
    /// Carries out the menu command <paramref name="key"/> (the key after Ctrl-T, with or without Ctrl, as idf.py
    /// takes both); returns bytes to send to the device instead (Ctrl-T Ctrl-T sends Ctrl-T), or null.
    /// </summary>
    public static byte[]? RunMenuCommand(ConsoleKeyInfo key, SerialMonitor monitor, MenuActions menu)
    {
        if (IsMenuKey(key))
            return [(byte)MenuKey];
        switch (key.Key)
        {
            case ConsoleKey.R:
                menu.Note(monitor.RequestReset()
                    ? "resetting the board into its app"
                    : "this port has no DTR/RTS lines to reset the board with");
                break;
            case ConsoleKey.I:
                menu.Note(menu.ToggleTimestamps() ? "timestamps on" : "timestamps off");
                break;
            case ConsoleKey.X:
                monitor.Stop();
                break;
            default:
                menu.Note(MenuHelp);
                break;
        }
        return null;
    }

    /// <summary>What the device receives for a key.</summary>
    public static byte[] BytesFor(ConsoleKeyInfo key) => key.Key switch
    {
        // Ctrl+2..7 with no key char: the control bytes 0x00 and 0x1C-0x1F as .NET reports them from a terminal.
        ConsoleKey.D2 when key.KeyChar == '\0' && key.Modifiers.HasFlag(ConsoleModifiers.Control) => [0x00],
        >= ConsoleKey.D4 and <= ConsoleKey.D7 when key.KeyChar == '\0'
            && key.Modifiers.HasFlag(ConsoleModifiers.Control) =>
            [(byte)(0x1C + (key.Key - ConsoleKey.D4))],
        ConsoleKey.Delete => "\x1b[3~"u8.ToArray(),
        ConsoleKey.Enter => "\r\n"u8.ToArray(),
        ConsoleKey.UpArrow => "\x1b[A"u8.ToArray(),
        ConsoleKey.DownArrow => "\x1b[B"u8.ToArray(),
        ConsoleKey.RightArrow => "\x1b[C"u8.ToArray(),
        ConsoleKey.LeftArrow => "\x1b[D"u8.ToArray(),
        ConsoleKey.Backspace => [0x7F],
        _ => key.KeyChar == '\0' ? [] : Encoding.UTF8.GetBytes(key.KeyChar.ToString()),
    };
}
