#!/usr/bin/env bash
# Flash benchmark: `wsctl flash` and esptool (from WSCTL_ESPTOOL or PATH; skipped with the reason when absent) writing
# the same 1 MiB app through the simulated ESP32 ROM on a paced pty link, at 115200 and 460800 baud; writes the
# "Flash" section of bench/RESULTS.md. Options: --size BYTES, --runs N, --dry (print only). Benchmarks are not tests.
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."
echo "bench: building (Release)" >&2
dotnet build src/wsctl -c Release -nologo -v quiet >/dev/null
dotnet build bench/FlashBench -c Release -nologo -v quiet >/dev/null
exec dotnet bench/FlashBench/bin/Release/net10.0/FlashBench.dll "$@"
