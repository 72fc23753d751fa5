#!/usr/bin/python3
"""How fast an OTA update reaches the host build over loopback: a 1 MiB image (by default) sent with wsctl-ota.1
(16 KiB binary messages inside the device's window, as docs/ota-protocol.md says), timed from the `begin` to the
`rebooting` answer, which comes after the device wrote every byte, read the slot back, hashed it and set it to boot.
Each run boots a fresh device directory (v1 in ota_0) and updates it to v2; the best and the median are printed.

A benchmark, not a test: it asserts nothing. README.md ("OTA speed") has the figure and the machine it came from.

usage: bench_ota.py WS_SERVER_HOST [--size BYTES] [--runs N] [--workdir DIR]
"""
import argparse, asyncio, os, shutil, statistics, sys, tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "tests"))
import ota_client as oc  # noqa: E402
import ota_image  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("exe")
    ap.add_argument("--size", type=int, default=1024 * 1024)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--workdir", default=None)
    args = ap.parse_args()
    work = args.workdir or tempfile.mkdtemp(prefix="bench-ota-")
    v1 = ota_image.build("1.0.0", size=200_000, seed=1)
    v2 = ota_image.build("2.0.0", size=args.size, seed=2)
    rates = []
    for run in range(args.runs):
        d = os.path.join(work, f"run-{run}")
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
        with open(os.path.join(d, "ota_0.bin"), "wb") as f:
            f.write(v1)
        dev = oc.Device(os.path.abspath(args.exe), d, label=f"bench run {run}")
        try:
            dev.boot()
            res = asyncio.run(oc.upload(dev.url, dev.key, v2))
            if res.last().get("type") != "rebooting":
                print(f"run {run}: the update failed: {res.messages}", file=sys.stderr)
                return 1
            dev.wait_exit()
        finally:
            dev.kill()
        rate = len(v2) / res.seconds
        rates.append(rate)
        print(f"run {run}: {len(v2)} bytes in {res.seconds * 1000:.1f} ms: {rate / 1e6:.1f} MB/s")
    if not args.workdir:
        shutil.rmtree(work, ignore_errors=True)
    best, median = max(rates), statistics.median(rates)
    print(f"bench-ota: {len(v2)} bytes, {args.runs} runs: best {best / 1e6:.1f} MB/s ({best / 2**20:.1f} MiB/s), "
          f"median {median / 1e6:.1f} MB/s ({median / 2**20:.1f} MiB/s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
