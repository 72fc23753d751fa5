#!/usr/bin/env bash
# Every quality gate of the firmware, in one script (test.sh calls it):
#   1. host build with -Wall -Wextra -Werror, then CTest (GoogleTest + fuzz corpus replay)
#   2. the same under -fsanitize=address,undefined -fno-sanitize-recover, CTest again; then under
#      -fsanitize=thread (the locking rule of ws_server.h: ws_send from any task, hammered by concurrency_test.cpp)
#   3. ws_server_host under valgrind, driven by python3-websockets and raw sockets, stopped with SIGINT: exit 0;
#      then under valgrind massif: the heap a 64 KiB echo costs at its peak, at most 1.25x the message; then the OTA
#      endpoint end to end (tests/drive_ota.py: ws_server_host --ota-dir restarted like a device, every rule of
#      docs/ota-protocol.md), once plainly (each check a test) and once under valgrind (its failures counted)
#   4. libFuzzer targets (clang-14): the committed corpus replayed (-runs=0), then a short bounded fuzz run
#   5. the portable core compiled for 32-bit RISC-V (rv32imc, ilp32, newlib headers) with -Werror
#   6. the ESP-IDF build of the whole firmware (scripts/idf-build.sh), skipped when IDF_PATH is not set
#   7. the emulator smoke test (scripts/qemu-smoke.sh: the qemu profile flashed with wsctl into Espressif's QEMU,
#      booted with Ethernet, checked with wsctl probe/send), skipped when IDF_PATH or qemu-system-riscv32 is absent
# Build directories go under build/ at the repository root. The last line is
# "firmware: N passed, M failed, K skipped", after one "skipped: WHAT: WHY" line per skipped gate.
# Each test is counted once: the sanitizer run of the unit tests adds only its failures, and builds and compile
# gates are not tests (a failing one counts as a failure, a skipped one as skipped, never as passed).
# FUZZ_SECONDS (default 5) bounds the fuzz run per target; 0 skips it. TARGET (default esp32c3) is the ESP-IDF target.
set -uo pipefail
here=$(cd "$(dirname "$(readlink -f "$0")")" && pwd)
fw=$(cd "$here/.." && pwd)
root=$(cd "$fw/../.." && pwd)
out="$root/build/firmware"
mkdir -p "$out"
jobs=${JOBS:-2}
fuzz_seconds=${FUZZ_SECONDS:-5}
passed=0
failed=0
skipped=0
skips=()

step() { printf '\n-- firmware: %s\n' "$1"; }
ok() { echo "ok   $1"; passed=$((passed + 1)); }
gate() { echo "ok   $1 (gate, not counted)"; }
bad() { echo "FAIL $1"; failed=$((failed + 1)); }
skip() { echo "skip  $1"; skipped=$((skipped + 1)); skips+=("$1"); }

# Runs CTest in $1 and adds its test counts (with "failures-only" as $3: only its failures, for a second run of the
# same tests under another configuration).
run_ctest() {
  local dir=$1 label=$2 mode=${3:-all} log
  log=$(ctest --test-dir "$dir" --output-on-failure --timeout 120 2>&1)
  local rc=$?
  local line
  line=$(grep -E '[0-9]+% tests passed, [0-9]+ tests failed out of [0-9]+' <<<"$log" | tail -1)
  if [[ -z $line ]]; then
    echo "$log" | tail -30
    bad "$label: ctest produced no summary"
    return
  fi
  local nfail ntotal
  nfail=$(sed -E 's/.* ([0-9]+) tests failed out of ([0-9]+).*/\1/' <<<"$line")
  ntotal=$(sed -E 's/.* ([0-9]+) tests failed out of ([0-9]+).*/\2/' <<<"$line")
  ((rc != 0)) && echo "$log" | grep -E -A15 'Failure|FAILED|Failed' | head -60
  echo "$label: $line"
  [[ $mode == all ]] && passed=$((passed + ntotal - nfail))
  failed=$((failed + nfail))
  ((rc != 0 && nfail == 0)) && bad "$label: ctest exit code $rc"
}

build() {
  local dir=$1
  shift
  cmake -S "$here" -B "$dir" "$@" >"$dir.configure.log" 2>&1 && cmake --build "$dir" -j"$jobs" >"$dir.build.log" 2>&1
}

step "build (-Wall -Wextra -Werror) and unit tests"
mkdir -p "$out"
if build "$out/host" -DCMAKE_BUILD_TYPE=RelWithDebInfo; then
  gate "host build with -Werror"
  run_ctest "$out/host" "ctest"
else
  tail -30 "$out/host.configure.log" "$out/host.build.log"
  bad "host build with -Werror"
fi

step "AddressSanitizer + UndefinedBehaviorSanitizer"
if build "$out/host-asan" -DCMAKE_BUILD_TYPE=Debug -DWS_SANITIZE=ON; then
  gate "sanitizer build"
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    run_ctest "$out/host-asan" "ctest (ASan+UBSan; the same tests, failures counted)" failures-only
else
  tail -30 "$out/host-asan.build.log"
  bad "sanitizer build"
fi

step "ThreadSanitizer: the same tests, ws_send from several tasks at once among them (tests/concurrency_test.cpp)"
if build "$out/host-tsan" -DCMAKE_BUILD_TYPE=Debug -DWS_TSAN=ON; then
  gate "ThreadSanitizer build"
  TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
    run_ctest "$out/host-tsan" "ctest (ThreadSanitizer; the same tests, failures counted)" failures-only
else
  tail -30 "$out/host-tsan.build.log"
  bad "ThreadSanitizer build"
fi

step "valgrind: ws_server_host driven by python3-websockets and raw sockets"
exe="$out/host/ws_server_host"
if [[ -x $exe ]] && command -v valgrind >/dev/null; then
  err="$out/valgrind.stderr"
  : >"$err" # truncate now: the port is read from this file, never from a previous run's copy
  valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect -q \
    "$exe" --port 0 --echo --counter-interval-ms 200 --max-clients 4 --max-message 65536 --rx-budget 98304 \
    --allow-origin http://allowed.example \
    >"$out/valgrind.stdout" 2>"$err" &
  vpid=$!
  port=""
  for _ in $(seq 1 200); do
    port=$(sed -n 's/^listening on port \([0-9]*\)$/\1/p' "$err" | head -1)
    [[ -n $port ]] && break
    sleep 0.1
  done
  if [[ -z $port ]]; then
    cat "$err"
    kill "$vpid" 2>/dev/null
    bad "valgrind: server did not start"
  else
    if timeout 120 /usr/bin/python3 "$here/tests/drive_server.py" "$port" "$vpid"; then
      ok "valgrind run: clients, messages, bad frames"
    else
      bad "valgrind run: clients, messages, bad frames"
      kill -INT "$vpid" 2>/dev/null
    fi
    code=0
    for _ in $(seq 1 150); do
      kill -0 "$vpid" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$vpid" 2>/dev/null; then
      kill -KILL "$vpid"
      bad "valgrind: server did not exit after SIGINT"
    fi
    wait "$vpid"
    code=$?
    if ((code == 0)); then
      ok "valgrind: exit 0 after SIGINT, no memory errors or leaks"
    else
      cat "$err"
      bad "valgrind: exit code $code (99 = valgrind found errors)"
    fi
  fi
else
  bad "valgrind: ws_server_host or valgrind missing"
fi

step "valgrind massif: the heap of a 64 KiB echo"
if [[ -x $exe ]] && command -v valgrind >/dev/null; then
  if massif_line=$(timeout 120 /usr/bin/python3 "$here/tests/measure_echo_heap.py" "$exe" --size 65536 \
    --max-ratio 1.25 2>&1); then
    echo "$massif_line"
    ok "massif: a 64 KiB echo peaks at most 1.25x the message in heap"
  else
    echo "$massif_line"
    bad "massif: a 64 KiB echo peaks at most 1.25x the message in heap"
  fi
else
  bad "massif: ws_server_host or valgrind missing"
fi

# Runs a checking script whose last line is "NAME: N passed, M failed" and adds its counts (with "failures-only" as
# $3: only its failures, for a second run of the same checks under valgrind).
run_checks() {
  local label=$1 name=$2 mode=$3 log=$4
  shift 4
  "$@" >"$log" 2>&1
  local rc=$? line
  line=$(grep -E "^$name: [0-9]+ passed, [0-9]+ failed" "$log" | tail -1)
  grep -E '^FAIL' "$log" | head -20
  if [[ -z $line ]]; then
    tail -30 "$log"
    bad "$label: no summary line (exit $rc)"
    return
  fi
  echo "$label: $line"
  [[ $mode == all ]] && passed=$((passed + $(sed -E 's/.*: ([0-9]+) passed.*/\1/' <<<"$line")))
  failed=$((failed + $(sed -E 's/.* ([0-9]+) failed.*/\1/' <<<"$line")))
  ((rc != 0)) && [[ $line == *" 0 failed"* ]] && bad "$label: exit $rc"
  [[ $mode != all ]] && ((rc == 0)) && ok "$label"
}

step "OTA end to end: ws_server_host --ota-dir driven by host/tests/drive_ota.py (docs/ota-protocol.md)"
if [[ -x $exe ]]; then
  rm -rf "$out/ota-e2e" "$out/ota-e2e-valgrind"
  run_checks "OTA end-to-end" ota-e2e all "$out/ota-e2e.log" \
    timeout 600 /usr/bin/python3 "$here/tests/drive_ota.py" "$exe" "$out/ota-e2e"
  if command -v valgrind >/dev/null; then
    run_checks "valgrind: the OTA end-to-end run, no memory errors or leaks in any run" ota-e2e failures-only \
      "$out/ota-e2e-valgrind.log" timeout 900 /usr/bin/python3 "$here/tests/drive_ota.py" "$exe" \
      "$out/ota-e2e-valgrind" --wrapper "valgrind --error-exitcode=99 --leak-check=full \
      --errors-for-leak-kinds=definite,indirect -q"
  else
    bad "OTA end-to-end under valgrind: valgrind missing"
  fi
else
  bad "OTA end-to-end: ws_server_host missing"
fi

step "libFuzzer (clang-14): corpus replay and a bounded fuzz run"
if command -v clang-14 >/dev/null &&
  build "$out/fuzz" -DCMAKE_BUILD_TYPE=Debug -DWS_FUZZ=ON -DCMAKE_C_COMPILER=clang-14 \
    -DCMAKE_CXX_COMPILER=clang++-14; then
  for target in frame http conn ota; do
    corpus="$here/fuzz/corpus/$target"
    if "$out/fuzz/fuzz_$target" -runs=0 "$corpus" >"$out/fuzz-$target-replay.log" 2>&1; then
      ok "fuzz_$target: committed corpus ($(ls "$corpus" | wc -l) inputs) replayed"
    else
      tail -30 "$out/fuzz-$target-replay.log"
      bad "fuzz_$target: corpus replay"
    fi
    if ((fuzz_seconds > 0)); then
      work="$out/fuzz-$target-corpus"
      rm -rf "$work" && mkdir -p "$work" && cp "$corpus"/* "$work"/
      if (cd "$out" && "$out/fuzz/fuzz_$target" -max_total_time="$fuzz_seconds" -max_len=4096 "$work" \
        >"$out/fuzz-$target-run.log" 2>&1); then
        ok "fuzz_$target: ${fuzz_seconds}s fuzz run found nothing"
      else
        tail -40 "$out/fuzz-$target-run.log"
        bad "fuzz_$target: fuzz run found a crash (reproducer in $out)"
      fi
    fi
  done
else
  tail -30 "$out/fuzz.build.log" 2>/dev/null
  bad "fuzz build (clang-14, libclang-rt-14-dev)"
fi

step "32-bit RISC-V compile of the portable core (-Werror, newlib headers)"
if command -v riscv64-unknown-elf-gcc >/dev/null; then
  # Paths are matched relative to src/firmware: the checkout itself may sit under a directory named main or port.
  mapfile -t incs < <(cd "$fw" && find . -name '*.h' -not -path './main/*' -not -path './host/*' \
    -printf "-I$fw/%h\n" | sort -u)
  mapfile -t core < <(cd "$fw" && find ./components -name '*.c' -not -path '*/port/*' -not -path '*/test/*' \
    -not -path '*/tests/*' -not -path '*/fuzz/*' -printf "$fw/%p\n" | sort)
  rv_bad=()
  for c in "${core[@]}"; do
    riscv64-unknown-elf-gcc -march=rv32imc_zicsr_zifencei -mabi=ilp32 -std=gnu17 -Wall -Wextra -Werror \
      -isystem /usr/include/newlib -ffreestanding -c "$c" -o /dev/null "${incs[@]}" || rv_bad+=("$(basename "$c")")
  done
  if ((${#rv_bad[@]} == 0 && ${#core[@]} > 0)); then
    gate "RISC-V rv32imc: ${#core[@]} core files compile with -Werror"
  else
    bad "RISC-V rv32imc: ${rv_bad[*]:-no files}"
  fi
else
  bad "RISC-V gate: riscv64-unknown-elf-gcc missing"
fi

step "ESP-IDF build (scripts/idf-build.sh, target ${TARGET:-esp32c3})"
idf_log="$out/idf-build.stdout"
"$fw/scripts/idf-build.sh" 2>&1 | tee "$idf_log"
idf_rc=${PIPESTATUS[0]}
idf_skip=$(sed -n 's/^idf-build: skipped: //p' "$idf_log" | head -1)
if ((idf_rc == 0)) && [[ -n $idf_skip ]]; then
  skip "ESP-IDF build: $idf_skip"
elif ((idf_rc == 0)); then
  gate "ESP-IDF build for ${TARGET:-esp32c3}"
else
  bad "ESP-IDF build for ${TARGET:-esp32c3} (exit $idf_rc)"
fi

step "ESP32-C3 in QEMU (scripts/qemu-smoke.sh)"
smoke_log="$out/qemu-smoke.stdout"
"$fw/scripts/qemu-smoke.sh" 2>&1 | tee "$smoke_log"
smoke_rc=${PIPESTATUS[0]}
smoke_skip=$(sed -n 's/^qemu-smoke: skipped: //p' "$smoke_log" | head -1)
smoke_line=$(grep -E '^qemu-smoke: [0-9]+ passed, [0-9]+ failed' "$smoke_log" | tail -1)
if ((smoke_rc == 0)) && [[ -n $smoke_skip ]]; then
  skip "QEMU smoke test: $smoke_skip"
elif [[ -n $smoke_line ]]; then
  # Its checks are tests: each counts once, as a pass or a failure.
  passed=$((passed + $(sed -E 's/.*: ([0-9]+) passed.*/\1/' <<<"$smoke_line")))
  failed=$((failed + $(sed -E 's/.* ([0-9]+) failed.*/\1/' <<<"$smoke_line")))
  ((smoke_rc != 0)) && [[ $smoke_line == *" 0 failed"* ]] && bad "QEMU smoke test: exit $smoke_rc"
else
  bad "QEMU smoke test: no summary line (exit $smoke_rc)"
fi

echo
for s in "${skips[@]}"; do echo "skipped: $s"; done
echo "firmware: $passed passed, $failed failed, $skipped skipped"
((failed == 0))
