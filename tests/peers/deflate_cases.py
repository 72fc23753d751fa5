#!/usr/bin/python3
"""The compression sections of the Autobahn|Testsuite (12.x, 13.x), rebuilt on python3-websockets (Debian's 10.x),
an implementation of RFC 7692 independent of wsctl's, since Autobahn's own suite cannot be installed here.

  deflate_cases.py client URL [COUNT]   run every case against an echo server at URL (wsctl serve --echo --compress)
  deflate_cases.py server PORTFILE      echo server with permessage-deflate on a free loopback port, written to PORTFILE

Section 12: the default offer, payloads of 16 B to 128 KiB, whole and in 256-byte fragments, five kinds of content
(words, JSON, repeated binary, random binary that does not compress, random letters). Section 13: the same payloads
under each offer Autobahn makes, as (no_context_takeover, max_window_bits): (False, 0), (True, 0), (False, 8),
(False, 15), (True, 8), (True, 15), and the three offers [(True, 8), (True, 0), (False, 0)] at once. Each message
must come back byte for byte; COUNT messages per case (Autobahn sends 1000).
"""
import asyncio
import os
import random
import sys

from websockets import connect, serve
from websockets.extensions.permessage_deflate import (
    ClientPerMessageDeflateFactory, ServerPerMessageDeflateFactory)

SIZES = [16, 64, 256, 1024, 4096, 8192, 16384, 32768, 65536, 131072]
FRAGMENTED_SIZES = [256, 1024, 4096, 8192, 16384, 32768, 65536, 131072]
WORDS = ("lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore et "
         "dolore magna aliqua").split()


def payload(kind, size, rng):
    if kind == "words":
        text = ""
        while len(text) < size:
            text += rng.choice(WORDS) + " "
        return text[:size]
    if kind == "json":
        text = ""
        while len(text) < size:
            text += '{"sensor":"counter","value":%d,"ok":true},' % rng.randrange(100000)
        return text[:size]
    if kind == "binary":
        return bytes((i * 7) % 251 for i in range(size))
    if kind == "random":
        return rng.randbytes(size)
    return "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(size))


def offer(no_context_takeover, max_window_bits):
    # As Autobahn's PerMessageDeflateOffer: the client accepts whatever the server asks of its own side.
    return ClientPerMessageDeflateFactory(
        server_no_context_takeover=no_context_takeover,
        client_no_context_takeover=False,
        server_max_window_bits=max_window_bits or None,
        client_max_window_bits=True)


SECTION13 = [
    [(False, 0)], [(True, 0)], [(False, 8)], [(False, 15)], [(True, 8)], [(True, 15)],
    [(True, 8), (True, 0), (False, 0)],
]
KINDS12 = ["words", "json", "binary", "random", "letters"]


def cases():
    for section, kind in enumerate(KINDS12, 1):
        yield f"12.{section}", [(False, 0)], kind
    for section, offers in enumerate(SECTION13, 1):
        yield f"13.{section}", offers, "words"


async def run_case(url, name, offers, kind, count):
    rng = random.Random(name)
    async with connect(url, compression=None, extensions=[offer(*o) for o in offers], max_size=None) as ws:
        if len(ws.extensions) != 1:
            return f"{name}: permessage-deflate not negotiated ({ws.response_headers.get('Sec-WebSocket-Extensions')})"
        agreed = ws.response_headers.get("Sec-WebSocket-Extensions")
        number = 0
        for fragment in (None, 256):
            for size in (SIZES if fragment is None else FRAGMENTED_SIZES):
                number += 1
                for _ in range(count):
                    message = payload(kind, size, rng)
                    if fragment is None:
                        await ws.send(message)
                    else:
                        await ws.send([message[i:i + fragment] for i in range(0, len(message), fragment)])
                    echo = await asyncio.wait_for(ws.recv(), 30)
                    if echo != message:
                        return f"{name}.{number} ({size} B, {kind}): echo differs"
        await ws.close()
        if ws.close_code != 1000:
            return f"{name}: closed with {ws.close_code}"
    print(f"ok {name} ({kind}; {agreed})", flush=True)
    return None


async def client(url, count):
    failures = [f for f in [await run_case(url, *case, count) for case in cases()] if f]
    for failure in failures:
        print("FAIL " + failure, flush=True)
    return 1 if failures else 0


async def echo(ws):
    async for message in ws:
        await ws.send(message)


async def server(port_file):
    factory = ServerPerMessageDeflateFactory()
    async with serve(echo, "127.0.0.1", 0, compression=None, extensions=[factory], max_size=None) as server:
        port = server.sockets[0].getsockname()[1]
        with open(port_file + ".tmp", "w") as f:
            f.write(str(port))
        os.rename(port_file + ".tmp", port_file)
        await asyncio.Future()


if __name__ == "__main__":
    if sys.argv[1] == "client":
        sys.exit(asyncio.run(client(sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 10)))
    asyncio.run(server(sys.argv[2]))
