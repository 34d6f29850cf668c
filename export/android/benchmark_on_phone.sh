#!/usr/bin/env bash
# Time a gaitbnn flatbuffer on an ARM64 Android phone with LCE's benchmark binary.
#
# usage: export/android/benchmark_on_phone.sh MODEL.tflite LCE_BENCHMARK_MODEL [THREADS]
#
#   MODEL.tflite          written by `gaitbnn export RUN_DIR --target arm64 --out DIR`
#   LCE_BENCHMARK_MODEL   lce_benchmark_model built for android_arm64 (see export/README.md)
#   THREADS               default 1
#
# Needs `adb` on PATH and one phone connected with USB debugging on (`adb devices`).
# Prints the phone's average latency per inference; the full log is kept beside
# the model as MODEL.phone.log. Environment: ADB (default adb), PHONE_DIR
# (default /data/local/tmp/gaitbnn).
set -euo pipefail

die() { echo "benchmark_on_phone: $*" >&2; exit 1; }

[ $# -ge 2 ] && [ $# -le 3 ] || die "usage: $0 MODEL.tflite LCE_BENCHMARK_MODEL [THREADS]"
model=$1
binary=$2
threads=${3:-1}
adb=${ADB:-adb}
phone_dir=${PHONE_DIR:-/data/local/tmp/gaitbnn}

[ -f "$model" ] || die "$model: no such model file: export one with 'gaitbnn export RUN_DIR --target arm64 --out DIR'"
[ -f "$binary" ] || die "$binary: no such benchmark binary: build lce_benchmark_model for android_arm64 (export/README.md)"
[[ "$threads" =~ ^[1-9][0-9]*$ ]] || die "THREADS must be a positive integer, got '$threads'"
command -v "$adb" >/dev/null || die "'$adb' not found: install Android platform-tools and put adb on PATH"

name=$(basename "$model")
log="${model%.tflite}.phone.log"

"$adb" shell mkdir -p "$phone_dir"
"$adb" push "$binary" "$phone_dir/lce_benchmark_model" >/dev/null
"$adb" push "$model" "$phone_dir/$name" >/dev/null
"$adb" shell chmod +x "$phone_dir/lce_benchmark_model"
device=$("$adb" shell getprop ro.product.model 2>/dev/null | tr -d '\r' || true)

tmp=$(mktemp "${log}.XXXXXX")
trap 'rm -f "$tmp"' EXIT
"$adb" shell "$phone_dir/lce_benchmark_model" "--graph=$phone_dir/$name" "--num_threads=$threads" | tr -d '\r' > "$tmp" \
    || die "the benchmark failed on the phone; its output is in $tmp"
mv "$tmp" "$log"
trap - EXIT

# TFLite's benchmark ends with: "Inference timings in us: Init: ..., Inference (avg): 168.2"
avg=$(sed -n 's/.*Inference (avg): *\([0-9.e+]*\).*/\1/p' "$log" | tail -n 1)
[ -n "$avg" ] || avg=$(sed -n 's/.*[^a-z]avg=\([0-9.e+]*\).*/\1/p' "$log" | tail -n 1)
[ -n "$avg" ] || die "no average latency in the benchmark output ($log)"
echo "$name on ${device:-the phone}: average latency $avg us per inference ($threads thread(s)); log: $log"
