"""BiPedalNet reproduction: Table 1 (layer counts) and Table 2 (params, memory, accuracy).

Trains float IDNet, binarized IDNet and BiPedalNet on the same data (Padova
layout or synthetic) and prints the paper's numbers beside the measured ones.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from gaitbnn import data as datasets
from gaitbnn import models, runs
from gaitbnn.experiments import Report, load_config, merge_settings, train_or_reuse
from gaitbnn.models import recipes
from gaitbnn.progress import Progress
from gaitbnn.reports import ReportWriter
from gaitbnn.training import fit

MIB = 2**20


def table1() -> pd.DataFrame:
    """Table 1 beside the Keras layer counts of ``bipedalnet`` at its default shape."""
    config = load_config("bipedalnet_table1")
    model = models.build(config["model"])
    rows = []
    paper_total = {"binary_params": 0, "float_params": 0}
    measured_total = {"binary_params": 0, "float_params": 0}
    for row in config["rows"]:
        layer = model.get_layer(row["keras_layer"])
        counts = models.count_layer_params([layer])
        rows.append({
            "row": row["row"],
            "layer": f"{row['layer']} ({layer.name})",
            "1-bit (paper / measured)": f"{row['one_bit_params']} / {counts['binary_params']}",
            "32-bit (paper / measured)": f"{row['float_params']} / {counts['float_params']}",
            "match": counts["binary_params"] == row["one_bit_params"] and counts["float_params"] == row["float_params"],
        })
        paper_total["binary_params"] += row["one_bit_params"]
        paper_total["float_params"] += row["float_params"]
        for key in measured_total:
            measured_total[key] += counts[key]
    rows.append({
        "row": "",
        "layer": "Total",
        "1-bit (paper / measured)": f"{paper_total['binary_params']} / {measured_total['binary_params']}",
        "32-bit (paper / measured)": f"{paper_total['float_params']} / {measured_total['float_params']}",
        "match": paper_total == measured_total,
    })
    return pd.DataFrame(rows)


def table2(setting: dict, out: str | Path) -> tuple:
    """Train the three Table 2 models into ``out/<model>`` and return the side-by-side table.

    ``setting["split"]``: ``windows`` (the paper's 80/20 of windows) or ``walks`` (whole walks held out per person).
    """
    config = load_config("bipedalnet_table2")
    rows, all_metrics = [], []
    split, keep = setting.get("split", "windows"), bool(setting.get("keep_duplicates"))
    chosen = setting.get("models") or [row["model"] for row in config["rows"]]
    timer = Progress(len(chosen), "[bipedalnet] Table 2 models", every=0)
    for paper in (row for row in config["rows"] if row["model"] in chosen):
        name = paper["model"]
        run_dir = Path(out) / name

        def train(name=name, paper=paper, run_dir=run_dir):
            print(f"[{name}] training ({config['table']} row {paper['row']}, {paper['label']})", flush=True)
            dataset = datasets.load_family(datasets.GAIT, setting["data"], setting["seed"],
                                           models.get_spec(name).input_shape, dict(split=split, keep_duplicates=keep))
            return fit.train(name, dataset, run_dir, epochs=setting["epochs"], batch_size=setting["batch_size"],
                             seed=setting["seed"], learning_rate=setting["learning_rate"], force=True,
                             verbose=setting.get("verbose", 2))

        expected = dict(model=name, data=str(setting["data"]), epochs=setting["epochs"], seed=setting["seed"],
                        split=split, keep_duplicates=keep)
        metrics = train_or_reuse(run_dir, expected, train, setting.get("force", False), name)
        all_metrics.append(metrics)
        timer.step(len(all_metrics))
        rows.append({
            "model": paper["label"],
            "params (paper / measured)": f"{paper['params'] // 1000}k / {metrics['params']:,}",
            "memory MB (paper / measured)": f"{paper['memory_mb']:.2f} / {metrics['memory_bytes'] / MIB:.3f}",
            "accuracy % (paper / measured)": f"{paper['accuracy']:.2f} / {100 * metrics['test_accuracy']:.2f}",
            "split": split,
            "data": "synthetic" if metrics["synthetic"] else metrics["data"],
        })
    return pd.DataFrame(rows), all_metrics


def reproduce(settings: dict) -> Report:
    """Print and write Table 1 and Table 2 (paper beside measured) under ``settings["out"]``."""
    setting = merge_settings(load_config("bipedalnet_table2"), settings.get("data", "synthetic"), settings,
                             recipes.BIPEDALNET)
    data, seed, split = setting["data"], setting["seed"], setting.get("split", "windows")
    out = runs.writable_dir(setting["out"])
    writer = ReportWriter(out)
    t1 = table1()
    t2, metrics = table2(setting, out)
    description = metrics[-1]["data_description"]
    synthetic = datasets.is_synthetic(data)
    warning = "**Measured on SYNTHETIC data, not the Padova dataset: accuracies are not comparable to the paper's.** " \
        if synthetic else ""
    note1 = "Keras parameter counts of `bipedalnet` at its default input (6, 98, 1), 38 classes."
    split_text = ("whole walks held out per person (--split walks; the paper splits windows)" if split == "walks"
                  else "windows 80/20 at random, as the paper")
    note2 = (f"{warning}Data: {description}. Split: {split_text}. Epochs: {metrics[-1]['epochs']}, seed {seed}. "
             "Memory: 1 bit per binary weight, 32 bits per other parameter, in MiB.")
    text = "\n".join([
        writer.table(t1, "table1", "BiPedalNet Table 1: layers and parameter counts", note1),
        writer.table(t2, "table2", "BiPedalNet Table 2: paper / measured", note2),
    ])
    results = {"data": str(data), "synthetic": synthetic, "seed": seed, "split": split, "runs": metrics}
    writer.json("results.json", results)
    return Report(text, writer.files + [f"{m['model']}/" for m in metrics], results)
