#!/usr/bin/python3
"""Drives a running `ws_server_host --echo --counter-interval-ms 200 --max-clients 4 --max-message 65536
--rx-budget 98304 --allow-origin http://allowed.example` the way real peers do.

Peers: Debian's python3-websockets (an independent RFC 6455 implementation) for normal traffic, and raw sockets
for the bytes no well-behaved client would send: Autobahn-style cases (echoes before the close: 3.2, 3.4 in one TCP
segment and octet by octet, 4.1.3, 5.15, 7.1.6; fail fast on UTF-8: 6.4.1-6.4.4), clients that announce big frames
and trickle them against the receive budget, and the Origin rule. At the end a connected client sends the server
SIGINT (pid given) and expects close 1001. Exits non-zero if any expectation failed.

usage: drive_server.py PORT SERVER_PID
"""
import asyncio, base64, json, os, signal, socket, struct, sys, time

import websockets

PORT, PID = int(sys.argv[1]), int(sys.argv[2])
URL = f"ws://127.0.0.1:{PORT}/"
failures = []


def expect(what, ok, detail=""):
    print(("ok   " if ok else "FAIL ") + what + (f" ({detail})" if detail and not ok else ""), flush=True)
    if not ok:
        failures.append(what)


def raw_client(request_extra=b"", version=b"13", host=b"x"):
    s = socket.create_connection(("127.0.0.1", PORT), timeout=5)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # chops and fragments leave when sent
    key = base64.b64encode(os.urandom(16))
    s.sendall(b"GET / HTTP/1.1\r\nHost: " + host + b"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
              b"Sec-WebSocket-Key: " + key + b"\r\nSec-WebSocket-Version: " + version + b"\r\n" + request_extra
              + b"\r\n")
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = s.recv(4096)
        if not chunk:
            break
        head += chunk
    head, _, rest = head.partition(b"\r\n\r\n")
    return s, head.decode(errors="replace"), rest


def read_close_code(s, rest):
    data = rest
    try:
        while True:
            while len(data) >= 2:
                n = data[1] & 0x7F
                hdr = 2 + (2 if n == 126 else 8 if n == 127 else 0)
                if len(data) < hdr:
                    break
                if n == 126:
                    n = struct.unpack("!H", data[2:4])[0]
                elif n == 127:
                    n = struct.unpack("!Q", data[2:10])[0]
                if len(data) < hdr + n:
                    break
                op, payload, data = data[0] & 0x0F, data[hdr:hdr + n], data[hdr + n:]
                if op == 8:
                    return struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005
            chunk = s.recv(65536)
            if not chunk:
                return None
            data += chunk
    except OSError:
        return None
    finally:
        s.close()


def masked(op, payload, fin=True, mask=True, rsv=0, key=None):
    k = key or os.urandom(4)
    b0 = (0x80 if fin else 0) | (rsv << 4) | op
    n = len(payload)
    mb = 0x80 if mask else 0
    if n < 126:
        hdr = bytes([b0, mb | n])
    elif n < 65536:
        hdr = bytes([b0, mb | 126]) + struct.pack("!H", n)
    else:
        hdr = bytes([b0, mb | 127]) + struct.pack("!Q", n)
    if not mask:
        return hdr + payload
    return hdr + k + bytes(b ^ k[i % 4] for i, b in enumerate(payload))


class Frames:
    """Reads server frames from a raw socket, skipping the counter broadcasts (they may come at any time)."""

    def __init__(self, s, rest=b""):
        self.s, self.data = s, rest

    def read(self, timeout, until_close=True, max_frames=None):
        out, end = [], time.time() + timeout
        while True:
            while len(self.data) >= 2:
                d = self.data
                n = d[1] & 0x7F
                hdr = 2 + (2 if n == 126 else 8 if n == 127 else 0)
                if len(d) < hdr:
                    break
                if n == 126:
                    n = struct.unpack("!H", d[2:4])[0]
                elif n == 127:
                    n = struct.unpack("!Q", d[2:10])[0]
                if len(d) < hdr + n:
                    break
                op, payload, self.data = d[0] & 0x0F, d[hdr:hdr + n], d[hdr + n:]
                if op == 1 and payload.startswith(b'{"type":"message"'):
                    continue
                out.append((op, payload))
                if (until_close and op == 8) or (max_frames and len(out) >= max_frames):
                    return out
            left = end - time.time()
            if left <= 0:
                return out
            self.s.settimeout(left)
            try:
                chunk = self.s.recv(65536)
            except (socket.timeout, OSError):
                return out
            if not chunk:
                return out
            self.data += chunk

    def quiet(self, seconds):
        """True if no frame (other than the counter) arrives for the given time."""
        return not self.read(seconds, max_frames=1)


def read_frames(s, rest, timeout):
    return Frames(s, rest).read(timeout)


def close_code(frames):
    if frames and frames[-1][0] == 8:
        return struct.unpack("!H", frames[-1][1][:2])[0] if len(frames[-1][1]) >= 2 else 1005
    return None


def autobahn_cases():
    """Echoes before the close (RFC 6455 5.5.1) and fail fast on invalid UTF-8 (8.1), as the Autobahn suite checks.
    3.4 is sent twice: in one send (one TCP segment) and octet by octet (a send per byte, as Autobahn chops it)."""
    hello = b"Hello, world!"
    case_34 = masked(1, hello) + masked(1, hello, rsv=4) + masked(9, b"")
    for case, data, answers, code in [
            ("3.2", masked(1, hello) + masked(1, hello, rsv=2) + masked(9, b""), [hello], 1002),
            ("3.4 (one segment)", case_34, [hello], 1002),
            ("3.4 (octet by octet)", [case_34[i:i + 1] for i in range(len(case_34))], [hello], 1002),
            ("4.1.3", masked(1, hello) + masked(5, b"") + masked(9, b""), [hello], 1002),
            ("4.2.4", masked(1, hello) + masked(13, hello) + masked(9, b""), [hello], 1002),
            ("5.15", masked(1, b"fragment1", fin=False) + masked(0, b"fragment2") + masked(0, b"fragment3", fin=False)
             + masked(1, b"fragment4"), [b"fragment1fragment2"], 1002),
            ("7.1.6", masked(1, b"BAsd7&jh23" * 6000) + masked(1, b"Hello World!") + masked(8, struct.pack("!H", 1000))
             + masked(9, b""), [b"BAsd7&jh23" * 6000, b"Hello World!"], 1000)]:
        s, _, rest = raw_client()
        for chop in data if isinstance(data, list) else [data]:
            s.sendall(chop)
        frames = read_frames(s, rest, 10)
        s.close()
        got = [p for op, p in frames if op == 1]
        expect(f"Autobahn {case}: messages before the {'close' if code == 1000 else 'bad frame'} echoed, "
               f"then close {code}",
               got == answers and close_code(frames) == code and not any(op == 10 for op, _ in frames),
               str([(op, p[:16]) for op, p in frames]))
    p = b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xf4\x90\x80\x80edited"  # U+110000 at byte 11
    for case, parts, chops in [("6.4.1", [p[:11], p[11:15], p[15:]], False),
                               ("6.4.2", [p[:12], p[12:13], p[13:]], False),
                               ("6.4.3", [p[:11], p[11:15], p[15:]], True),
                               ("6.4.4", [p[:12], p[12:13], p[13:]], True)]:
        s, _, rest = raw_client()
        k = os.urandom(4)
        if chops:  # one frame, its payload in three TCP chops
            whole = masked(1, p, key=k)
            at = len(whole) - len(p)
            pieces = [whole[:at + len(parts[0])], whole[at + len(parts[0]):at + len(parts[0]) + len(parts[1])]]
        else:      # three fragments, FIN on the third
            pieces = [masked(1, parts[0], fin=False), masked(0, parts[1], fin=False)]
        conn = Frames(s, rest)
        s.sendall(pieces[0])
        calm = conn.quiet(0.5)
        s.sendall(pieces[1])
        t0 = time.time()
        frames = conn.read(5)
        s.close()
        expect(f"Autobahn {case}: first part accepted, close 1007 on the part with the invalid byte (no third part)",
               calm and close_code(frames) == 1007 and time.time() - t0 < 2, f"quiet {calm}, {frames}")
    s, _, rest = raw_client()
    s.sendall(masked(1, b"\xf0\x9f", fin=False))
    s.sendall(masked(0, b"\x98", fin=False))
    s.sendall(masked(0, b"\x80 ok"))
    frames = read_frames(s, rest, 5)
    s.close()
    expect("a code point cut over three fragments is echoed whole", frames[:1] == [(1, b"\xf0\x9f\x98\x80 ok")],
           str(frames))


async def budget_case():
    """Three clients announce 64 KiB frames and trickle them against the 96 KiB receive budget. The first frame fits
    when its first byte comes and gets its whole buffer at once; the other two no longer fit, so their buffers follow
    the bytes they sent, and the one that would pass the budget gets 1008. A fourth client is echoed throughout."""
    size, key = 65536, b"\x01\x02\x03\x04"
    payload = [bytes([0x61 + i]) * size for i in range(3)]
    frames = [masked(2, pl, key=key) for pl in payload]
    hdr = len(frames[0]) - size
    trick = [raw_client() for _ in range(3)]
    conns = [Frames(s, rest) for s, _, rest in trick]
    async with websockets.connect(URL) as ws:
        for i, (s, _, _) in enumerate(trick):
            s.sendall(frames[i][:hdr])  # 64 KiB announced: nothing allocated yet
        await ws.send("served while others announce")
        expect("echo while three clients announce 64 KiB",
               await recv_skip_counter(ws) == "served while others announce")
        trick[0][0].sendall(frames[0][hdr:hdr + 1000])  # fits: 64 KiB + 1 held from here on
        for off in range(hdr, hdr + 8000, 1000):  # the others: 8 KiB buffers each, 81,921 bytes held in all
            for i in (1, 2):
                trick[i][0].sendall(frames[i][off:off + 1000])
            await asyncio.sleep(0.005)
        await ws.send("served while the budget is nearly used up")
        expect("echo while the budget is nearly used up (the 256-byte reserve)",
               await recv_skip_counter(ws) == "served while the budget is nearly used up")
        trick[1][0].sendall(frames[1][hdr + 8000:hdr + 9000])  # 16 KiB: 90,113 held
        trick[2][0].sendall(frames[2][hdr + 8000:hdr + 9000])  # 16 KiB more would be 98,305: over the budget
        got = close_code(conns[2].read(10))
        expect("the client growing past the budget is closed with 1008", got == 1008, f"got {got}")
        expect("the other trickling clients stay open", conns[0].quiet(0.3) and conns[1].quiet(0.01))
        trick[1][0].shutdown(socket.SHUT_WR)  # the second gives up; its EOF frees its buffer
        conns[1].read(10)                     # until the server's FIN: it has let go
        trick[0][0].sendall(frames[0][hdr + 1000:])
        echoed = conns[0].read(20, max_frames=1)
        expect("the first finishes its 64 KiB message in the buffer it got at its first byte and gets it back",
               echoed == [(2, payload[0])], str([(op, len(p)) for op, p in echoed]))
        await ws.send("still served")
        expect("echo after the budget case", await recv_skip_counter(ws) == "still served")
    for s, _, _ in trick:
        s.close()


async def recv_skip_counter(ws):
    while True:
        got = await asyncio.wait_for(ws.recv(), 10)
        if not (isinstance(got, str) and got.startswith('{"type":"message"')):
            return got


def origin_cases():
    """The Origin rule (ws_origin.h), on as on the device; the server's name is the default esp32ws."""
    s, head, rest = raw_client(b"Origin: http://evil.example\r\n")
    body = rest + s.recv(4096) if len(rest) < 19 else rest
    s.close()
    expect("a foreign page's Origin → 403 with a short body",
           head.startswith("HTTP/1.1 403 Forbidden") and body.endswith(b"origin not allowed\n"), head[:40] + repr(body))
    device = f"esp32ws.local:{PORT}".encode()
    for what, extra, host, status in [
            ("listed Origin (other case) → 101", b"Origin: HTTP://Allowed.Example\r\n", b"x", "101"),
            ("no Origin → 101", b"", b"x", "101"),
            ("the device's own page (Origin host:port = Host, esp32ws.local) → 101",
             b"Origin: http://" + device + b"\r\n", device, "101"),
            ("a page on loopback, any port → 101", b"Origin: http://localhost:5173\r\n", device, "101"),
            ("a page under a rebound name (Origin host:port = Host, evil.example) → 403",
             b"Origin: http://evil.example:" + str(PORT).encode() + b"\r\n", b"evil.example:" + str(PORT).encode(),
             "403"),
            ("Origin null (a sandboxed page or a file) → 403", b"Origin: null\r\n", device, "403")]:
        s, head, _ = raw_client(extra, host=host)
        s.close()
        expect(what, head.startswith("HTTP/1.1 " + status), head[:40])


async def main():
    # Echo of text, binary and a 60,000-byte message through an independent client.
    async with websockets.connect(URL, max_size=2**20) as ws:
        for msg in ["hello", "ünïcödé €", b"\x00\x01\xff", "z" * 60000]:
            await ws.send(msg)
            while True:
                got = await asyncio.wait_for(ws.recv(), 5)
                if isinstance(got, str) and got.startswith('{"type":"message"'):
                    continue  # a counter tick in between
                break
            expect(f"echo of {type(msg).__name__} ({len(msg)})", got == msg)
        # Fragmented message from the client library (it fragments iterables).
        await ws.send(["frag", "mented"])
        got = None
        while got is None or got.startswith('{"type":"message"'):
            got = await asyncio.wait_for(ws.recv(), 5)
        expect("fragmented message echoed whole", got == "fragmented", got[:50])
        # Counter: consecutive values differ by 1.
        values = []
        while len(values) < 2:
            got = await asyncio.wait_for(ws.recv(), 5)
            if isinstance(got, str) and got.startswith('{"type":"message"'):
                values.append(json.loads(got)["data"]["value"])
        expect("counter increases by 1", values[1] == values[0] + 1, str(values))
        pong = await ws.ping(b"are you there")
        await asyncio.wait_for(pong, 5)
        expect("ping answered", True)
        await ws.close(1000, "done")
        expect("client close 1000 echoed by the server", ws.close_code == 1000, str(ws.close_code))

    # Several concurrent clients, all echoed.
    async def one(i):
        async with websockets.connect(URL) as ws:
            await ws.send(f"client {i}")
            while True:
                got = await asyncio.wait_for(ws.recv(), 5)
                if got == f"client {i}":
                    return True
    results = await asyncio.gather(*(one(i) for i in range(4)))
    expect("4 concurrent clients echoed", all(results))

    autobahn_cases()
    await budget_case()
    origin_cases()

    # Bad input over raw sockets: each connection gets the right close code or HTTP status.
    for what, frame, code in [("unmasked → 1002", masked(1, b"hi", mask=False), 1002),
                              ("invalid UTF-8 → 1007", masked(1, b"\xc3\x28"), 1007),
                              ("RSV bit → 1002", bytes([0xC1]) + masked(1, b"x")[1:], 1002),
                              ("continuation without start → 1002", masked(0, b"x"), 1002),
                              ("1 MB announced → 1009",
                               bytes([0x81, 0xFF]) + (10**6).to_bytes(8, "big") + b"abcd", 1009)]:
        s, head, rest = raw_client()
        s.sendall(frame)
        got = read_close_code(s, rest)
        expect(what, got == code, f"got {got}")
    s, head, _ = raw_client(version=b"8")
    s.close()
    expect("version 8 → 426", head.startswith("HTTP/1.1 426"), head[:40])
    s = socket.create_connection(("127.0.0.1", PORT), timeout=5)
    s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    head = s.recv(4096).decode(errors="replace")
    s.close()
    expect("plain GET → 400", head.startswith("HTTP/1.1 400"), head[:40])
    s = socket.create_connection(("127.0.0.1", PORT), timeout=5)
    s.close()  # a client that connects and goes away

    # Limit: max clients open, one more gets 503 + Retry-After.
    conns = [await websockets.connect(URL) for _ in range(4)]
    s, head, _ = raw_client()
    s.close()
    expect("client over the limit → 503 with Retry-After",
           head.startswith("HTTP/1.1 503") and "retry-after:" in head.lower(), head[:60])
    for c in conns[1:]:
        await c.close()

    # Shutdown: SIGINT to the server, the remaining client sees close 1001.
    os.kill(PID, signal.SIGINT)
    try:
        while True:
            await asyncio.wait_for(conns[0].recv(), 10)
    except websockets.ConnectionClosed as e:
        expect("SIGINT → close 1001 to connected clients", e.code == 1001, str(e.code))


asyncio.run(main())
print(f"drive_server: {len(failures)} failed" if failures else "drive_server: all ok")
sys.exit(1 if failures else 0)
