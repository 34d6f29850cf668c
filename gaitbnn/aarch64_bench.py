"""The ARM64 cost of every model: its arm64 and float flatbuffers on LCE's aarch64 kernels, side by side.

The figure is guest aarch64 instructions per inference (``gaitbnn.aarch64``): deterministic, from the very
kernels a phone runs, but not time. Each model is exported with fresh seeded weights for both targets and
run on the same raw inputs as the x86 parity check (``families.fresh_model``); its outputs there are compared
with Keras's and with LCE's x86 interpreter's. Ratios: float target / arm64 target, and float IDNet (the
network a gait app would otherwise ship) / arm64 target.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from gaitbnn import aarch64, export, families, models, rewrites, runs
from gaitbnn import flatbuffer as tflite_file
from gaitbnn.progress import Progress
from gaitbnn.reports import plot_stacked_bars, write_table

REFERENCE = "idnet"  # float IDNet, BiPedalNet Table 2's float baseline


def _target_row(model, name: str, target: str, x: np.ndarray, expected: np.ndarray, runtime, threads: int,
                budget: float) -> dict:
    flatbuffer, _, _ = export.exact_phone_file(model, name, target, None, x, expected)  # the file export writes
    x86 = export.run_flatbuffer(flatbuffer, x).reshape(expected.shape)
    result = aarch64.run(flatbuffer, x, threads=threads, runtime=runtime, budget=budget)
    ran = len(result.outputs[0])
    return {
        "size_bytes": len(flatbuffer),
        "ops_in_graph": tflite_file.op_counts(flatbuffer),
        "x86_parity": export.compare_outputs(expected, x86),
        "aarch64_parity": export.compare_outputs(expected[:ran], result.outputs[0]),
        "aarch64_vs_x86": export.compare_outputs(x86[:ran], result.outputs[0]),
        "instructions": round(result.instructions_per_inference),
        "instructions_spread": [int(min(result.instructions)), int(max(result.instructions))],
        "ops": result.instructions_by_op_type(),
        "qemu_seconds": round(result.qemu_seconds, 2),
    }


def measure(name: str, runtime: aarch64.Runtime, seed: int = 0, threads: int = 1,
            budget: float = aarch64.DEFAULT_BUDGET) -> dict:
    """Both targets of registered model ``name`` on the aarch64 runtime (fresh seeded weights)."""
    model, x = families.fresh_model(name, seed)
    expected = export.keras_outputs(model, x)
    targets = {t: _target_row(model, name, t, x, expected, runtime, threads, budget) for t in export.TARGETS}
    arm, flt = targets["arm64"], targets["float"]
    return {
        "rewrite_gains": rewrite_gains(model, name, x[:1], runtime, arm["instructions"]),
        "model": name,
        "arm64_instructions": arm["instructions"],
        "float_instructions": flt["instructions"],
        "float_over_arm64": flt["instructions"] / arm["instructions"],
        "aarch64_max_abs_diff": arm["aarch64_parity"]["max_abs_diff"],
        "aarch64_argmax_agreement": arm["aarch64_parity"]["argmax_agreement"],
        "float_aarch64_max_abs_diff": flt["aarch64_parity"]["max_abs_diff"],
        "float_aarch64_argmax_agreement": flt["aarch64_parity"]["argmax_agreement"],
        "arm64_aarch64_vs_x86_max_abs_diff": arm["aarch64_vs_x86"]["max_abs_diff"],
        "inputs_compared": arm["aarch64_parity"]["inputs_compared"],
        "ops": {t: targets[t]["ops"] for t in targets},
        "targets": targets,
    }


def rewrite_gains(model, name: str, x: np.ndarray, runtime, after: int) -> list:
    """Instructions of the arm64 file without rewrites, then with each rewrite that applies added in turn
    (``rewrites.REWRITES`` order; the last line is the exported file's ``after``)."""
    applicable = rewrites.applied(model)
    used = [r for r, layers in applicable.items() if layers]
    lines, counted = [], None
    for k in range(len(used) + 1):
        if k == len(used):
            instructions = after
        else:
            flatbuffer = export.phone_file(model, name, "arm64", rewrite=tuple(used[:k]))
            instructions = round(aarch64.run(flatbuffer, x, runtime=runtime).instructions_per_inference)
        lines.append({"rewrite": "none" if k == 0 else f"+ {used[k - 1]}",
                      "layers": applicable[used[k - 1]] if k else [], "instructions": instructions,
            "gain": None if counted is None else counted - instructions})
        counted = instructions
    return lines


def table_row(row: dict, reference_instructions: float) -> dict:
    """One line of the people's table (the ratio against float IDNet for the gait models only)."""
    arm, flt = row["targets"]["arm64"], row["targets"]["float"]
    gait = models.get_spec(row["model"]).family == models.get_spec(REFERENCE).family  # IDNet's alternatives only
    against = f"{reference_instructions / row['arm64_instructions']:.2f}" if gait else "-"
    return {
        "model": row["model"],
        "arm64 KiB": round(arm["size_bytes"] / 1024, 1),
        "float KiB": round(flt["size_bytes"] / 1024, 1),
        "arm64 instructions, no rewrite": f"{row['rewrite_gains'][0]['instructions']:,}",
        "arm64 instructions": f"{row['arm64_instructions']:,}",
        "float instructions": f"{row['float_instructions']:,}",
        "float / arm64": f"{row['float_over_arm64']:.2f}",
        "float IDNet / arm64": against,
        "arm64 on aarch64 vs Keras, max |diff|": f"{row['aarch64_max_abs_diff']:.1e}",
        "argmax agreement": f"{row['aarch64_argmax_agreement']:.3f}",
        "float on aarch64 vs Keras, max |diff|": f"{row['float_aarch64_max_abs_diff']:.1e}",
        "arm64: aarch64 vs x86 interpreter, max |diff|": f"{row['arm64_aarch64_vs_x86_max_abs_diff']:.1e}",
        "inputs": row["inputs_compared"],
    }


def bench(out: str | Path, names: list | None = None, seed: int = 0, threads: int = 1,
          budget: float = aarch64.DEFAULT_BUDGET, echo=print) -> tuple:
    """Every model (or ``names``) on the aarch64 runtime: ``bench_aarch64.{json,csv,md,png}`` under ``out``.
    Returns (markdown, rows)."""
    import pandas as pd

    runtime = aarch64.find()
    out = runs.writable_dir(out)
    names = list(names or models.names())
    progress = Progress(len(names), "[bench --aarch64]", echo=echo, every=0)
    rows = []
    for done, name in enumerate(names):
        echo(f"[bench --aarch64] {name}: arm64 and float flatbuffers on LCE's aarch64 kernels under qemu ...",
             flush=True)
        rows.append(measure(name, runtime, seed, threads, budget))
        progress.step(done + 1)
    reference = next((r for r in rows if r["model"] == REFERENCE), None) or measure(REFERENCE, runtime, seed, threads,
                                                                                   budget)
    reference_instructions = reference["float_instructions"]
    for row in rows:
        row["float_idnet_over_arm64"] = reference_instructions / row["arm64_instructions"]
    frame = pd.DataFrame([table_row(r, reference_instructions) for r in rows])
    note = (f"{aarch64.COST_FIGURE.capitalize()}: LCE {runtime.facts.get('lce')} on {runtime.facts.get('tflite')}, "
            f"{threads} thread(s), compiled for aarch64 and run under {runtime.facts.get('qemu_version')}; mean of "
            "one invoke per input after a warm-up invoke. Fresh seeded weights; outputs compared on the inputs of "
            "the x86 parity check (fewer for the largest models: 'inputs'). Float IDNet: "
            f"{reference_instructions:,} instructions. Instructions are not time: no phone was measured.")
    text = write_table(frame, out, "bench_aarch64", "Instructions per inference on LCE's aarch64 kernels", note)
    gains = pd.DataFrame([{"model": r["model"], "rewrite": line["rewrite"], "layers": ", ".join(line["layers"]),
                           "arm64 instructions": f"{line['instructions']:,}",
                           "gain": "-" if line["gain"] is None else f"{line['gain']:,}"}
                          for r in rows for line in r["rewrite_gains"]])
    text += "\n" + write_table(gains, out, "bench_aarch64_rewrites", "What each export rewrite saves (arm64 target)",
                               "Instructions per inference of the arm64 file with no rewrite, then with each rewrite "
                               "that applies added in turn (gaitbnn/rewrites.py); outputs are unchanged by each.")
    runs.write_json(out / "bench_aarch64.json", rows)
    plot_stacked_bars({r["model"]: r["ops"] for r in rows}, out / "bench_aarch64.png",
                      "Guest aarch64 instructions per inference by op type (arm64 and float targets)")
    return text, rows


def describe_file(path: str | Path, threads: int = 1, runs_count: int = 10, seed: int = 0) -> dict:
    """``gaitbnn benchmark FILE --aarch64``: any LCE flatbuffer on the aarch64 runtime, on seeded inputs:
    instructions per inference (total and per op type), lce_benchmark_model's op profile, qemu's time."""
    flatbuffer = tflite_file.read(path)
    runtime = aarch64.find()
    rng = np.random.default_rng(seed)
    inputs = [np.round(rng.normal(size=(8, *shape[1:])) * 8) / 8 if dtype.kind == "f"
              else rng.integers(0, 2, size=(8, *shape[1:])).astype(dtype)
              for shape, dtype in tflite_file.input_tensors(flatbuffer)]
    result = aarch64.run(flatbuffer, inputs, threads=threads, runtime=runtime, label=str(path))
    tool = aarch64.benchmark_tool(path, threads, runs_count, runtime)
    return {
        "file": str(path),
        "instructions_per_inference": round(result.instructions_per_inference),
        "instructions_by_op_type": result.instructions_by_op_type(),
        "ops": result.ops,
        "cost_figure": aarch64.COST_FIGURE,
        "lce_benchmark_model_average_us": tool.average_us,
        "lce_benchmark_model_op_profile": tool.op_profile,
        "qemu_seconds": round(result.qemu_seconds, 2),
        "time_note": "lce_benchmark_model's times and qemu's seconds are emulated time: not a speed figure",
        "threads": threads,
        "runtime": runtime.facts,
    }
