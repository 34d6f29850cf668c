"""export/android/benchmark_on_phone.sh against a fake adb that records its arguments."""
import os
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).parents[1] / "export" / "android" / "benchmark_on_phone.sh"

CANNED_LOG = """STARTING!
Num threads: [1]
Graph: [/data/local/tmp/gaitbnn/bipedalnet.tflite]
Loaded model /data/local/tmp/gaitbnn/bipedalnet.tflite
count=2913 first=512 curr=160 min=150 max=512 avg=171.3 std=18
count=5943 first=170 curr=165 min=148 max=401 avg=168.2 std=11
Inference timings in us: Init: 3210, First inference: 512, Warmup (avg): 171.3, Inference (avg): 168.2
"""

FAKE_ADB = """#!/usr/bin/env bash
echo "$*" >> "$ADB_CALLS"
if [ "$1" = shell ] && [ "$2" = getprop ]; then echo "Pixel 7"; exit 0; fi
case "$2" in */lce_benchmark_model) cat "$CANNED";; esac
exit 0
"""


@pytest.fixture
def phone(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    adb = bin_dir / "adb"
    adb.write_text(FAKE_ADB)
    adb.chmod(0o755)
    (tmp_path / "canned.log").write_text(CANNED_LOG)
    env = dict(os.environ, PATH=f"{bin_dir}:{os.environ['PATH']}", ADB_CALLS=str(tmp_path / "calls"),
               CANNED=str(tmp_path / "canned.log"))
    model = tmp_path / "bipedalnet.tflite"
    model.write_bytes(b"\0\0\0\0TFL3")
    binary = tmp_path / "lce_benchmark_model"
    binary.write_bytes(b"\x7fELF")
    return env, model, binary, tmp_path / "calls"


def run(env, *args):
    return subprocess.run(["bash", str(SCRIPT), *map(str, args)], env=env, capture_output=True, text=True)


def test_pushes_runs_and_parses_the_average(phone):
    env, model, binary, calls = phone
    result = run(env, model, binary)
    assert result.returncode == 0, result.stderr
    assert "average latency 168.2 us per inference" in result.stdout and "Pixel 7" in result.stdout
    lines = calls.read_text().splitlines()
    assert f"push {binary} /data/local/tmp/gaitbnn/lce_benchmark_model" in lines
    assert f"push {model} /data/local/tmp/gaitbnn/bipedalnet.tflite" in lines
    assert ("shell /data/local/tmp/gaitbnn/lce_benchmark_model --graph=/data/local/tmp/gaitbnn/bipedalnet.tflite "
            "--num_threads=1") in lines
    assert (model.parent / "bipedalnet.phone.log").read_text() == CANNED_LOG


def test_bad_inputs(phone, tmp_path):
    env, model, binary, _ = phone
    for args, fragment in [((tmp_path / "none.tflite", binary), "no such model file"),
                           ((model, tmp_path / "none"), "no such benchmark binary"),
                           ((model, binary, 0), "THREADS must be a positive integer"),
                           ((model,), "usage:")]:
        result = run(env, *args)
        assert result.returncode != 0 and fragment in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1


def test_missing_adb(phone):
    env, model, binary, _ = phone
    env = dict(env, ADB="no-such-adb")
    result = run(env, model, binary)
    assert result.returncode != 0 and "'no-such-adb' not found" in result.stderr
