#!/usr/bin/python3
"""Drives a running `ws_server_host --echo --counter-interval-ms 200 --max-clients 4` the way real peers do.

Peers: Debian's python3-websockets (an independent RFC 6455 implementation) for normal traffic, and raw sockets
for the bytes no well-behaved client would send. At the end a connected client sends the server SIGINT (pid
given) and expects close 1001. Exits non-zero with a message on the first failed expectation.

usage: drive_server.py PORT SERVER_PID
"""
import asyncio, base64, json, os, signal, socket, struct, sys

import websockets

PORT, PID = int(sys.argv[1]), int(sys.argv[2])
URL = f"ws://127.0.0.1:{PORT}/"
failures = []


def expect(what, ok, detail=""):
    print(("ok   " if ok else "FAIL ") + what + (f" ({detail})" if detail and not ok else ""), flush=True)
    if not ok:
        failures.append(what)


def raw_client(request_extra=b"", version=b"13"):
    s = socket.create_connection(("127.0.0.1", PORT), timeout=5)
    key = base64.b64encode(os.urandom(16))
    s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + key +
              b"\r\nSec-WebSocket-Version: " + version + b"\r\n" + request_extra + b"\r\n")
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


def masked(op, payload, fin=True, mask=True):
    k = os.urandom(4)
    b0 = (0x80 if fin else 0) | op
    n = len(payload)
    hdr = bytes([b0, (0x80 if mask else 0) | n]) if n < 126 else bytes([b0, (0x80 if mask else 0) | 126]) + struct.pack("!H", n)
    if not mask:
        return hdr + payload
    return hdr + k + bytes(b ^ k[i % 4] for i, b in enumerate(payload))


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

    # Bad input over raw sockets: each connection gets the right close code or HTTP status.
    for what, frame, code in [("unmasked → 1002", masked(1, b"hi", mask=False), 1002),
                              ("invalid UTF-8 → 1007", masked(1, b"\xc3\x28"), 1007),
                              ("RSV bit → 1002", bytes([0xC1]) + masked(1, b"x")[1:], 1002),
                              ("continuation without start → 1002", masked(0, b"x"), 1002),
                              ("1 MB announced → 1009", bytes([0x81, 0xFF]) + (10**6).to_bytes(8, "big") + b"abcd", 1009)]:
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
    expect("client over the limit → 503 with Retry-After", head.startswith("HTTP/1.1 503") and "retry-after:" in head.lower(), head[:60])
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
