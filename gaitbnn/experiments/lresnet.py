"""L-ResNet-50 reproduction: Tables 1-4 of the paper beside measured values, and training time per epoch.

Trains ResNet-50, L-ResNet-50 and the binarized L-ResNet-50 on the CASIA-B
protocol (``data.gei``), then scores each per view on the NM test sequences
(Table 2) and over the BG and CL sequences (Table 3); counts parameters and
multiply-accumulates at the ImageNet configuration (Table 4) and at the GEI
input; measures the feature-map MSE of the first three Ghost modules (Table 1).
The paper's numbers live in ``experiments/lresnet_tables.json``.
"""
from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pandas as pd
import tensorflow as tf

from gaitbnn import data as datasets
from gaitbnn import models, runs
from gaitbnn.experiments import Report, load_config, merge_settings, train_or_reuse
from gaitbnn.models import recipes
from gaitbnn.progress import Progress
from gaitbnn.reports import ReportWriter
from gaitbnn.training import fit

GHOST_MODULES = ("stage1_block1_conv1", "stage1_block1_conv2", "stage1_block1_conv3")


def ghost_mse(model: tf.keras.Model, x: np.ndarray) -> list:
    """Table 1: per Ghost module, the MSE between its cheap (depthwise) maps and its ordinary-convolution maps."""
    outputs = []
    for name in GHOST_MODULES:
        concat = model.get_layer(f"{name}_concat")
        outputs += list(concat.input)
    probe = tf.keras.Model(model.input, outputs)
    maps = probe.predict(x, batch_size=32, verbose=0)
    return [float(np.mean((maps[2 * i] - maps[2 * i + 1]) ** 2)) for i in range(len(GHOST_MODULES))]


@functools.lru_cache(maxsize=1)
def table4() -> pd.DataFrame:
    """Parameters and multiply-accumulates at the ImageNet configuration and at the GEI input (built once)."""
    paper = {r["model"]: r for r in load_config("lresnet_tables")["table4"]["rows"]}
    rows = []
    for name in ("resnet50", "lresnet50", "lresnet50-binary"):
        counts = models.reference_counts(name)
        gei = models.build(name)
        gei_counts = models.count_params(gei)
        p = paper.get(name.replace("-binary", ""))
        rows.append({
            "model": name,
            "params M (paper / measured)": f"{p['params_m'] if p else '-'} / {counts['params'] / 1e6:.2f}",
            "FLOPs B (paper / measured)": f"{p['flops_b'] if p else '-'} / {counts['flops'] / 1e9:.2f}",
            "at GEI input": (f"{gei_counts['params'] / 1e6:.2f}M params, {models.count_flops(gei) / 1e6:.0f}M MACs, "
                             f"{gei_counts['memory_bytes'] / 2**20:.1f} MiB (1-bit binary weights)"),
        })
        tf.keras.backend.clear_session()
    return pd.DataFrame(rows)


def _train(name, dataset, out, setting):
    run_dir = Path(out) / name
    expected = dict(model=name, data=setting["data"], epochs=setting["epochs"], seed=setting["seed"],
                    batch_size=setting["batch_size"], input_shape=list(setting["input_shape"]))

    def train():
        print(f"[{name}] training ({len(dataset.y_train)} GEIs, {setting['epochs']} epochs)", flush=True)
        return fit.train(name, dataset, run_dir, epochs=setting["epochs"], batch_size=setting["batch_size"],
                         seed=setting["seed"], learning_rate=setting["learning_rate"],
                         force=setting.get("force", False),  # an interrupted run resumes; --force starts over
                         verbose=setting.get("verbose", 2))

    return train_or_reuse(run_dir, expected, train, setting.get("force", False), name)


def reproduce(settings: dict) -> Report:
    """Train the three networks and write Tables 1-4 (paper beside measured) under ``settings["out"]``."""
    config = load_config("lresnet_tables")
    setting = merge_settings(config, settings.get("data", "synthetic"), settings, recipes.LRESNET)
    data, seed = setting["data"], setting["seed"]
    chosen = [m for m in config["models"] if m in (setting.get("models") or config["models"])]
    out = runs.writable_dir(setting["out"])
    writer = ReportWriter(out)
    dataset = datasets.load_family(models.GEI, data, seed, tuple(setting["input_shape"]))
    results, per_group = {}, {}
    timer = Progress(len(chosen), "[lresnet] models", every=0)
    for name in chosen:
        metrics = _train(name, dataset, out, setting)
        timer.step(len(results) + 1)
        model = fit.load_model(out / name)
        predicted = np.argmax(model.predict(dataset.x_test, batch_size=64, verbose=0), axis=1)
        correct = predicted == dataset.y_test
        groups = dataset.test_groups
        per_group[name] = {
            "view": {int(v): float(correct[(groups["view"] == v) & (groups["condition"] == "nm")].mean())
                     for v in sorted(set(groups["view"]))},
            "condition": {c: float(correct[groups["condition"] == c].mean()) for c in ("nm", "bg", "cl")},
        }
        results[name] = {**metrics, "seconds_per_epoch": metrics["train_seconds"] / metrics["epochs"],
                         **per_group[name]}
        if name == "lresnet50":
            results[name]["ghost_mse"] = ghost_mse(model, dataset.x_test[:64])
        tf.keras.backend.clear_session()

    def pct(v):
        return "-" if v is None else f"{100 * v:.1f}"

    def measured(name, group, key):
        return per_group.get(name, {}).get(group, {}).get(key)

    t2 = pd.DataFrame([{
        "view": row["view"],
        "ResNet-50 % (paper / measured)": f"{pct(row['resnet50'])} / {pct(measured('resnet50', 'view', row['view']))}",
        "ResNet-50, zero-gamma init % (measured)": pct(measured("resnet50-zero-gamma", "view", row["view"])),
        "L-ResNet-50 % (paper / measured)":
            f"{pct(row['lresnet50'])} / {pct(measured('lresnet50', 'view', row['view']))}",
        "L-ResNet-50 binary % (measured)": pct(measured("lresnet50-binary", "view", row["view"])),
    } for row in config["table2"]["rows"]])
    t3 = pd.DataFrame([{
        "condition": row["condition"].upper(),
        "ResNet-50 % (paper / measured)":
            f"{pct(row['resnet50'])} / {pct(measured('resnet50', 'condition', row['condition']))}",
        "ResNet-50, zero-gamma init % (measured)": pct(measured("resnet50-zero-gamma", "condition", row["condition"])),
        "L-ResNet-50 % (paper / measured)":
            f"{pct(row['lresnet50'])} / {pct(measured('lresnet50', 'condition', row['condition']))}",
        "L-ResNet-50 binary % (measured)": pct(measured("lresnet50-binary", "condition", row["condition"])),
    } for row in config["table3"]["rows"]])
    mse = results.get("lresnet50", {}).get("ghost_mse") or [None] * len(GHOST_MODULES)
    t1 = pd.DataFrame([{"layer": f"{row['row']} ({module})", "MSE x 1e-3 (paper / measured)":
                        f"{row['mse_1e3']} / {'-' if value is None else f'{1e3 * value:.1f}'}"}
                       for row, module, value in zip(config["table1"]["rows"], GHOST_MODULES, mse)])
    timing = pd.DataFrame([{"model": name, "train s / epoch (graph tracing included)":
                            f"{results[name]['seconds_per_epoch']:.1f}",
                            "test accuracy % (all test GEIs)": pct(results[name]["test_accuracy"]),
                            "params": f"{results[name]['params']:,}"} for name in chosen])
    warning = "**SYNTHETIC GEIs, not CASIA-B: accuracies are not comparable to the paper's.** " \
        if dataset.synthetic else ""
    note = (f"{warning}Data: {dataset.description}. Adam {setting['learning_rate']:g}, batch {setting['batch_size']}, "
            f"{setting['epochs']} epochs, seed {seed}."
            + (f" Reduced setting: {setting['why']}." if setting["reduced"] else "")
            + ("" if len(chosen) == len(config["models"]) else f" Models run: {', '.join(chosen)} ('-': not run).")
            + " Initialization: the paper compares the networks 'in the case of the same hyperparameters'; L-ResNet-50"
              " starts every residual branch at zero (gamma = 0), and ResNet-50 is trained both ways: the standard"
              " initialization (its paper column) and the Ghost networks' zero-gamma one (one initialization for"
              " both).")
    text = "\n".join([
        writer.table(t2, "table2", "Table 2: recognition rate per view (NM test sequences), paper / measured", note),
        writer.table(t3, "table3", "Table 3: recognition rate under BG and CL, paper / measured", note),
        writer.table(table4(), "table4", "Table 4: parameters and FLOPs (224 x 224 x 3, 1,000 classes)",
                     "FLOPs are multiply-accumulates of the convolutions and the classifier; params are Keras "
                     "counts (BatchNorm statistics included)."),
        writer.table(t1, "table1", "Table 1: feature-map MSE of the first three Ghost modules (L-ResNet-50)",
                     f"{warning}Mean squared difference between each module's cheap-operation maps and its "
                     "ordinary-convolution maps (after BatchNorm and ReLU) on 64 test GEIs."),
        writer.table(timing, "training_time", "Training time per epoch (the paper: L-ResNet-50 trains faster)",
                     f"Measured side by side in this run on this machine; {note}"),
    ])
    out_results = {"data": str(data), "synthetic": dataset.synthetic, "seed": seed, "setting": setting,
                   "runs": results}
    writer.json("results.json", out_results)
    return Report(text, writer.files, out_results)
