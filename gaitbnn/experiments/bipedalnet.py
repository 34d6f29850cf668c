"""BiPedalNet reproduction: Table 1 (layer counts) and Table 2 (params, memory, accuracy).

Trains float IDNet, binarized IDNet and BiPedalNet on the same data (Padova
layout or synthetic) and prints the paper's numbers beside the measured ones.
"""
from pathlib import Path

import pandas as pd

from gaitbnn import data as datasets
from gaitbnn import models, runs
from gaitbnn.errors import InputError
from gaitbnn.experiments import load_config, reusable_run
from gaitbnn.reports import write_table
from gaitbnn.training import fit

MIB = 2**20


def table1():
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


def table2(data="synthetic", epochs=None, seed=0, out="runs/reproduce-bipedalnet", force=False, verbose=2,
           split="windows", keep_duplicates=False):
    """Train the three Table 2 models into ``out/<model>`` and return the side-by-side table.

    ``split``: ``windows`` (the paper's 80/20 of windows) or ``walks`` (whole walks held out per person).
    """
    config = load_config("bipedalnet_table2")
    epochs = epochs or config["training"]["epochs"]
    out = Path(out)
    rows, all_metrics = [], []
    for paper in config["rows"]:
        name = paper["model"]
        run_dir = out / name
        metrics = reusable_run(run_dir, model=name, data=str(data), epochs=epochs, seed=seed, split=split,
                               keep_duplicates=keep_duplicates)
        if metrics and not force:
            print(f"[{name}] reusing the complete run in {run_dir}", flush=True)
        else:
            if (run_dir / runs.METRICS_FILE).exists() and not force:
                raise InputError(f"{run_dir}: holds a run with other settings: pass --force to retrain, or another --out")
            print(f"[{name}] training ({config['table']} row {paper['row']}, {paper['label']})", flush=True)
            dataset = datasets.load_family(datasets.GAIT, data, seed, models.get_spec(name).input_shape,
                                           dict(split=split, keep_duplicates=keep_duplicates))
            metrics = fit.train(name, dataset, run_dir, epochs=epochs, batch_size=config["training"]["batch_size"],
                                seed=seed, learning_rate=config["training"]["learning_rate"], force=True,
                                verbose=verbose)
        all_metrics.append(metrics)
        rows.append({
            "model": paper["label"],
            "params (paper / measured)": f"{paper['params'] // 1000}k / {metrics['params']:,}",
            "memory MB (paper / measured)": f"{paper['memory_mb']:.2f} / {metrics['memory_bytes'] / MIB:.3f}",
            "accuracy % (paper / measured)": f"{paper['accuracy']:.2f} / {100 * metrics['test_accuracy']:.2f}",
            "split": split,
            "data": "synthetic" if metrics["synthetic"] else metrics["data"],
        })
    return pd.DataFrame(rows), all_metrics


def reproduce(data="synthetic", epochs=None, seed=0, out="runs/reproduce-bipedalnet", force=False, verbose=2,
              split="windows", keep_duplicates=False):
    """Print and write Table 1 and Table 2 (paper beside measured) under ``out``."""
    out = runs.prepare_output_dir(out)
    t1 = table1()
    t2, metrics = table2(data, epochs, seed, out, force, verbose, split, keep_duplicates)
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
        write_table(t1, out, "table1", "BiPedalNet Table 1: layers and parameter counts", note1),
        write_table(t2, out, "table2", "BiPedalNet Table 2: paper / measured", note2),
    ])
    runs.write_json(out / "results.json", {"data": str(data), "synthetic": synthetic, "seed": seed, "split": split,
                                           "runs": metrics})
    return text, t1, t2
