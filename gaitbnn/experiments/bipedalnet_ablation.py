"""BiPedalNet's gap to float IDNet, closed one training ingredient at a time (README "Closing the gap").

Float IDNet is trained first by the paper's recipe (the reference, and the teacher of the distillation step),
then BiPedalNet once per step of ``models.recipes.GAIT_ABLATION``: each step adds its ingredients to the kept
steps before it. Each row gives test accuracy, the gap to float IDNet, training time and the size of the
arm64 flatbuffer, which no training ingredient may change (BiPedalNet stays at most 48 KiB).
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from gaitbnn import data as datasets
from gaitbnn import families, runs
from gaitbnn.experiments import Report, load_config, merge_settings
from gaitbnn.experiments.bipedalnet import train_model
from gaitbnn.models import recipes
from gaitbnn.progress import Progress
from gaitbnn.reports import ReportWriter
from gaitbnn.training import fit

STUDENT = "bipedalnet"
REFERENCE = "idnet"
SIZE_LIMIT_BYTES = 48 * 1024


def steps() -> list:
    """(label, recipe, kept) per ablation step: each recipe holds the kept ingredients before it and its own."""
    kept, out = {}, []
    for label, ingredients, keep in recipes.GAIT_ABLATION:
        out.append((label, {"name": f"step{len(out)}", **kept, **ingredients}, keep))
        if keep:
            kept.update(ingredients)
    return out


def flatbuffer_bytes(run_dir: Path) -> int:
    """Size of the arm64 (LCE) flatbuffer of a run's model, written beside it as ``bipedalnet.tflite`` (with its
    report) and reused while it is newer than the model."""
    from gaitbnn import export

    path = run_dir / f"{STUDENT}.tflite"
    if not path.exists() or path.stat().st_mtime < (run_dir / runs.MODEL_FILE).stat().st_mtime:
        config, _ = runs.open_run(run_dir)
        dataset = families.run_dataset(config)
        export.export(fit.load_model(run_dir), STUDENT, "arm64", run_dir, dataset.x_test[:64], config)
    return path.stat().st_size


def reproduce(settings: dict) -> Report:
    """Train the reference and one BiPedalNet per step under ``settings["out"]``; print and write the table."""
    setting = merge_settings(load_config("bipedalnet_table2"), settings.get("data", "synthetic"), settings,
                             recipes.BIPEDALNET)
    out = runs.writable_dir(setting["out"])
    setting["out"] = out
    writer = ReportWriter(out)
    plan = steps()
    timer = Progress(len(plan) + 1, "[bipedalnet-ablation] runs", every=0)
    reference = train_model(REFERENCE, setting, recipes.gait_recipe("paper"), out / REFERENCE,
                            f"{REFERENCE}, reference and teacher, paper recipe")
    timer.step(1)
    rows, results = [], []
    for i, (label, recipe, kept) in enumerate(plan):
        run_dir = out / f"step{i}-{STUDENT}"
        metrics = train_model(STUDENT, setting, recipe, run_dir, f"{STUDENT}, step {i}: {label}")
        size = flatbuffer_bytes(run_dir)
        results.append({"step": i, "label": label, "kept": kept, "recipe": recipe, "flatbuffer_bytes": size,
                        **{k: metrics[k] for k in ("test_accuracy", "val_accuracy", "train_seconds", "epochs")}})
        rows.append({
            "step": i,
            "ingredient": label + ("" if kept else " (measured, not kept)"),
            "accuracy %": f"{100 * metrics['test_accuracy']:.2f}",
            "gap to float IDNet (pts)": f"{100 * (reference['test_accuracy'] - metrics['test_accuracy']):+.2f}",
            "train s": f"{metrics['train_seconds']:.0f}",
            "epochs": metrics["epochs"],
            "arm64 KiB": f"{size / 1024:.1f}",
        })
        timer.step(i + 2)
    description = reference["data_description"]
    synthetic = datasets.is_synthetic(setting["data"])
    warning = "**Measured on SYNTHETIC data, not the Padova dataset.** " if synthetic else ""
    over = [r for r in results if r["flatbuffer_bytes"] > SIZE_LIMIT_BYTES]
    note = (f"{warning}Data: {description}. Float IDNet (paper recipe): "
            f"{100 * reference['test_accuracy']:.2f}%. Seed {setting['seed']}. Sizes: arm64 flatbuffers "
            f"({'all' if not over else 'NOT all'} within {SIZE_LIMIT_BYTES // 1024} KiB).")
    text = writer.table(pd.DataFrame(rows), "ablation", "BiPedalNet: training ingredients added in turn", note)
    writer.json("results.json", {"data": str(setting["data"]), "synthetic": synthetic, "seed": setting["seed"],
                                  "split": setting.get("split", "windows"), "reference": reference,
                                  "steps": results})
    return Report(text, writer.files, {"reference": reference, "steps": results})

