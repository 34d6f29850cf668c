"""Latency of flatbuffers in the interpreter on this machine, measured side by side.

LCE's optimized binary kernels target ARM64; on x86 its interpreter runs them
slower than float, so these figures say nothing about a phone: the ARM64 cost
figure is ``aarch64_bench`` (instructions on LCE's aarch64 kernels). Every figure
is labelled with the machine it was measured on; phone figures come from
``export/android/benchmark_on_phone.sh``.
Timings are wall-clock times of one ``predict`` call on one input (Python call
overhead included, the same for both targets); the flatbuffers being compared
are timed in alternation, so both see the same machine load.
"""
from __future__ import annotations

import platform
import time
from typing import TYPE_CHECKING

import numpy as np

from gaitbnn import export, families, models, runs
from gaitbnn.errors import InputError
from gaitbnn.reports import write_table

if TYPE_CHECKING:
    from pathlib import Path

    import tensorflow as tf

def machine() -> str:
    return f"{platform.machine()} ({platform.system()}, {platform.processor() or 'cpu'})"


def time_flatbuffers(flatbuffers: dict, threads: int = 1, runs_count: int = 200, warmup: int = 20,
                     seed: int = 0) -> dict:
    """Median and p90 latency (us) per inference for each of ``flatbuffers`` (label -> bytes), interleaved."""
    import larq_compute_engine as lce

    interpreters = {label: lce.testing.Interpreter(fb, num_threads=threads) for label, fb in flatbuffers.items()}
    inputs = {}
    for label, interpreter in interpreters.items():
        shape = interpreter.input_shapes[0]
        inputs[label] = np.random.default_rng(seed).normal(size=(1, *shape[1:])).astype(np.float32)
    samples = {label: [] for label in interpreters}
    for step in range(warmup + runs_count):
        for label, interpreter in interpreters.items():
            start = time.perf_counter()
            interpreter.predict(inputs[label])
            elapsed = time.perf_counter() - start
            if step >= warmup:
                samples[label].append(elapsed * 1e6)
    return {label: {"median_us": float(np.median(s)), "p90_us": float(np.percentile(s, 90)), "runs": len(s),
                    "threads": threads} for label, s in samples.items()}


ON_DEVICE_PAIRS = 400  # MM'19 Sec. 5.4: LeNet4 trains on 400 samples in under 5 s per epoch on a Pixel 2
ON_DEVICE_BATCH = 20


def time_training_epochs(flatbuffer: bytes, pairs: int = ON_DEVICE_PAIRS, batch_size: int = ON_DEVICE_BATCH,
                         epochs: int = 3, seed: int = 0) -> dict:
    """Seconds per epoch of the ``train`` signature of a trainable flatbuffer (``gaitbnn export --target train``):
    ``pairs`` random pairs in batches of ``batch_size``, one warm-up batch, the median over ``epochs`` epochs."""
    import tensorflow as tf

    interpreter = tf.lite.Interpreter(model_content=flatbuffer)
    if "train" not in interpreter.get_signature_list():
        raise InputError("the flatbuffer has no 'train' signature: export one with 'gaitbnn export RUN --target "
                         "train' (lenet4, vgg8, mobilenetv2)")
    train = interpreter.get_signature_runner("train")
    shape = [batch_size, *train.get_input_details()["first"]["shape"][1:]]
    rng = np.random.default_rng(seed)
    first, second = (rng.normal(size=shape).astype(np.float32) for _ in range(2))
    label = (np.arange(batch_size) % 2).astype(np.float32)
    train(first=first, second=second, label=label)  # warm-up: allocation
    seconds = []
    for _ in range(epochs):
        start = time.perf_counter()
        for _ in range(pairs // batch_size):
            train(first=first, second=second, label=label)
        seconds.append(time.perf_counter() - start)
    return {"seconds_per_epoch": float(np.median(seconds)), "pairs": pairs, "batch_size": batch_size,
            "epochs_timed": epochs, "machine": machine()}


def compare(model: tf.keras.Model, name: str, x: np.ndarray, threads: int = 1, runs_count: int = 200) -> dict:
    """Export ``model`` for both targets and time them in the same run."""
    row = {"model": name}
    flatbuffers = {}
    expected = export.keras_outputs(model, x)
    for target in export.TARGETS:
        flatbuffer, _, measured = export.exact_phone_file(model, name, target, None, x, expected)  # export's file
        result = export.report(model, name, target, flatbuffer, x, measured=measured)
        export.check_parity(result)
        flatbuffers[target] = flatbuffer
        row[target] = result
    timing = time_flatbuffers(flatbuffers, threads=threads, runs_count=runs_count)
    for target in export.TARGETS:
        row[target]["latency"] = timing[target]
    return row


def bench_row(row: dict) -> dict:
    arm, flt = row["arm64"], row["float"]
    return {
        "model": row["model"],
        "size arm64 (KiB)": round(arm["size_bytes"] / 1024, 1),
        "size float (KiB)": round(flt["size_bytes"] / 1024, 1),
        "size ratio (float / arm64)": round(flt["size_bytes"] / arm["size_bytes"], 1),
        "latency arm64 (us)": round(arm["latency"]["median_us"], 1),
        "latency float (us)": round(flt["latency"]["median_us"], 1),
        "latency ratio (arm64 / float)": round(arm["latency"]["median_us"] / flt["latency"]["median_us"], 2),
        "binary weight fraction": round(arm["binary_weight_fraction"], 4),
        "parity max |diff|": f"{arm['parity']['max_abs_diff']:.1e}",
    }


def bench(out: str | Path, names: list | None = None, threads: int = 1, runs_count: int = 200, seed: int = 0) -> tuple:
    """Compare both targets for every registered model; write bench.csv, bench.md and bench.json under ``out``."""
    import pandas as pd

    out = runs.writable_dir(out)
    rows, raw = [], []
    for name in names or models.names():
        print(f"[bench] {name}: exporting arm64 and float, timing {runs_count} runs each ...", flush=True)
        model, x = families.fresh_model(name, seed)
        row = compare(model, name, x, threads=threads, runs_count=runs_count)
        raw.append(row)
        rows.append(bench_row(row))
    frame = pd.DataFrame(rows)
    note = (f"Measured on {machine()} in the LCE interpreter, {threads} thread(s), median of {runs_count} runs, "
            "fresh weights. LCE's binary kernels are optimized for ARM64: on x86 they run slower than float, and "
            "these latencies say nothing about a phone. The ARM64 figure: 'gaitbnn bench --aarch64' (instructions "
            "on LCE's aarch64 kernels); phone latencies: export/android/benchmark_on_phone.sh.")
    text = write_table(frame, out, "bench", f"Flatbuffers, arm64 vs float, on {platform.machine()}", note)
    runs.write_json(out / "bench.json", {"machine": machine(), "threads": threads, "runs": runs_count, "rows": raw})
    return text, frame
