"""BiPedalNet's gap to float IDNet, closed one ingredient at a time (docs/bipedalnet.md, issues 16 and 24).

Float IDNet is trained twice: by the paper's recipe (the reference, and the teacher of the distillation step)
and by the ``best`` recipe (float IDNet "trained the same way" as the kept steps). Then BiPedalNet is trained
once per step of ``models.recipes.GAIT_ABLATION``: each step adds its ingredients to the kept steps before it;
a ``model`` ingredient swaps in a registered BiPedalNet variant. Each row gives test accuracy over single
windows and by a vote over each test walk, the gap to both float IDNets, training time, and the arm64
flatbuffer's size (at most 48 KiB) and aarch64 instructions per inference (with ``make aarch64``'s runtime).
"""
from __future__ import annotations

import pandas as pd

from gaitbnn import data as datasets
from gaitbnn import runs
from gaitbnn.experiments import Report, load_config, merge_settings
from gaitbnn.experiments.bipedalnet import WALK_VOTE_NOTE, train_model, walk_vote_cell
from gaitbnn.experiments.exported_runs import exported, instructions_cell
from gaitbnn.models import recipes
from gaitbnn.progress import Progress
from gaitbnn.reports import ReportWriter

STUDENT = "bipedalnet"
REFERENCE = "idnet"
REFERENCE_BEST = "idnet-best"  # run folder of float IDNet by the best recipe
SIZE_LIMIT_BYTES = 48 * 1024


def steps() -> list:
    """(label, model, recipe, kept) per ablation step: each recipe holds the kept ingredients before it and its
    own; ``model`` is the step's BiPedalNet (``STUDENT`` or a variant named by a ``model`` ingredient)."""
    kept, out = {}, []
    for label, ingredients, keep in recipes.GAIT_ABLATION:
        recipe = {"name": f"step{len(out)}", **kept, **ingredients}
        model = recipe.pop("model", STUDENT)
        out.append((label, model, recipe, keep))
        if keep:
            kept.update(ingredients)
    return out


def gap(reference: dict, metrics: dict) -> str:
    return f"{100 * (reference['test_accuracy'] - metrics['test_accuracy']):+.2f}"


def reproduce(settings: dict) -> Report:
    """Train both references and one BiPedalNet per step under ``settings["out"]``; print and write the table."""
    setting = merge_settings(load_config("bipedalnet_table2"), settings.get("data", "synthetic"), settings,
                             recipes.BIPEDALNET)
    out = runs.writable_dir(setting["out"])
    setting["out"] = out
    writer = ReportWriter(out)
    plan = steps()
    timer = Progress(len(plan) + 2, "[bipedalnet-ablation] runs", every=0)
    reference = train_model(REFERENCE, setting, recipes.gait_recipe("paper"), out / REFERENCE,
                            f"{REFERENCE}, reference and teacher, paper recipe")
    timer.step(1)
    reference_best = train_model(REFERENCE, setting, recipes.gait_recipe("best"), out / REFERENCE_BEST,
                                 f"{REFERENCE}, reference, best recipe")
    timer.step(2)
    rows, results = [], []
    for i, (label, model, recipe, kept) in enumerate(plan):
        run_dir = out / f"step{i}-{model}"
        metrics = train_model(model, setting, recipe, run_dir, f"{model}, step {i}: {label}")
        report = exported(run_dir, model)
        aarch = report.get("aarch64") or {}
        results.append({"step": i, "label": label, "model": model, "kept": kept, "recipe": recipe,
                        "flatbuffer_bytes": report["size_bytes"],
                        "aarch64_instructions": aarch.get("instructions_per_inference"),
                        **{k: metrics.get(k) for k in ("test_accuracy", "test_walk_accuracy", "test_walks",
                                                       "val_accuracy", "train_seconds", "epochs")}})
        rows.append({
            "step": i,
            "ingredient": label + ("" if kept else " (measured, not kept)"),
            "accuracy %": f"{100 * metrics['test_accuracy']:.2f}",
            "walk vote %": walk_vote_cell(metrics),
            "gap to float IDNet, paper / best recipe (pts)": f"{gap(reference, metrics)} / "
                                                             f"{gap(reference_best, metrics)}",
            "train s": f"{metrics['train_seconds']:.0f}",
            "epochs": metrics["epochs"],
            "arm64 KiB": f"{report['size_bytes'] / 1024:.1f}",
            "aarch64 instructions": instructions_cell(report),
        })
        timer.step(i + 3)
    description = reference["data_description"]
    synthetic = datasets.is_synthetic(setting["data"])
    warning = "**Measured on SYNTHETIC data, not the Padova dataset.** " if synthetic else ""
    over = [r for r in results if r["flatbuffer_bytes"] > SIZE_LIMIT_BYTES]
    note = (f"{warning}Data: {description}. Float IDNet: {100 * reference['test_accuracy']:.2f}% (paper recipe), "
            f"{100 * reference_best['test_accuracy']:.2f}% (best recipe). Seed {setting['seed']}. "
            f"{WALK_VOTE_NOTE} "
            f"Sizes: arm64 flatbuffers ({'all' if not over else 'NOT all'} within {SIZE_LIMIT_BYTES // 1024} KiB); "
            f"aarch64 instructions: guest instructions per inference on LCE's aarch64 kernels under qemu "
            f"(a deterministic cost figure, not time).")
    text = writer.table(pd.DataFrame(rows), "ablation", "BiPedalNet: ingredients added in turn", note)
    writer.json("results.json", {"data": str(setting["data"]), "synthetic": synthetic, "seed": setting["seed"],
                                  "split": setting.get("split", "windows"), "reference": reference,
                                  "reference_best": reference_best, "steps": results})
    return Report(text, writer.files, {"reference": reference, "reference_best": reference_best, "steps": results})
