"""BiPedalNet reproduction: Table 1 (layer counts) and Table 2 (params, memory, accuracy).

Trains float IDNet, binarized IDNet and BiPedalNet on the same data (Padova
layout or synthetic) and prints the paper's numbers beside the measured ones.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from gaitbnn import data as datasets
from gaitbnn import models, runs
from gaitbnn.errors import InputError
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


def train_model(name: str, setting: dict, recipe: dict, run_dir: Path, label: str) -> dict:
    """Train (or reuse) registered gait model ``name`` into ``run_dir`` by ``recipe`` (``models.recipes``).

    A ``teacher`` in the recipe names a model trained before in the same output folder (the float IDNet).
    """
    split, keep = setting.get("split", "windows"), bool(setting.get("keep_duplicates"))
    data_options, ingredients = recipes.split_recipe(recipe)
    if ingredients.get("teacher"):
        teacher = Path(setting["out"]) / ingredients["teacher"]
        if not (teacher / runs.METRICS_FILE).exists():
            raise InputError(f"{label}: distillation needs the trained {ingredients['teacher']} in {teacher}: "
                             f"include {ingredients['teacher']} in --models")
        ingredients["teacher"] = str(teacher)

    def train():
        print(f"[{label}] training", flush=True)
        dataset = datasets.load_family(datasets.GAIT, setting["data"], setting["seed"],
                                       models.get_spec(name).input_shape,
                                       dict(split=split, keep_duplicates=keep, **data_options))
        return fit.train(name, dataset, run_dir, epochs=setting["epochs"], batch_size=setting["batch_size"],
                         seed=setting["seed"], learning_rate=setting["learning_rate"],
                         force=setting.get("force", False),  # an interrupted run resumes; --force starts over
                         verbose=setting.get("verbose", 2), recipe=ingredients)

    expected = dict(model=name, data=str(setting["data"]), seed=setting["seed"], split=split, keep_duplicates=keep,
                    recipe=recipe.get("name", "paper"), recipe_settings=recipes.recorded(ingredients),
                    train_stride_seconds=data_options.get("train_stride_seconds"),
                    epochs=recipes.recipe_epochs(setting["epochs"], ingredients))
    return train_or_reuse(run_dir, expected, train, setting.get("force", False), label)


WALK_VOTE_NOTE = ("Walk vote: each test walk's windows vote for one person (as `gaitbnn predict`); in parentheses "
                  "the number of test walks.")


def walk_vote_cell(metrics: dict) -> str:
    """A run's majority vote over each test walk's windows, as a table cell: accuracy % (walks)."""
    if "test_walk_accuracy" not in metrics:  # a run trained before the vote was recorded
        return "-"
    return f"{100 * metrics['test_walk_accuracy']:.1f} ({metrics['test_walks']})"


def table2(setting: dict, out: str | Path) -> tuple:
    """Train the Table 2 models (and our extra row) into ``out/<model>``; return the side-by-side table.

    ``setting["split"]``: ``windows`` (the paper's 80/20 of windows) or ``walks`` (whole walks held out per
    person); ``setting["recipe"]``: ``paper`` (Sec. 2.3) or ``best`` (``models.recipes.GAIT_RECIPES``).
    """
    config = load_config("bipedalnet_table2")
    recipe = recipes.gait_recipe(setting.get("recipe", "paper"))
    rows, all_metrics = [], []
    chosen = setting.get("models") or [row["model"] for row in config["rows"]]
    timer = Progress(len(chosen), "[bipedalnet] Table 2 models", every=0)
    for paper in (row for row in config["rows"] if row["model"] in chosen):
        name = paper["model"]
        where = f"{config['table']} row {paper['row']}" if paper["row"] else "extra row"
        metrics = train_model(name, {**setting, "out": out}, recipe, Path(out) / name,
                              f"{name}, {where}, {paper['label']}, {recipe['name']} recipe")
        all_metrics.append(metrics)
        timer.step(len(all_metrics))

        def cell(value, measured):
            return f"{'-' if value is None else value} / {measured}"

        rows.append({
            "model": paper["label"],
            "params (paper / measured)": cell(paper["params"] and f"{paper['params'] // 1000}k",
                                              f"{metrics['params']:,}"),
            "memory MB (paper / measured)": cell(paper["memory_mb"] and f"{paper['memory_mb']:.2f}",
                                                 f"{metrics['memory_bytes'] / MIB:.3f}"),
            "accuracy % (paper / measured)": cell(paper["accuracy"] and f"{paper['accuracy']:.2f}",
                                                  f"{100 * metrics['test_accuracy']:.2f}"),
            "walk vote %": walk_vote_cell(metrics),
            "split": metrics["split"],
            "recipe": recipe["name"],
            "data": "synthetic" if metrics["synthetic"] else metrics["data"],
        })
    return pd.DataFrame(rows), all_metrics


def reproduce(settings: dict) -> Report:
    """Print and write Table 1 and Table 2 (paper beside measured) under ``settings["out"]``."""
    setting = merge_settings(load_config("bipedalnet_table2"), settings.get("data", "synthetic"), settings,
                             recipes.BIPEDALNET)
    data, seed, split = setting["data"], setting["seed"], setting.get("split", "windows")
    recipe = setting.get("recipe", "paper")
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
    ingredients = ", ".join(f"{k} {v}" for k, v in recipes.gait_recipe(recipe).items() if k != "name")
    recipe_text = "the paper's (Sec. 2.3)" if recipe == "paper" else f"'{recipe}' ({ingredients})"
    note2 = (f"{warning}Data: {description}. Split: {split_text}. Recipe: {recipe_text}. "
             f"Epochs: {metrics[-1]['epochs']}, seed {seed}. "
             "Memory: 1 bit per binary weight, 32 bits per other parameter, in MiB. Row 2 is the off-the-shelf "
             "binarization the paper describes; the extra row binarizes IDNet as BNNs are built (docs/bipedalnet.md). "
             + WALK_VOTE_NOTE)
    text = "\n".join([
        writer.table(t1, "table1", "BiPedalNet Table 1: layers and parameter counts", note1),
        writer.table(t2, "table2", "BiPedalNet Table 2: paper / measured", note2),
    ])
    results = {"data": str(data), "synthetic": synthetic, "seed": seed, "split": split, "recipe": recipe,
               "runs": metrics}
    writer.json("results.json", results)
    return Report(text, writer.files + [f"{m['model']}/" for m in metrics], results)
