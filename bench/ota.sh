#!/usr/bin/env bash
# OTA benchmark: `wsctl ota` of a 1 MiB image to the firmware's host build over loopback (upload MB/s, device and
# wsctl CPU), written into bench/RESULTS.md's "OTA" section. Options: --runs N, --size BYTES, --dry (print only).
# Benchmarks are not tests.
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."
echo "bench: building (Release)" >&2
dotnet build src/wsctl -c Release -nologo -v quiet >/dev/null
cmake -S src/firmware/host -B build/bench/firmware -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build/bench/firmware -j2 --target ws_server_host >/dev/null
exec /usr/bin/python3 bench/ota.py "$@"
