#!/usr/bin/env bash
# Runs every test of the project: C# unit and loopback tests (with headless Chromium, python3-websockets, avahi),
# the firmware's host tests, and the native-binary smoke test. Installs its Debian prerequisites (as root) or stops
# with the exact line to run. The last line is the total: "tests: N passed, N failed".
set -uo pipefail
cd "$(dirname "$(readlink -f "$0")")"
scripts/prereqs.sh || exit 1
# ESP Web Tools (pinned by tests/web-install/package-lock.json) for the browser test of flash --web-install's page;
# without it that test is skipped with the reason.
if command -v npm >/dev/null; then
  (cd tests/web-install && npm ci --no-audit --no-fund --silent >/dev/null 2>&1) ||
    echo "test.sh: npm ci in tests/web-install failed; the web-install browser test will be skipped" >&2
fi

passed=0; failed=0; skipped=0; broken=(); skipped_names=()
results=$(mktemp -d)
trap 'rm -rf "$results"' EXIT

stage() { printf '\n== %s\n' "$1"; }

# The npm Improv SDK that the interop tests drive (tests/improv-sdk, pinned by its package-lock.json), installed the
# way bench/run.sh installs its Node peer. Without it those tests fail and say how to install it.
if command -v npm >/dev/null; then
  (cd tests/improv-sdk && npm ci --no-audit --no-fund --silent >/dev/null) ||
    echo "test.sh: npm ci in tests/improv-sdk failed: the Improv SDK interop tests will fail" >&2
else
  echo "test.sh: npm not found (Node 18.19 or later with npm): the Improv SDK interop tests will fail" >&2
fi

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
    p=$(sed -n 's/.* passed="\([0-9]*\)".*/\1/p' <<<"$counters")
    f=$(sed -n 's/.* failed="\([0-9]*\)".*/\1/p' <<<"$counters")
    passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0}))
    # Skipped tests by name (a test that cannot run here says why in its skip reason, shown by dotnet test above),
    # counted from the results themselves: VSTest leaves the counters' notExecuted at 0 for xunit's skips.
    mapfile -t trx_skipped < <(grep -o '<UnitTestResult [^>]*outcome="NotExecuted"[^>]*>' "$trx" |
      sed -n 's/.*testName="\([^"]*\)".*/\1/p')
    skipped=$((skipped + ${#trx_skipped[@]}))
    skipped_names+=("${trx_skipped[@]}")
  done
fi

# Adds a stage's "NAME: N passed, N failed[, N skipped]" closing line to the totals; a stage that fails without one
# counts once. Each skipped gate is named, with its reason, by a "skipped: WHAT: WHY" line before the closing one.
run_stage() {  # run_stage TITLE SCRIPT...
  stage "$1"; shift
  local log="$results/stage.log" rc line p f s
  "$@" 2>&1 | tee "$log"; rc=${PIPESTATUS[0]}
  line=$(grep -E '^[a-z-]+: [0-9]+ passed, [0-9]+ failed' "$log" | tail -1)
  if [[ -n $line ]]; then
    p=$(sed -E 's/.*: ([0-9]+) passed.*/\1/' <<<"$line"); f=$(sed -E 's/.* ([0-9]+) failed.*/\1/' <<<"$line")
    s=$(sed -nE 's/.* ([0-9]+) skipped.*/\1/p' <<<"$line")
    passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + ${s:-0}))
    mapfile -t -O "${#skipped_names[@]}" skipped_names < <(sed -n 's/^skipped: //p' "$log")
  fi
  if ((rc != 0)); then broken+=("$1"); [[ -z $line ]] && failed=$((failed + 1)); fi
  return 0
}

# Firmware: host build with -Werror, unit tests, ASan/UBSan, ThreadSanitizer, valgrind, fuzz corpus, the RISC-V
# gate, the ESP-IDF build when IDF_PATH names one and the QEMU smoke test when QEMU is there too (skipped otherwise,
# with the reason).
run_stage "Firmware host tests (src/firmware/host/run-tests.sh)" src/firmware/host/run-tests.sh

run_stage "Native binary (NativeAOT publish and smoke test)" scripts/test-native.sh

run_stage "C# formatting (dotnet format --verify-no-changes)" scripts/check-format.sh

echo
if ((${#skipped_names[@]})); then
  echo "skipped (C# tests say why in their output above; gates after the colon):"
  printf '  %s\n' "${skipped_names[@]}"
fi
if ((${#broken[@]})); then echo "stages with failures: ${broken[*]}"; fi
echo "tests: $passed passed, $failed failed, $skipped skipped"
((failed == 0 && ${#broken[@]} == 0))
