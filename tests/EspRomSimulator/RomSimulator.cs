using System.Buffers.Binary;
using System.IO.Compression;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using WsCore.Chips;
using WsCore.Esp;

namespace EspRomSimulator;

/// <summary>
/// Faults the simulator can inject at the Nth data packet (FLASH_DATA or FLASH_DEFL_DATA, counted from 1).
/// </summary>
public enum RomFault
{
    /// <summary>Three bytes of the request are lost on the line: the ROM answers "invalid message".</summary>
    DropRequestBytes,
    /// <summary>The block is written but two bytes of the answer are lost on the line.</summary>
    DropResponseBytes,
    /// <summary>A bit of the block flips on the line: the ROM answers "bad checksum".</summary>
    CorruptChecksum,
    /// <summary>The block is written but the answer never comes.</summary>
    MissingResponse,
    /// <summary>The block is written but the answer has an invalid SLIP escape (DB 00).</summary>
    GarbledEscape,
    /// <summary>The chip resets: boot-log text, then it runs its app and never answers again.</summary>
    ResetMidWrite,
    /// <summary>
    /// From this packet on, every region written ends with one flipped byte in flash (a bad flash chip).
    /// </summary>
    CorruptFlashAlways,
}

/// <summary>
/// A simulated ESP32 ROM serial loader behind TCP (docs/esp32-rom-protocol.md §2-§4, §6, §7): SYNC answered 8 times
/// with value 0x20120707, 4 status bytes, exactly 16-byte FLASH_BEGIN/DEFL_BEGIN, 8-byte SPI_ATTACH, SPI_SET_PARAMS
/// required before writes, erase of whole 4 KiB sectors (a FLASH_BEGIN with no blocks erases as well), ROM MD5 as 32
/// lowercase hex characters, READ_FLASH_SLOW of at most 64 bytes answered with the whole 64-byte buffer (§12),
/// READ_REG 0x40001000 = 0x00F01D83, unknown commands answered status 1 / 0x05. Its SLIP code is its own, independent
/// of WsCore's.
/// </summary>
public sealed class RomSimulator : IDisposable
{
    public const int FlashSize = 4 * 1024 * 1024;
    // The ESP32 ROM's clock estimate from the calibration values this simulator answers (cali 1030, ck8m 100):
    // 1030 × 15625 × 100 / 40 Hz. esptool scales the rate it sends by it; the UART then runs at sent × 40 MHz / this.
    private const double Esp32RomClock = 1030 * 15625.0 * 100 / 40;
    // A UART receives a byte right while the two ends' rates differ by less than about 3% (half a bit over ten).
    private const double RateTolerance = 0.03;
    private readonly TcpListener? _listener;
    private readonly PtyLink? _pty;
    private readonly Thread _thread;
    private readonly object _gate = new();
    private readonly Dictionary<int, RomFault> _faults = [];
    private volatile bool _stopping;
    private Socket? _client;

    /// <param name="magic">The magic register's value (the chip, where <paramref name="chip"/> is not given).</param>
    /// <param name="chip">The chip whose ROM this one plays.</param>
    /// <param name="pty">
    /// Reached through a pty (<see cref="PtyLink"/>) instead of TCP: the host sets a baud rate on it, and the link
    /// model (<see cref="LinkLimit"/>, <see cref="PaceLink"/>) applies.
    /// </param>
    public RomSimulator(uint magic = 0x00F01D83, ChipDescriptor? chip = null, bool pty = false)
    {
        Chip = chip ?? KnownChips.ByMagic(magic) ?? KnownChips.Esp32;
        Magic = chip?.MagicValues[0] ?? magic;
        DeflateSpillWindow = Chip.DeflateSpillWindow;
        Flash.AsSpan().Fill(0xFF);
        if (pty)
        {
            _pty = new PtyLink();
            _thread = new Thread(PtyLoop) { IsBackground = true, Name = "rom-simulator" };
        }
        else
        {
            _listener = new TcpListener(IPAddress.Loopback, 0);
            _listener.Start();
            Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
            _thread = new Thread(AcceptLoop) { IsBackground = true, Name = "rom-simulator" };
        }
        _thread.Start();
    }

    /// <summary>The TCP port (0 on a pty).</summary>
    public int Port { get; }

    /// <summary>
    /// Host rates above this garble the line: one byte in <see cref="GarbleEvery"/> changes, both ways (a long cable,
    /// an adapter whose clock cannot make the rate). Null: every rate holds. Pty only.
    /// </summary>
    public int? LinkLimit { get; set; }

    /// <summary>Above <see cref="LinkLimit"/>, one byte in this many is changed on the line (1: all of them).</summary>
    public int GarbleEvery { get; set; } = 64;

    /// <summary>
    /// Whether bytes take the time they take on a real line: 10 bits each (8N1) at the rate in use, one way at a time.
    /// Pty only.
    /// </summary>
    public bool PaceLink { get; set; }

    /// <summary>The rate the chip's UART runs at: 115200 until a CHANGE_BAUDRATE.</summary>
    public int ChipBaud { get; private set; } = 115200;

    /// <summary>The chip's rate at each data packet (FLASH_DATA, FLASH_DEFL_DATA) it took.</summary>
    public List<int> DataPacketRates { get; } = [];

    /// <summary>Bytes sent to the host, SLIP framing included.</summary>
    public long BytesSent { get; private set; }

    /// <summary>
    /// Sends <paramref name="bytes"/> to the connected host as they are: what the board's new firmware prints after
    /// the hard reset that ends a flash (socket:// carries no reset for the simulator to see, so the test says when).
    /// </summary>
    public void SendToHost(byte[] bytes)
    {
        if (_pty is not null)
        {
            _pty.Write(bytes);
            return;
        }
        var client = Volatile.Read(ref _client) ?? throw new InvalidOperationException("no host is connected");
        client.Send(bytes);
    }

    /// <summary>What the host's --port names: socket://127.0.0.1:PORT, or the pty's /dev/pts/N.</summary>
    public string Url => _pty?.Path ?? $"socket://127.0.0.1:{Port}";
    public uint Magic { get; }
    /// <summary>
    /// The chip whose ROM this one plays: FLASH_BEGIN words, GET_SECURITY_INFO, spill, SPI registers.
    /// </summary>
    public ChipDescriptor Chip { get; }
    /// <summary>What the flash chip answers to RDID (0x9F): manufacturer, type, capacity (0x16: 4 MB).</summary>
    public uint JedecId { get; set; } = 0x164020;
    /// <summary>Registers written with WRITE_REG (address → value).</summary>
    public Dictionary<uint, uint> Registers { get; } = [];
    public byte[] Flash { get; } = new byte[FlashSize];
    /// <summary>Bytes received from the host, SLIP framing included.</summary>
    public long BytesReceived { get; private set; }
    /// <summary>Ops received, in order.</summary>
    public List<byte> Ops { get; } = [];
    /// <summary>Requests with their raw data (for asserting exact payloads).</summary>
    public List<(byte Op, byte[] Data)> Requests { get; } = [];
    /// <summary>
    /// When set, the next READ_FLASH_SLOW answer carries one flipped bit in its data: a byte changed on the line,
    /// which SLIP and the ROM's answer cannot show (the answer has no checksum).
    /// </summary>
    public bool CorruptNextRead { get; set; }
    /// <summary>READ_FLASH_SLOW commands answered with flash data.</summary>
    public int SlowReads { get; private set; }
    /// <summary>The baud rate value of the last CHANGE_BAUDRATE.</summary>
    public uint? RequestedBaud { get; private set; }
    /// <summary>
    /// How far a compressed write programs past its data, as the ESP32 mask ROM does: when the stream ends, the rest
    /// of its 32 KiB inflate window is programmed too, up to start + (⌊n / 32 KiB⌋ + 1) × 32 KiB (observed in
    /// Espressif's QEMU with the real ROM, for n a multiple of 32 KiB too). The ROM programs stale window bytes and
    /// programming only clears bits; the simulator programs zeros, which any check must catch the same. 0: no spill.
    /// </summary>
    public int DeflateSpillWindow { get; set; }

    /// <summary>When set, the SPI controller never finishes a user command (CMD keeps its USR bit set).</summary>
    public bool SpiUserCommandHangs { get; set; }

    /// <summary>When set, unsupported commands are answered with this op instead of the request's.</summary>
    public byte? UnsupportedReplyOp { get; set; }

    /// <summary>
    /// When set, the next reply is not sent and these bytes go instead (a line gone noisy, a hostile socket:// peer);
    /// the replies after it are sent as usual.
    /// </summary>
    public byte[]? ReplaceNextReply
    {
        get => Volatile.Read(ref _replaceNextReply);
        set => Volatile.Write(ref _replaceNextReply, value);
    }

    private byte[]? _replaceNextReply;

    /// <summary>
    /// When set, the answer to the READ_FLASH_SLOW with this number (counted from 1) is not sent, and these bytes go
    /// instead: a read's answer garbled on the line, at a point of the run fixed in advance.
    /// </summary>
    public (int Read, byte[] Bytes)? ReplaceSlowReadAnswer { get; set; }

    public void InjectFault(RomFault fault, int atDataPacket)
    {
        lock (_gate)
            _faults[atDataPacket] = fault;
    }

    /// <summary>Waits until the current client disconnects (the host is done), so Flash is stable.</summary>
    public void WaitIdle(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (Volatile.Read(ref _client) is not null && DateTime.UtcNow < deadline)
            Thread.Sleep(10);
    }

    public void Dispose()
    {
        _stopping = true;
        _listener?.Stop();
        _client?.Dispose();
        _thread.Join(TimeSpan.FromSeconds(5));
        _pty?.Dispose();
    }

    // One session for as long as the simulator lives: a chip keeps its state while the host closes and opens its port.
    private void PtyLoop()
    {
        var pty = _pty!;
        var session = new Session(this, buffer =>
        {
            while (!_stopping)
            {
                var n = pty.Read(buffer, 100);
                if (n > 0)
                    return LinkIn(buffer.AsSpan(0, n), pty.HostBaud);
            }
            return 0;
        }, bytes =>
        {
            LinkOut(bytes, pty.HostBaud);
            pty.Write(bytes);
        });
        try
        {
            session.Run();
        }
        catch (IOException) when (_stopping)
        {
        }
    }

    private long _wireFree;
    private long _lineBytes;

    // Bytes from the host, as the chip's UART gets them: after their time on the wire, garbled where the rates differ
    // or the link cannot hold the rate.
    private int LinkIn(Span<byte> bytes, int hostBaud)
    {
        Pace(bytes.Length, hostBaud);
        Garble(bytes, hostBaud);
        return bytes.Length;
    }

    private void LinkOut(byte[] bytes, int hostBaud)
    {
        Pace(bytes.Length, hostBaud);
        Garble(bytes, hostBaud);
    }

    private void Garble(Span<byte> bytes, int hostBaud)
    {
        if (Math.Abs(hostBaud - ChipBaud) > ChipBaud * RateTolerance)
        {
            // Sampled at the wrong rate: framing errors; a UART delivers them as zero bytes.
            bytes.Clear();
            return;
        }
        if (LinkLimit is not { } limit || hostBaud <= limit)
            return;
        for (var i = 0; i < bytes.Length; i++)
            if (++_lineBytes % GarbleEvery == 0)
                bytes[i] ^= 0x24;
    }

    private void Pace(int count, int baud)
    {
        if (!PaceLink || baud <= 0)
            return;
        var now = System.Diagnostics.Stopwatch.GetTimestamp();
        _wireFree = Math.Max(_wireFree, now) + (long)(count * 10.0 / baud * System.Diagnostics.Stopwatch.Frequency);
        var ahead = System.Diagnostics.Stopwatch.GetElapsedTime(now, _wireFree);
        if (ahead > TimeSpan.FromMilliseconds(1))
            Thread.Sleep(ahead);
    }

    // The rate the chip's UART takes from a CHANGE_BAUDRATE value.
    private int EffectiveBaud(uint sent) =>
        Chip.ScalesBaudRate ? (int)Math.Round(sent * 40e6 / Esp32RomClock) : (int)sent;

    private void AcceptLoop()
    {
        while (!_stopping)
        {
            Socket client;
            try
            {
                client = _listener!.AcceptSocket();
            }
            catch (Exception) when (_stopping)
            {
                return;
            }
            catch (SocketException)
            {
                return;
            }
            Volatile.Write(ref _client, client);
            try
            {
                new Session(this, buffer => client.Receive(buffer), bytes => client.Send(bytes)).Run();
            }
            catch (Exception e) when (e is SocketException or IOException or ObjectDisposedException)
            {
            }
            finally
            {
                client.Dispose();
                Volatile.Write(ref _client, null);
            }
        }
    }

    private sealed class Session(RomSimulator sim, Func<byte[], int> receive, Action<byte[]> send)
    {
        // A CHANGE_BAUDRATE's rate, taken after its answer has gone at the old one.
        private int? _nextRate;
        private bool _attached;
        private bool _paramsSet;
        private bool _silent;
        private bool _corruptFlash;
        private int _dataPackets;
        // Write state between FLASH_(DEFL_)BEGIN and the last block.
        private bool _deflate;
        private uint _offset;
        private uint _eraseSize;
        private uint _blockSize;
        private uint _blocks;
        private uint _blocksReceived;
        private int _written;
        private MemoryStream _compressed = new();
        // READ_FLASH_SLOW's buffer; stale bytes at first, as a ROM's RAM would hold.
        private readonly byte[] _readBuffer = [.. Enumerable.Range(0, 64).Select(i => (byte)(0xA5 ^ i))];

        public void Run()
        {
            var buffer = new byte[4096];
            var frame = new List<byte>();
            var inFrame = false;
            var escape = false;
            while (true)
            {
                var n = receive(buffer);
                if (n == 0)
                    return;
                sim.BytesReceived += n;
                for (var i = 0; i < n; i++)
                {
                    var b = buffer[i];
                    if (!inFrame)
                    {
                        inFrame = b == 0xC0;
                        continue;
                    }
                    if (escape)
                    {
                        escape = false;
                        frame.Add(b == 0xDC ? (byte)0xC0 : b == 0xDD ? (byte)0xDB : b);
                        continue;
                    }
                    if (b == 0xDB)
                        escape = true;
                    else if (b == 0xC0)
                    {
                        if (frame.Count == 0)
                            continue;
                        if (!_silent)
                            Handle(frame.ToArray());
                        frame.Clear();
                        inFrame = false;
                    }
                    else
                        frame.Add(b);
                }
            }
        }

        private void Handle(byte[] packet)
        {
            if (packet.Length < 8 || packet[0] != 0x00)
                return;
            var op = packet[1];
            var size = BinaryPrimitives.ReadUInt16LittleEndian(packet.AsSpan(2));
            var checksum = BinaryPrimitives.ReadUInt32LittleEndian(packet.AsSpan(4));
            var data = packet[8..];
            lock (sim._gate)
            {
                sim.Ops.Add(op);
                sim.Requests.Add((op, data));
            }
            RomFault? fault = null;
            if (op is 0x03 or 0x11)
            {
                _dataPackets++;
                lock (sim._gate)
                    sim.DataPacketRates.Add(sim.ChipBaud);
                lock (sim._gate)
                    if (sim._faults.Remove(_dataPackets, out var f))
                        fault = f;
                if (fault == RomFault.DropRequestBytes)
                    data = data[..^3];
                else if (fault == RomFault.CorruptChecksum)
                    data[^1] ^= 0x10;
                else if (fault == RomFault.ResetMidWrite)
                {
                    Send(Encoding.ASCII.GetBytes("ets Jun  8 2016 00:22:57\r\n\r\n" +
                        "rst:0x1 (POWERON_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)\r\n"));
                    _silent = true;
                    return;
                }
                else if (fault == RomFault.CorruptFlashAlways)
                    _corruptFlash = true;
            }
            if (data.Length != size)
            {
                Reply(op, 0, [], 0x05);
                return;
            }
            byte error = 0;
            uint value = 0;
            byte[] payload = [];
            switch (op)
            {
                case 0x08: // SYNC
                    if (!data
                        .AsSpan()
                        .SequenceEqual((byte[])[0x07, 0x07, 0x12, 0x20, .. Enumerable.Repeat((byte)0x55, 32)]))
                    {
                        Reply(op, 0, [], 0x05);
                        return;
                    }
                    for (var i = 0; i < 8; i++)
                        Reply(op, 0x20120707, [], 0);
                    return;
                case 0x0A: // READ_REG
                    {
                        var address = BinaryPrimitives.ReadUInt32LittleEndian(data);
                        value = address switch
                        {
                            0x40001000 => sim.Magic,
                            0x3FF5F06C => 1030u << 7,     // RTC calibration: cali 1030
                            0x3FF5A010 => 0x64u,          // eFuse BLK0 word 4: ck8m 100 (ROM clock estimate 40.23 MHz)
                            _ => sim.Registers.GetValueOrDefault(address),
                        };
                        break;
                    }
                case 0x09: // WRITE_REG: address, value, mask, delay (16-byte groups)
                    if (size % 16 != 0)
                    {
                        error = 0x05;
                        break;
                    }
                    for (var at = 0; at < size; at += 16)
                        WriteRegister(
                            BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(at)),
                            BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(at + 4)));
                    break;
                // GET_SECURITY_INFO
                case 0x14 when sim.Chip.SecurityInfoChipId is not null || sim.Chip == KnownChips.Esp32S2:
                    {
                        // flags u32, flash_crypt_cnt u8, 7 key purposes; S3/C3 and later: chip id u32, API version u32.
                        var info = new byte[sim.Chip.SecurityInfoChipId is null ? 12 : 20];
                        if (sim.Chip.SecurityInfoChipId is { } id)
                            BinaryPrimitives.WriteUInt32LittleEndian(info.AsSpan(12), id);
                        payload = info;
                        break;
                    }
                case 0x0D: // SPI_ATTACH: the ESP32 ROM takes 8 bytes
                    if (size != 8)
                        error = 0x05;
                    else
                        _attached = true;
                    break;
                case 0x0B: // SPI_SET_PARAMS
                    if (size != 24)
                        error = 0x05;
                    else
                        _paramsSet = true;
                    break;
                case 0x0F: // CHANGE_BAUDRATE
                    if (size != 8)
                        error = 0x05;
                    else
                    {
                        sim.RequestedBaud = BinaryPrimitives.ReadUInt32LittleEndian(data);
                        _nextRate = sim.EffectiveBaud(sim.RequestedBaud.Value);
                    }
                    break;
                case 0x02 or 0x10: // FLASH_BEGIN / FLASH_DEFL_BEGIN: exactly 4 words on the ESP32 ROM, 5 on later ones
                    error = size != 4 * sim.Chip.FlashBeginWords
                        ? (byte)0x05
                        : !_attached || !_paramsSet ? (byte)0x06 : Begin(op == 0x10, data);
                    break;
                case 0x03 or 0x11:
                    error = DataBlock(op == 0x11, data, checksum);
                    break;
                case 0x0E: // READ_FLASH_SLOW: address, length (1-64); the answer is the ROM's whole 64-byte buffer
                    {
                        var addr = BinaryPrimitives.ReadUInt32LittleEndian(data);
                        var len = BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(4));
                        if (size != 8 || len is 0 or > 64)
                            error = 0x05;
                        else if ((long)addr + len > FlashSize)
                            error = 0x0A;
                        else
                        {
                            // Past the bytes asked for, the buffer keeps what an earlier read left there.
                            sim.Flash.AsSpan((int)addr, (int)len).CopyTo(_readBuffer);
                            payload = [.. _readBuffer];
                            if (sim.CorruptNextRead)
                            {
                                sim.CorruptNextRead = false;
                                payload[0] ^= 0x08;
                            }
                            sim.SlowReads++;
                            if (sim.ReplaceSlowReadAnswer is { } replaced && replaced.Read == sim.SlowReads)
                            {
                                Send(replaced.Bytes);
                                return;
                            }
                        }
                        break;
                    }
                case 0x13: // SPI_FLASH_MD5: 32 hex characters
                    {
                        var addr = BinaryPrimitives.ReadUInt32LittleEndian(data);
                        var len = BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(4));
                        if ((long)addr + len > FlashSize)
                            error = 0x0A;
                        else
                            payload = Encoding.ASCII.GetBytes(Convert.ToHexStringLower(MD5.HashData(sim.Flash.AsSpan(
                                (int)addr, (int)len))));
                        break;
                    }
                default: // GET_SECURITY_INFO and anything else: not on the ESP32 ROM
                    Reply(sim.UnsupportedReplyOp ?? op, 0, [], 0x05);
                    return;
            }
            if (fault == RomFault.MissingResponse)
                return;
            Reply(
                op,
                value,
                payload,
                error,
                garble: fault == RomFault.GarbledEscape,
                drop: fault == RomFault.DropResponseBytes);
            if (_nextRate is { } rate)
            {
                sim.ChipBaud = rate;
                _nextRate = null;
            }
        }

        // The SPI controller's user command, as far as RDID goes: writing USR to CMD runs the command in USR2.
        private void WriteRegister(uint address, uint value)
        {
            sim.Registers[address] = value;
            var spi = sim.Chip.Spi;
            if (address != spi.Base || (value & (1u << 18)) == 0 || sim.SpiUserCommandHangs)
                return;
            if ((sim.Registers.GetValueOrDefault(spi.Base + spi.Usr2Offset) & 0xFF) == 0x9F)
                sim.Registers[spi.Base + spi.W0Offset] = sim.JedecId;
            sim.Registers[spi.Base] = 0; // done at once
        }

        private byte Begin(bool deflate, byte[] data)
        {
            _deflate = deflate;
            _eraseSize = BinaryPrimitives.ReadUInt32LittleEndian(data);
            _blocks = BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(4));
            _blockSize = BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(8));
            _offset = BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(12));
            if (_blockSize != 0x400 || (long)_offset + _eraseSize > FlashSize)
                return 0x06;
            _written = 0;
            _blocksReceived = 0;
            _compressed = new MemoryStream();
            // The ROM erases whole 4 KiB sectors covering the region now.
            var first = _offset / 0x1000 * 0x1000;
            var end = (_offset + _eraseSize + 0xFFF) / 0x1000 * 0x1000;
            sim.Flash.AsSpan((int)first, (int)(end - first)).Fill(0xFF);
            return 0;
        }

        private byte DataBlock(bool deflate, byte[] data, uint checksum)
        {
            if (deflate != _deflate || data.Length < 16)
                return 0x05;
            var len = BinaryPrimitives.ReadUInt32LittleEndian(data);
            var block = data.AsSpan(16);
            if (len != block.Length)
                return 0x05;
            byte sum = 0xEF;
            foreach (var b in block)
                sum ^= b;
            if (sum != checksum)
                return 0x07;
            var last = ++_blocksReceived == _blocks;
            if (!deflate)
            {
                if (block.Length != _blockSize)
                    return 0x05;
                var n = (int)Math.Min(block.Length, _eraseSize - _written);
                if (n <= 0)
                    return 0x06;
                block[..n].CopyTo(sim.Flash.AsSpan((int)(_offset + _written)));
                _written += n;
            }
            else
            {
                _compressed.Write(block);
                // Inflate everything received so far and write what is new (a streaming inflater, simply).
                var output = new MemoryStream();
                try
                {
                    using var zlib = new ZLibStream(
                        new MemoryStream(_compressed.ToArray()), CompressionMode.Decompress);
                    zlib.CopyTo(output);
                }
                catch (InvalidDataException)
                {
                    return 0x0B;
                }
                var inflated = output.ToArray();
                if (inflated.Length > _eraseSize)
                    return 0x0B;
                inflated.AsSpan(_written).CopyTo(sim.Flash.AsSpan((int)(_offset + _written)));
                _written = inflated.Length;
                if (last && sim.DeflateSpillWindow > 0)
                {
                    var window = sim.DeflateSpillWindow;
                    var spillEnd = Math.Min(FlashSize, (long)_offset + (_written / window + 1) * (long)window);
                    sim.Flash.AsSpan((int)(_offset + _written), (int)(spillEnd - _offset - _written)).Clear();
                }
            }
            if (_corruptFlash && last)
                sim.Flash[_offset] ^= 0x01;
            return 0;
        }

        private void Reply(byte op, uint value, byte[] payload, byte error, bool garble = false, bool drop = false)
        {
            if (Interlocked.Exchange(ref sim._replaceNextReply, null) is { } replacement)
            {
                Send(replacement);
                return;
            }
            var body = new List<byte> { 0x01, op, 0, 0, 0, 0, 0, 0 };
            body.AddRange(payload);
            body.AddRange([(byte)(error == 0 ? 0 : 1), error, 0, 0]); // the ESP32 ROM sends 4 status bytes
            var size = body.Count - 8;
            body[2] = (byte)size;
            body[3] = (byte)(size >> 8);
            BinaryPrimitives.WriteUInt32LittleEndian(
                System.Runtime.InteropServices.CollectionsMarshal.AsSpan(body).Slice(4), value);
            if (drop)
                body.RemoveRange(9, 2);
            var wire = new List<byte> { 0xC0 };
            foreach (var b in body)
            {
                if (b == 0xC0)
                    wire.AddRange([0xDB, 0xDC]);
                else if (b == 0xDB)
                    wire.AddRange([0xDB, 0xDD]);
                else
                    wire.Add(b);
            }
            if (garble)
                wire.InsertRange(4, [0xDB, 0x00]);
            wire.Add(0xC0);
            Send(wire.ToArray());
        }

        private void Send(byte[] bytes)
        {
            send(bytes);
            sim.BytesSent += bytes.Length;
        }
    }
}
