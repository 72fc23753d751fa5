#!/usr/bin/python3
"""Writes the hand-made seed inputs of the fuzz corpus (corpus/{frame,http,conn}/<name>). See README.md."""
import os, struct, sys

HERE = os.path.dirname(os.path.abspath(__file__))
K = b"\x01\x02\x03\x04"


def m(op, p, fin=True, rsv=0, mask=True):
    """A client frame; masked unless mask=False."""
    n = len(p)
    b0 = (0x80 if fin else 0) | (rsv << 4) | op
    mb = 0x80 if mask else 0
    if n < 126:
        h = bytes([b0, mb | n])
    elif n < 65536:
        h = bytes([b0, mb | 126]) + struct.pack("!H", n)
    else:
        h = bytes([b0, mb | 127]) + struct.pack("!Q", n)
    if mask:
        h += K
        p = bytes(c ^ K[i % 4] for i, c in enumerate(p))
    return h + p


# frame: byte 0 = chunk size - 1, then the bytes a client sends after the handshake.
FRAME = {
    "text_small": b"\x00" + m(1, b"hello"),
    "three_in_one": b"\x40" + m(1, b"one") + m(1, b"two") + m(1, b"three"),
    "byte_by_byte": b"\x00" + m(1, b"slow-frame"),
    "fragmented_ping": b"\x03" + m(1, b"frag-", fin=False) + m(9, b"p") + m(0, b"mented"),
    "len16": b"\x20" + m(2, b"x" * 300),
    "len64": b"\xff" + m(2, b"y" * 70000)[:2000],
    "bad_utf8": b"\x00" + m(1, b"\xc3\x28"),
    "utf8_split": b"\x00" + m(1, b"\xe2\x82", fin=False) + m(0, b"\xac"),
    "unmasked": b"\x05" + m(1, b"hi", mask=False),
    "rsv": b"\x05" + m(1, b"hi", rsv=4),
    "reserved_opcode": b"\x05" + m(3, b""),
    "long_ping": b"\x05" + m(9, b"p" * 126),
    "fragmented_ping_ctrl": b"\x05" + m(9, b"p", fin=False),
    "continuation_alone": b"\x05" + m(0, b"x"),
    "data_inside_fragment": b"\x05" + m(1, b"a", fin=False) + m(1, b"b"),
    "close_normal": b"\x05" + m(8, struct.pack("!H", 1000) + b"bye"),
    "close_one_byte": b"\x05" + m(8, b"\x03"),
    "close_bad_code": b"\x05" + m(8, struct.pack("!H", 1005)),
    "too_big": b"\x05" + bytes([0x81, 0xFF]) + struct.pack("!Q", 10**6) + K + b"x" * 10,
    "top_bit_len": b"\x05" + bytes([0x81, 0xFF]) + b"\x80" + b"\x00" * 7 + K,
    "pong": b"\x05" + m(10, b"pong"),
    "empty_text": b"\x05" + m(1, b""),
    # fail fast on UTF-8 (Autobahn 6.4.x): the bad byte in an unfinished fragment, a code point cut between fragments
    "utf8_fail_fast_fragment": b"\x03" + m(1, b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5", fin=False)
                               + m(0, b"\xf4\x90\x80\x80", fin=False) + m(0, b"edited"),
    "utf8_surrogate_split": b"\x00" + m(1, b"ok\xed", fin=False) + m(0, b"\xa0\x80"),
    "utf8_4byte_split3": b"\x01" + m(1, b"\xf0", fin=False) + m(0, b"\x9f\x98", fin=False) + m(0, b"\x80"),
    # memory follows the bytes: a big announced frame that trickles, and one that passes the target's 3000-byte budget
    "announce_big_trickle": b"\x10" + m(2, b"t" * 4000)[:8 + 600],
    "over_budget": b"\xff" + m(2, b"o" * 3500),
    "fragments_over_budget": b"\x7f" + m(1, b"f" * 1500, fin=False) + m(0, b"g" * 1600),
}

KEY = "dGhlIHNhbXBsZSBub25jZQ=="
GOOD = (f"GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {KEY}\r\nOrigin: http://example.com\r\nSec-WebSocket-Version: 13\r\n\r\n")
# http: a handshake request as received.
HTTP = {
    "rfc_sample": GOOD,
    "case_tokens": GOOD.replace("Upgrade: websocket", "uPgRaDe: WebSocket")
                       .replace("Connection: Upgrade", "connection: keep-alive, upgrade"),
    "version_8": GOOD.replace("Version: 13", "Version: 8"),
    "no_key": GOOD.replace(f"Sec-WebSocket-Key: {KEY}\r\n", ""),
    "bad_key": GOOD.replace(KEY, "short=="),
    "post": GOOD.replace("GET", "POST"),
    "http10": GOOD.replace("HTTP/1.1", "HTTP/1.0"),
    "incomplete": GOOD[:-2],
    "no_host": GOOD.replace("Host: server.example.com\r\n", ""),
    "pipelined": GOOD + "\x81\x85abcd",
    "garbage": "\r\n\r\n",
    "colonless": "GET / HTTP/1.1\r\nHost\r\n\r\n",
    # Origin allow-list (RFC 6455 10.2): listed in another case, unlisted, repeated, absent
    "origin_listed_case": GOOD.replace("Origin: http://example.com", "Origin: HTTP://A.Example"),
    "origin_unlisted": GOOD.replace("Origin: http://example.com", "Origin: http://evil.example"),
    "origin_repeated": GOOD.replace("Origin: http://example.com",
                                    "Origin: http://a.example\r\norigin: http://b.example"),
    "origin_absent": GOOD.replace("Origin: http://example.com\r\n", ""),
    # the Origin rule (ws_origin.h): loopback, the server's own name (the target's "dev.local"), a rebound name, null
    "origin_loopback": GOOD.replace("Origin: http://example.com", "Origin: http://localhost:5173"),
    "origin_same_name": GOOD.replace("Host: server.example.com", "Host: DEV.local.:8080")
                            .replace("Origin: http://example.com", "Origin: http://dev.local.:8080"),
    "origin_rebound": GOOD.replace("Host: server.example.com", "Host: evil.example")
                          .replace("Origin: http://example.com", "Origin: http://evil.example:80"),
    "origin_ipv6_same": GOOD.replace("Host: server.example.com", "Host: [fe80::1]:8080")
                            .replace("Origin: http://example.com", "Origin: http://[FE80::1]:8080"),
    "origin_null": GOOD.replace("Origin: http://example.com", "Origin: null"),
    "host_repeated": GOOD.replace("Host: server.example.com\r\n", "Host: a\r\nHost: b\r\n"),
}

REQ = (b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
       b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
# conn: byte 0 = chunk size - 1, byte 1 = send queue length - 1 (bits 0-2), echo from the received buffer (bit 3),
# receive budget (bit 4), late answers (bit 5), Origin allow-list (bit 6), "table full" (bit 7); then traffic.
REQ_ORIGIN = REQ.replace(b"Host: x\r\n", b"Host: x\r\nOrigin: http://a.example\r\n")
REQ_EVIL = REQ.replace(b"Host: x\r\n", b"Host: x\r\nOrigin: http://evil.example\r\n")
CONN = {
    "open_text_close": b"\x40\x03" + REQ + m(1, b"hello") + m(8, b"\x03\xe8"),
    "open_pings": b"\x08\x01" + REQ + m(9, b"a") * 12,
    "table_full": b"\xff\x83" + REQ,
    "fragments": b"\x04\x05" + REQ + m(1, b"ab", False) + m(9, b"") + m(0, b"cd"),
    "bad_request": b"\x10\x05" + b"POST / HTTP/1.1\r\n\r\n",
    "protocol_error": b"\x30\x05" + REQ + bytes([0x81, 0x02]) + b"hi",
    "origin_allowed": b"\x40\x43" + REQ_ORIGIN + m(1, b"hello"),
    "origin_refused": b"\x40\x43" + REQ_EVIL + m(1, b"hello"),
    "origin_absent_with_list": b"\x40\x43" + REQ + m(1, b"hello"),
    "answer_before_error": b"\x08\x23" + REQ + m(1, b"Hello, world!") + m(1, b"x", rsv=2) + m(9, b""),
    "answer_before_close": b"\x08\x23" + REQ + m(1, b"last") + m(8, b"\x03\xe8") + m(1, b"late"),
    "budget_exceeded": b"\xff\x13" + REQ + m(2, b"b" * 1900),
    # echo mode (Autobahn 3.4): the echo queued before the bad frame is read; a long echo sent from its own buffer
    "echo_before_error": b"\x08\x0b" + REQ + m(1, b"Hello, world!") + m(1, b"Hello, world!", rsv=4) + m(9, b""),
    "echo_long_in_place": b"\x40\x0f" + REQ + m(2, b"e" * 1500) + m(1, b"short") + m(8, b"\x03\xe8"),
}

# ota (fuzz_ota.c): byte 0 = flags (bit 0 pending app, bit 1 no key, bits 2-3 a port failure, bit 4 a stored
# "pending" record); then [op][length, 2 bytes LE][data]: 0 text, 1 binary, 2 new connection, 3 time, 4 an authentic
# begin with the image d, 5 an authentic confirm, 6 a stored record.
sys.path.insert(0, os.path.join(HERE, "..", "tests"))
import ota_image  # noqa: E402


def op(code, data=b""):
    return bytes([code]) + struct.pack("<H", len(data)) + data


IMAGE = ota_image.build("2.0.0", size=1200)
OTA = {
    "update": b"\x00" + op(4, IMAGE) + op(2) + op(3, b"\x10"),
    "update_forced_other": b"\x00" + op(4, ota_image.build("2.0.0", project="other", size=600)[:1] + b"\x01"
                                       + ota_image.build("2.0.0", project="other", size=600)[2:]),
    "wrong_chip": b"\x00" + op(4, ota_image.build("2.0.0", chip="esp32", size=600)),
    "sha_mismatch": b"\x00" + op(4, b"\x01" + IMAGE[1:]),
    "write_fails": b"\x04" + op(4, IMAGE),
    "end_invalid": b"\x08" + op(4, IMAGE),
    "set_boot_fails": b"\x0c" + op(4, IMAGE),
    "confirm_pending": b"\x11" + op(5) + op(2) + op(3, b"\x30"),
    "deadline": b"\x01" + op(3, b"\x30"),
    "wrong_auth_backoff": b"\x00" + op(0, b'{"type":"begin","size":1000,"sha256":"' + b"0" * 64 + b'","auth":"'
                                     + b"1" * 64 + b'"}') + op(2) + op(3, b"\x04") + op(2),
    "bytes_first": b"\x00" + op(1, IMAGE[:300]),
    "no_key": b"\x02" + op(2) + op(0, b'{"type":"confirm"}'),
    "record": b"\x00" + op(6, b'{"result":"rolled_back","version":"2.0.0","reason":"panic","slot":"ota_1"}'),
    "text_escapes": b"\x00" + op(0, b'{"type":"begin","size":1,"sha256":"\\u0041","force":false}'),
}

for sub, items in (("frame", FRAME), ("http", HTTP), ("conn", CONN), ("ota", OTA)):
    os.makedirs(os.path.join(HERE, "corpus", sub), exist_ok=True)
    for name, data in items.items():
        with open(os.path.join(HERE, "corpus", sub, name), "wb") as f:
            f.write(data.encode("latin1") if isinstance(data, str) else data)
