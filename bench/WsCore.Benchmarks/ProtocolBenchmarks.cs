using System.Text;
using BenchmarkDotNet.Attributes;
using WsCore.WebSockets.Protocol;

namespace WsCore.Benchmarks;

/// <summary>Frame writer and reader, masking, UTF-8 validation and the handshake: the per-message hot paths.</summary>
[MemoryDiagnoser]
public class ProtocolBenchmarks
{
    [Params(32, 4096, 65536)]
    public int Size;

    private byte[] _payload = [];
    private byte[] _frame = [];
    private byte[] _stream = [];
    private byte[] _text = [];
    private byte[] _buffer = [];
    private MessageDecoder _decoder = null!;
    private byte[] _request = [];

    [GlobalSetup]
    public void Setup()
    {
        _payload = new byte[Size];
        new Random(42).NextBytes(_payload);
        _buffer = new byte[FrameEncoder.GetFrameLength(Size, masked: true)];
        _frame = new byte[FrameEncoder.GetFrameLength(Size, masked: true)];
        FrameEncoder.Encode(_frame, Opcode.Binary, _payload, fin: true, maskKey: 0x37fa213d);
        // 16 masked frames back to back, as a busy client's segment would carry them.
        _stream = Enumerable.Repeat(_frame, 16).SelectMany(f => f).ToArray();
        _text = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("grüße, ESP32 ✓ ", Size / 16 + 1)))[..Size];
        _decoder = new MessageDecoder(expectMaskedFrames: true, maxMessageBytes: 16 * 1024 * 1024);
        _request = Encoding.ASCII.GetBytes(
            "GET / HTTP/1.1\r\nHost: esp32ws.local:8080\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nOrigin: http://localhost\r\n" +
            "\r\n");
    }

    [GlobalCleanup]
    public void Cleanup() => _decoder.Dispose();

    [Benchmark(Description = "write a masked frame")]
    public int WriteMaskedFrame() => FrameEncoder.Encode(
        _buffer, Opcode.Binary, _payload, fin: true, maskKey: 0x12345678);

    [Benchmark(Description = "write an unmasked (server) frame")]
    public int WriteServerFrame() => FrameEncoder.Encode(_buffer, Opcode.Binary, _payload, fin: true);

    [Benchmark(Description = "mask in place (vectorised)")]
    public void Mask() => Masking.Apply(_payload, 0x37fa213d);

    [Benchmark(Description = "decode 16 masked frames")]
    public int Decode16Frames()
    {
        ReadOnlySpan<byte> input = _stream;
        var messages = 0;
        while (!input.IsEmpty)
        {
            if (_decoder.Decode(input, out var consumed) == DecodeStatus.Message)
                messages++;
            input = input[consumed..];
        }
        return messages;
    }

    [Benchmark(Description = "validate UTF-8 text")]
    public bool ValidateUtf8()
    {
        var validator = new Utf8Validator();
        return validator.Append(_text) && validator.IsComplete;
    }

    [Benchmark(Description = "parse and accept a handshake")]
    public string? Handshake()
    {
        HttpRequestHead.TryParse(_request, 8192, out var head, out _);
        return ServerHandshake.Evaluate(head!).Accept;
    }
}
