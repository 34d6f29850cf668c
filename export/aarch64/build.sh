#!/usr/bin/env bash
# Sets up the emulated aarch64 runtime (`make aarch64`): LCE v0.16.0's real aarch64 kernels on Debian sid's arm64
# TensorFlow Lite 2.14.1, run under qemu-aarch64 on an x86_64 Debian/Ubuntu machine. docs: export/README.md.
#
# usage: export/aarch64/build.sh [OUT]        (default OUT: build/aarch64 in the checkout)
#
# Inputs come from ../shared/vendor beside the checkout when it is there (GAITBNN_VENDOR names another folder),
# otherwise from their origins: Debian sid's arm64 packages through mmdebstrap, LCE's public git repository (tag
# v0.16.0), and from the Debian archive apt already uses, the orig tarballs of TF 2.14.1 and QEMU 7.2 (for
# TFLite's benchmark tool sources and the plugin header), each checked by its sha256. Each stage is built in a temporary folder
# and renamed when complete; OUT/runtime.json, which gaitbnn reads to find the runtime, is written last, after a
# check that the runner starts under qemu with LCE's optimized kernels (not its reference ones) compiled in.
# Idempotent: a second run only checks.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=${1:-$root/build/aarch64}
mkdir -p "$out" && out=$(cd "$out" && pwd)
vendor=${GAITBNN_VENDOR:-$root/../shared/vendor}
LCE_TAG=v0.16.0
LCE_REPOSITORY=https://github.com/larq/compute-engine.git
TFLITE_PACKAGE=libtensorflow-lite2.14.1
TF_SOURCE_SHA256=9dfff0627def4e999f66a80d0fb57fd0651d12d525dcd67d6c24f1e9bca72b93   # tensorflow_2.14.1+dfsg.orig.tar.xz
QEMU_SOURCE_SHA256=91aca71520040edc40b8d437aa3004dae614f58e286cf653ee8996c07af2962f    # qemu_7.2+dfsg.orig.tar.xz
QEMU_PLUGIN_H_SHA256=19f277b037d05a8bcb5069f2f81a465d177208e5903048a915c56627d4c3748e  # QEMU 7.2's include/qemu/qemu-plugin.h
SID_PACKAGES=libtensorflow-lite2.14.1,libtensorflow-lite-dev,libruy-dev,libflatbuffers-dev,libabsl-dev,libeigen3-dev,libgemmlowp-dev,libcpuinfo-dev,ml-dtypes-dev,libfft2d-dev,libfarmhash-dev,libpthreadpool-dev,libc6-dev,libstdc++6
started=$(date +%s)

say() { echo "aarch64: $*"; }
die() { echo "aarch64: $*" >&2; exit 1; }
as_root() { [ "$(id -u)" = 0 ]; }

rm -f "$out/runtime.json"  # present again only when everything below has succeeded

# --- host tools ---------------------------------------------------------------------------------------------------
need_packages() {  # COMMAND:PACKAGE ... -> installs the packages of missing commands (root) or says which
    local missing=()
    for pair in "$@"; do command -v "${pair%%:*}" >/dev/null || missing+=("${pair#*:}"); done
    [ ${#missing[@]} -eq 0 ] && return 0
    local packages
    packages=$(printf '%s\n' "${missing[@]}" | sort -u | tr '\n' ' ')
    if as_root && command -v apt-get >/dev/null; then
        say "installing Debian packages: $packages"
        { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $packages; } >"$out/apt.log" 2>&1 \
            || die "apt-get install $packages failed (log: $out/apt.log): install them, then run 'make aarch64' again"
    else
        die "missing host tools: install the Debian packages $packages (sudo apt-get install $packages), then run 'make aarch64' again"
    fi
}
need_packages qemu-aarch64:qemu-user aarch64-linux-gnu-g++:g++-aarch64-linux-gnu \
    aarch64-linux-gnu-objdump:binutils-aarch64-linux-gnu gcc:gcc make:make dpkg-deb:dpkg xz:xz-utils

debian_mirror() {  # the Debian archive apt already uses (DEBIAN_MIRROR overrides)
    if [ -n "${DEBIAN_MIRROR:-}" ]; then echo "$DEBIAN_MIRROR"; return; fi
    { grep -hs '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{print $2}'
      grep -hs '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list | awk '{print $2}'; } \
        | grep -v security | head -n 1 || true
}

from_archive() {  # POOL_PATH SHA256 FILE: a source tarball from the Debian archive apt uses, checked by its sha256
    local url
    url="$(debian_mirror)/pool/main/$1"
    command -v curl >/dev/null || need_packages curl:curl
    curl -fsSL --retry 3 -o "$3.part" "$url" || die "cannot download $url: place the file in ../shared/vendor or retry"
    echo "$2  $3.part" | sha256sum -c --quiet - || die "$url: not the expected file (sha256 differs)"
    mv "$3.part" "$3"
}

stage() {  # NAME: true when OUT/NAME is complete; otherwise a fresh OUT/NAME.tmp to build it in
    [ -f "$out/$1/.complete" ] && return 1
    rm -rf "$out/$1" "$out/$1.tmp"
    mkdir -p "$out/$1.tmp"
}
finish() { touch "$out/$1.tmp/.complete" && mv "$out/$1.tmp" "$out/$1"; }

# --- the arm64 sysroot: Debian sid's TensorFlow Lite 2.14.1 and what it needs ----------------------------------------
if stage sysroot; then
    if ls "$vendor"/debian-sid-arm64/*.deb >/dev/null 2>&1; then
        say "sysroot: unpacking $(ls "$vendor"/debian-sid-arm64/*.deb | wc -l) arm64 packages from $vendor/debian-sid-arm64"
        for deb in "$vendor"/debian-sid-arm64/*.deb; do dpkg-deb -x "$deb" "$out/sysroot.tmp"; done
    else
        need_packages mmdebstrap:mmdebstrap
        say "sysroot: Debian sid's arm64 packages through mmdebstrap ($(debian_mirror))"
        mmdebstrap --quiet --variant=extract --architectures=arm64 --aptopt='Acquire::Check-Valid-Until "false"' \
            --include="$SID_PACKAGES" sid "$out/sysroot.tmp" "$(debian_mirror)" >"$out/mmdebstrap.log" 2>&1 \
            || die "mmdebstrap of Debian sid failed (log: $out/mmdebstrap.log): place the packages in ../shared/vendor/debian-sid-arm64 or retry"
    fi
    [ -e "$out/sysroot.tmp/usr/lib/aarch64-linux-gnu/libtensorflow-lite.so.2.14.1" ] \
        || die "sysroot: no libtensorflow-lite.so.2.14.1 for arm64 ($TFLITE_PACKAGE): Debian sid may have moved on; use ../shared/vendor"
    [ -e "$out/sysroot.tmp/lib" ] || ln -s usr/lib "$out/sysroot.tmp/lib"  # the dynamic loader is looked up in /lib
    finish sysroot
fi

# --- LCE v0.16.0's source ---------------------------------------------------------------------------------------------
if stage src/lce; then
    if [ -f "$vendor/larq-compute-engine-0.16.0.tar.gz" ]; then
        say "LCE $LCE_TAG source from $vendor"
        tar xzf "$vendor/larq-compute-engine-0.16.0.tar.gz" -C "$out/src/lce.tmp" --strip-components=1
    else
        command -v git >/dev/null || need_packages git:git
        say "LCE $LCE_TAG source: git clone $LCE_REPOSITORY"
        git clone --quiet --depth 1 --branch "$LCE_TAG" "$LCE_REPOSITORY" "$out/src/lce.tmp" 2>"$out/git.log" \
            || die "git clone of $LCE_REPOSITORY failed ($(tail -n 1 "$out/git.log")): place larq-compute-engine-0.16.0.tar.gz in ../shared/vendor or retry"
    fi
    [ -f "$out/src/lce.tmp/larq_compute_engine/tflite/kernels/bconv2d.cc" ] || die "LCE source: no bconv2d.cc"
    finish src/lce
fi

# --- TensorFlow 2.14.1's tool sources (lce_benchmark_model builds on TFLite's benchmark tool) --------------------------
TF_PARTS=(tensorflow/lite/tools/'*' tensorflow/lite/profiling/'*' tensorflow/tsl/util/'*' tensorflow/lite/kernels/internal/utils/'*'
          tensorflow/core/util/'stat*' tensorflow/lite/schema/schema_utils.h)
if stage src/tensorflow; then
    archive="$vendor/tensorflow_2.14.1+dfsg.orig.tar.xz"
    if [ ! -f "$archive" ]; then
        say "TensorFlow 2.14.1 source (Debian's orig tarball, 56 MB) from the Debian archive"
        archive="$out/src/tensorflow.tmp/tensorflow_2.14.1+dfsg.orig.tar.xz"
        from_archive t/tensorflow/tensorflow_2.14.1+dfsg.orig.tar.xz "$TF_SOURCE_SHA256" "$archive"
    else
        say "TensorFlow 2.14.1 tool sources from $vendor"
    fi
    tar xJf "$archive" -C "$out/src/tensorflow.tmp" --strip-components=1 --wildcards \
        $(printf 'tensorflow-2.14.1/%s ' "${TF_PARTS[@]}")
    rm -f "$out"/src/tensorflow.tmp/tensorflow_*
    finish src/tensorflow
fi

# --- QEMU 7.2's plugin header (Debian 12's qemu-user loads plugins but does not ship it) ------------------------------
if stage src/qemu; then
    if [ -f "$vendor/qemu-7.2/qemu-plugin.h" ]; then
        cp "$vendor/qemu-7.2/qemu-plugin.h" "$out/src/qemu.tmp/"
    else
        say "qemu-plugin.h from QEMU 7.2's source (Debian's orig tarball, 24 MB) from the Debian archive"
        from_archive q/qemu/qemu_7.2+dfsg.orig.tar.xz "$QEMU_SOURCE_SHA256" "$out/src/qemu.tmp/qemu.tar.xz"
        tar xJf "$out/src/qemu.tmp/qemu.tar.xz" -C "$out/src/qemu.tmp" --strip-components=3 --wildcards \
            '*/include/qemu/qemu-plugin.h'
        rm -f "$out/src/qemu.tmp/qemu.tar.xz"
    fi
    echo "$QEMU_PLUGIN_H_SHA256  $out/src/qemu.tmp/qemu-plugin.h" | sha256sum -c --quiet - \
        || die "qemu-plugin.h is not QEMU 7.2's (sha256 differs)"
    finish src/qemu
fi

# --- headers: only the sysroot's library headers (its libc and libstdc++ headers are newer than the cross compiler's)
rm -rf "$out/include" && mkdir -p "$out/include"
for h in tensorflow ruy absl flatbuffers eigen3 gemmlowp ml_dtypes fft2d cpuinfo.h pthreadpool.h farmhash.h; do
    [ -e "$out/sysroot/usr/include/$h" ] || die "sysroot: no usr/include/$h: remove $out/sysroot and run 'make aarch64' again"
    ln -s "$out/sysroot/usr/include/$h" "$out/include/$h"
done
mkdir -p "$out/include/third_party" && ln -s "$out/sysroot/usr/include/eigen3" "$out/include/third_party/eigen3"

# --- compile: the runner, lce_benchmark_model, the plugin; the kernel check ------------------------------------------
say "compiling (LCE's kernels, gaitbnn_runner, lce_benchmark_model, the QEMU plugin; about 2 minutes the first time)"
make --no-print-directory -s -f "$here/runtime.mk" OUT="$out" QEMU_INCLUDE="$out/src/qemu" -j"$(nproc)" \
    >"$out/compile.log" 2>&1 || { tail -n 20 "$out/compile.log" >&2; die "compiling failed (log: $out/compile.log)"; }

# --- the runner starts under qemu (dynamic loading from the sysroot works), with LCE's optimized kernels -------------
status=0
message=$(qemu-aarch64 -L "$out/sysroot" "$out/gaitbnn_runner" 2>&1) || status=$?
[ "$status" = 2 ] && [[ "$message" == *usage* ]] \
    || die "the runner does not start under qemu-aarch64 (exit $status: $message)"
kernel=$(qemu-aarch64 -L "$out/sysroot" "$out/gaitbnn_runner" --check-kernels 2>&1) \
    || die "$kernel: the build is not the one a phone runs; fix export/aarch64/runtime.mk's flags"
say "$kernel"

tmp=$(mktemp "$out/runtime.json.XXXXXX")
cat >"$tmp" <<EOF
{
  "qemu": "$(command -v qemu-aarch64)",
  "qemu_version": "$(qemu-aarch64 --version | head -n 1)",
  "sysroot": "$out/sysroot",
  "runner": "$out/gaitbnn_runner",
  "lce_benchmark_model": "$out/lce_benchmark_model",
  "plugin": "$out/count_instructions.so",
  "lce": "$LCE_TAG",
  "tflite": "$TFLITE_PACKAGE ($(basename "$(ls "$vendor"/debian-sid-arm64/libtensorflow-lite2.14.1_*.deb 2>/dev/null || echo Debian sid)"))",
  "compiler": "$(aarch64-linux-gnu-g++ --version | head -n 1)",
  "bconv2d_kernel": "$kernel"
}
EOF
mv "$tmp" "$out/runtime.json"
say "runtime ready in $out ($(( $(date +%s) - started )) s): gaitbnn benchmark FILE.tflite --aarch64; gaitbnn bench --aarch64"
