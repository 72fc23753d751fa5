#!/usr/bin/env bash
# Builds the firmware with the ESP-IDF that IDF_PATH names:
#   idf.py -B BUILD_DIR set-target ${TARGET:-esp32c3} build
# TARGET: esp32, esp32s2, esp32s3, esp32c3 (default).
# PROFILE: empty (the device: sdkconfig.defaults) or NAME, which adds sdkconfig.NAME on top of sdkconfig.defaults
#   (SDKCONFIG_DEFAULTS="sdkconfig.defaults;sdkconfig.NAME"); PROFILE=qemu is the emulator build (OpenCores Ethernet
#   instead of Wi-Fi), which scripts/qemu-smoke.sh boots in Espressif's QEMU.
# BUILD_DIR: default build/firmware-idf-TARGET (-PROFILE) at the repository root, so src/firmware stays clean;
#   `wsctl flash --firmware BUILD_DIR` writes the result.
# APP_VERSION: the app's version (PROJECT_VER, esp_app_desc_t.version) instead of CMakeLists.txt's 1.0.0; a build
#   directory keeps the version it was configured with (give each version its own BUILD_DIR).
# The configuration is made afresh (set-target, from the defaults files) when the build directory has none, or one
# for another target or profile, or one older than a defaults file; otherwise the build is incremental.
# Without IDF_PATH it prints "idf-build: skipped: IDF_PATH is not set" and exits 0: run-tests.sh (and so ./test.sh)
# counts that as skipped, never as passed. Exit 1 when the build fails or IDF_PATH is not an ESP-IDF.
# Sources $IDF_PATH/export.sh unless idf.py is already on PATH (an already exported shell).
set -uo pipefail
here=$(cd "$(dirname "$(readlink -f "$0")")" && pwd)
fw=$(cd "$here/.." && pwd)
root=$(cd "$fw/../.." && pwd)
target=${TARGET:-esp32c3}
profile=${PROFILE:-}

if [[ -z ${IDF_PATH:-} ]]; then
  echo "idf-build: skipped: IDF_PATH is not set (install ESP-IDF v5 and set IDF_PATH to build the firmware image)"
  exit 0
fi
if [[ ! -f $IDF_PATH/tools/idf.py ]]; then
  echo "idf-build: FAIL: IDF_PATH=$IDF_PATH is not an ESP-IDF checkout (no tools/idf.py)"
  exit 1
fi
defaults=("$fw/sdkconfig.defaults")
if [[ -n $profile ]]; then
  if [[ ! -f $fw/sdkconfig.$profile ]]; then
    echo "idf-build: FAIL: PROFILE=$profile: no $fw/sdkconfig.$profile"
    exit 1
  fi
  defaults+=("$fw/sdkconfig.$profile")
fi
if ! command -v idf.py >/dev/null; then
  # export.sh checks the Python environment and the toolchain and puts them on PATH; its own output is noise here.
  # shellcheck disable=SC1091
  if ! . "$IDF_PATH/export.sh" >/dev/null 2>&1; then
    echo "idf-build: FAIL: . \$IDF_PATH/export.sh failed (run \$IDF_PATH/install.sh $target first)"
    exit 1
  fi
fi
build_dir=${BUILD_DIR:-$root/build/firmware-idf-$target${profile:+-$profile}}
mkdir -p "$(dirname "$build_dir")"
log="$build_dir.log"
stamp="$build_dir/wsctl-build-profile" # "TARGET PROFILE VERSION" of the configuration in the build directory
app_version=${APP_VERSION:-}
fresh=1
if [[ -f $build_dir/sdkconfig && -f $stamp && "$(cat "$stamp")" == "$target ${profile:--} ${app_version:--}" ]]; then
  fresh=0
  for f in "${defaults[@]}" "$fw"/sdkconfig.defaults.*; do
    [[ -f $f && $f -nt $build_dir/sdkconfig ]] && fresh=1
  done
fi
joined=$(IFS=';' && echo "${defaults[*]}")
how=incremental
((fresh)) && how="fresh configuration"
echo "idf-build: ESP-IDF $(cd "$IDF_PATH" && git describe --tags 2>/dev/null || echo '(version unknown)')," \
  "target $target${profile:+, profile $profile}${app_version:+, app version $app_version}, into $build_dir ($how)"
# The sdkconfig lives in the build directory, never in the sources; set-target makes it from the defaults files.
args=(-B "$build_dir" -D SDKCONFIG="$build_dir/sdkconfig" -D SDKCONFIG_DEFAULTS="$joined")
[[ -n $app_version ]] && args+=(-D PROJECT_VER="$app_version")
if ((fresh)); then
  rm -f "$stamp"
  run=(idf.py "${args[@]}" set-target "$target" build)
else
  run=(idf.py "${args[@]}" build)
fi
(cd "$fw" && "${run[@]}") >"$log" 2>&1
rc=$?
# Configured (whether or not the build went through): the next run builds on this configuration, incrementally.
[[ -f $build_dir/sdkconfig ]] && echo "$target ${profile:--} ${app_version:--}" >"$stamp"
if ((rc == 0)); then
  echo "idf-build: ok: $build_dir/flasher_args.json (log: $log)"
  exit 0
fi
tail -40 "$log"
echo "idf-build: FAIL: idf.py build for $target${profile:+ (profile $profile)} (log: $log)"
exit 1
