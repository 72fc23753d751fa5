#!/usr/bin/env bash
# Builds the firmware with the ESP-IDF that IDF_PATH names:
#   idf.py -B BUILD_DIR set-target ${TARGET:-esp32c3} build
# TARGET: esp32, esp32s2, esp32s3, esp32c3 (default). BUILD_DIR: default build/firmware-idf-TARGET at the repository
# root, so src/firmware stays clean; `wsctl flash --firmware BUILD_DIR` writes the result.
# Without IDF_PATH it prints "idf-build: skipped: IDF_PATH is not set" and exits 0: run-tests.sh (and so ./test.sh)
# counts that as skipped, never as passed. Exit 1 when the build fails or IDF_PATH is not an ESP-IDF.
# Sources $IDF_PATH/export.sh unless idf.py is already on PATH (an already exported shell).
set -uo pipefail
here=$(cd "$(dirname "$(readlink -f "$0")")" && pwd)
fw=$(cd "$here/.." && pwd)
root=$(cd "$fw/../.." && pwd)
target=${TARGET:-esp32c3}

if [[ -z ${IDF_PATH:-} ]]; then
  echo "idf-build: skipped: IDF_PATH is not set (install ESP-IDF v5 and set IDF_PATH to build the firmware image)"
  exit 0
fi
if [[ ! -f $IDF_PATH/tools/idf.py ]]; then
  echo "idf-build: FAIL: IDF_PATH=$IDF_PATH is not an ESP-IDF checkout (no tools/idf.py)"
  exit 1
fi
if ! command -v idf.py >/dev/null; then
  # export.sh checks the Python environment and the toolchain and puts them on PATH; its own output is noise here.
  # shellcheck disable=SC1091
  if ! . "$IDF_PATH/export.sh" >/dev/null 2>&1; then
    echo "idf-build: FAIL: . \$IDF_PATH/export.sh failed (run \$IDF_PATH/install.sh $target first)"
    exit 1
  fi
fi
build_dir=${BUILD_DIR:-$root/build/firmware-idf-$target}
mkdir -p "$(dirname "$build_dir")"
log="$build_dir.log"
echo "idf-build: ESP-IDF $(cd "$IDF_PATH" && git describe --tags 2>/dev/null || echo '(version unknown)'), target $target, into $build_dir"
# set-target regenerates sdkconfig from sdkconfig.defaults; keep it in the build directory, not in the sources.
if (cd "$fw" && idf.py -B "$build_dir" -D SDKCONFIG="$build_dir/sdkconfig" set-target "$target" build) >"$log" 2>&1; then
  echo "idf-build: ok: $build_dir/flasher_args.json (log: $log)"
  exit 0
fi
tail -40 "$log"
echo "idf-build: FAIL: idf.py build for $target (log: $log)"
exit 1
