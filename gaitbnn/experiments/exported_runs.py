"""A trained run's arm64 flatbuffer, for the reproduction tables that give each row's size on the phone and its
aarch64 instructions per inference (the BiPedalNet ablation, the verification table)."""
from __future__ import annotations

from pathlib import Path

from gaitbnn import export, families, runs
from gaitbnn.training import fit


def exported(run_dir: Path, name: str) -> dict:
    """The arm64 export report of a run's model, written beside it as ``NAME.tflite`` and ``NAME.json`` and
    reused while newer than the model: ``size_bytes`` and, where the runtime is built, ``aarch64``."""
    path = run_dir / f"{name}.json"
    if not path.exists() or path.stat().st_mtime < (run_dir / runs.MODEL_FILE).stat().st_mtime:
        config, _ = runs.open_run(run_dir)
        dataset = families.run_dataset(config)
        return export.export(fit.load_model(run_dir), name, "arm64", run_dir, dataset.x_test[:64], config)
    return runs.read_json(path, "export report")


def instructions_cell(report: dict) -> str:
    """aarch64 instructions per inference of an export report, or why there are none."""
    aarch = report.get("aarch64") or {}
    return f"{aarch['instructions_per_inference']:,}" if aarch.get("status") == "ran" else "not run"
