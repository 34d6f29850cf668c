"""BtCNN reproduction: the thesis' Tables 5.3.2-5.3.7 (Acc, mean F1, weighted F1) beside measured values.

For each data source (a LARa mbientlab or MoCap folder, a .npz file, or the
synthetic default), trains the float tCNN and Conv[1] .. Conv[1-4], each with
the softmax and the attribute head, at each learning rate, and prints the
thesis' row beside the measured test metrics. The thesis' numbers live in
``experiments/btcnn_tables.json``, each row with its table.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from gaitbnn import runs
from gaitbnn.data import activity
from gaitbnn.errors import InputError
from gaitbnn.experiments import Report, load_config, merge_settings, train_or_reuse
from gaitbnn.models import recipes
from gaitbnn.progress import Progress
from gaitbnn.reports import ReportWriter
from gaitbnn.training import fit

CONFIGS = ["tcnn", "btcnn-conv1", "btcnn-conv1-2", "btcnn-conv1-3", "btcnn-conv1-4", "btcnn-binary"]
HEADS = {"softmax": "", "attributes": "-attr"}
REPORTED = ("test_accuracy", "val_accuracy", "mean_f1", "weighted_f1", "params", "binary_params", "synthetic",
            "data_description")


def setting_for(data: str, given: dict | None = None) -> dict:
    """The thesis' setting, or the reduced one for the plain synthetic default; options given override."""
    setting = merge_settings(load_config("btcnn_tables"), data, given, recipes.BTCNN)
    setting["learning_rates"] = list(setting["learning_rates"])
    return setting


def _fmt(value):
    return "-" if value is None else f"{value:.3f}"


def train_grid(out: str | Path, setting: dict) -> tuple:
    """Train every configuration x head x learning rate on one data source; return (sensor set, rows).

    ``setting["lara_protocol"]``: how LARa windows are labelled (``data.lara.PROTOCOLS``; the authors' by default).
    """
    seed = setting["seed"]
    dataset = activity.load(setting["data"], seed=seed, window=setting.get("window"),
                            protocol=setting.get("lara_protocol") or "authors")
    if dataset.problems:
        dataset.problems.warn()
    sensors = dataset.options.get("sensors") or "npz"
    chosen = setting.get("models")
    init = setting.get("init") or "scratch"  # "tcnn": each BtCNN starts from the trained float tCNN (thesis)
    names = [c + h for h in HEADS.values() for c in CONFIGS if not chosen or c + h in chosen]
    total = len(names) * len(setting["learning_rates"])
    timer = Progress(total, f"[btcnn] {sensors} runs", every=0)
    results = []
    for head, suffix in HEADS.items():
        for config in CONFIGS:
            name = config + suffix
            if chosen and name not in chosen:
                continue
            for lr in setting["learning_rates"]:
                run_dir = Path(out) / sensors / f"{name}-lr{lr:g}"

                source = Path(out) / sensors / f"tcnn{suffix}-lr{lr:g}"
                initial = source if init == "tcnn" and config != "tcnn" else None
                if initial and not (source / "metrics.json").exists():
                    raise InputError(f"--init tcnn: {name} starts from the trained tcnn{suffix}, which was not "
                                     f"trained in {source.parent}: include tcnn{suffix} in --models")

                def train(name=name, lr=lr, run_dir=run_dir, initial=initial):
                    print(f"[{name} lr {lr:g}] training on {sensors} ({len(dataset.y_train)} windows, "
                          f"{setting['epochs']} epochs, batch {setting['batch_size']}"
                          + (f", from {initial}" if initial else "") + ")", flush=True)
                    return fit.train(name, dataset, run_dir, epochs=setting["epochs"],
                                     batch_size=setting["batch_size"], seed=seed, learning_rate=lr,
                                     force=setting.get("force", False),
                                     verbose=setting.get("verbose", 2), initial_weights=initial)

                expected = dict(model=name, data=setting["data"], epochs=setting["epochs"], seed=seed,
                                learning_rate=lr, batch_size=setting["batch_size"], data_options=dataset.options,
                                initialized_from=str(initial) if initial else "scratch")
                metrics = train_or_reuse(run_dir, expected, train, setting.get("force", False), f"{name} lr {lr:g}")
                timer.step(len(results) + 1)
                results.append({"sensors": sensors, "head": head, "model": name, "learning_rate": lr,
                                "thesis_learning_rate": setting.get("compare_with_learning_rate", lr),
                                **{k: metrics.get(k) for k in REPORTED}})
    return sensors, results


def test_side_by_side(measured: list) -> pd.DataFrame:
    """Tables 5.3.8 / 5.3.9 (the thesis' test wF1 of each configuration's best run) beside our test-subject wF1,
    measured at the thesis' learning rate for that configuration (or the one we ran, said so)."""
    found = {}
    for m in measured:
        found.setdefault((m["sensors"], m["model"]), []).append(m)
    rows = []
    for p in load_config("btcnn_tables")["test_rows"]:
        runs_ = found.get((p["sensors"], p["model"]), [])
        m = next((r for r in runs_ if r["thesis_learning_rate"] == p["learning_rate"]), runs_[0] if runs_ else None)
        ran_at = f" (run at {m['learning_rate']:g})" if m and m["learning_rate"] != p["learning_rate"] else ""
        rows.append({"sensors": p["sensors"], "head": p["head"], "config": p["config"],
                     "lr": f"{p['learning_rate']:g}{ran_at}",
                     "test wF1 (thesis / measured)": f"{p['test_weighted_f1']:.3f} / {_fmt(m and m['weighted_f1'])}",
                     "thesis table": p["table"]})
    return pd.DataFrame(rows)


def side_by_side(measured: list) -> pd.DataFrame:
    """One row per row of Tables 5.3.2-5.3.7, the thesis' TRAINING results, beside our validation accuracy
    (and our test metrics, for the runs the thesis has no row for)."""
    paper = load_config("btcnn_tables")["rows"]
    found = {(m["sensors"], m["model"], m["thesis_learning_rate"]): m for m in measured}
    rows = []
    for p in paper:
        m = found.pop((p["sensors"], p["model"], p["learning_rate"]), None)
        ran_at = f" (run at {m['learning_rate']:g})" if m and m["learning_rate"] != p["learning_rate"] else ""
        rows.append({
            "sensors": p["sensors"], "head": p["head"], "config": p["config"], "lr": f"{p['learning_rate']:g}{ran_at}",
            "Acc (thesis training / measured validation)": f"{p['accuracy']:.3f} / {_fmt(m and m.get('val_accuracy'))}",
            "mF1 (thesis training)": f"{p['mean_f1']:.3f}", "wF1 (thesis training)": f"{p['weighted_f1']:.3f}",
            "measured test Acc / wF1": f"{_fmt(m and m['test_accuracy'])} / {_fmt(m and m['weighted_f1'])}",
            "thesis table": p["table"],
        })
    for m in found.values():  # runs the thesis has no row for (a .npz, another learning rate)
        rows.append({
            "sensors": m["sensors"], "head": m["head"], "config": m["model"], "lr": f"{m['learning_rate']:g}",
            "Acc (thesis training / measured validation)": f"- / {_fmt(m.get('val_accuracy'))}",
            "mF1 (thesis training)": "-", "wF1 (thesis training)": "-",
            "measured test Acc / wF1": f"{_fmt(m['test_accuracy'])} / {_fmt(m['weighted_f1'])}",
            "thesis table": "-",
        })
    frame = pd.DataFrame(rows)
    order = {"softmax": 0, "attributes": 1}
    frame["_head"] = frame["head"].map(order)
    return frame.sort_values(["sensors", "_head", "lr", "config"], kind="stable").drop(columns="_head")


def lara_paper_table() -> pd.DataFrame:
    rows = load_config("btcnn_tables")["lara_paper"]
    return pd.DataFrame([{"sensors": r["sensors"], "head": r["head"], "Acc": r["accuracy"], "wF1": r["weighted_f1"],
                          "source": f"{r['table']} (LARa paper, tCNN)"} for r in rows])


def reproduce(settings: dict) -> Report:
    """Train the grid on every data source, then write and return the side-by-side table."""
    sources = settings.get("data") or ("synthetic",)
    sources = [sources] if isinstance(sources, str) else list(sources)
    out = runs.writable_dir(settings["out"])
    writer = ReportWriter(out)
    protocol = settings.get("lara_protocol") or "authors"
    measured, notes = [], []
    for source in sources:
        setting = setting_for(source, dict(settings, data=source))
        sensors, rows = train_grid(out, setting)
        measured += rows
        synthetic = rows[0]["synthetic"]
        warning = "**SYNTHETIC data, not LARa: the measured values are not comparable to the thesis'.** " \
            if synthetic else ""
        reduced = (f" Reduced setting for 2 CPU cores: {setting['why']}." if setting["reduced"] else "")
        start = ("each BtCNN initialized from the trained float tCNN of its head and learning rate (the thesis' "
                 "reading)" if setting.get("init") == "tcnn" else "every model trained from scratch (--init tcnn: "
                 "from the trained float tCNN, as the thesis)")
        notes.append(f"{warning}{sensors}: {rows[0]['data_description']} (LARa protocol: {protocol}; {start}). RMSProp "
                     f"(rho 0.9), batch {setting['batch_size']}, {setting['epochs']} epochs, learning rates "
                     f"{', '.join(f'{lr:g}' for lr in setting['learning_rates'])}, seed {setting['seed']}.{reduced}")
    frame = side_by_side(measured)
    note = " ".join(notes) + (" Tables 5.3.2-5.3.7 are the thesis' 'Binary training results' (means of its runs); "
                              "its test results are Tables 5.3.8 / 5.3.9 (wF1 of each configuration's best run). "
                              "'-' means not run here. Measured test metrics are on the test subjects; attribute "
                              "heads decoded by the nearest attribute vector.")
    text = writer.table(test_side_by_side(measured), "test_tables",
                        "BtCNN thesis Tables 5.3.8 / 5.3.9 (test wF1 of each configuration's best run) / measured "
                        "test-subject wF1", note)
    text += "\n" + writer.table(frame, "tables", "BtCNN thesis Tables 5.3.2-5.3.7 (the thesis' TRAINING results) / "
                                "measured validation accuracy and test metrics", note)
    text += "\n" + writer.table(lara_paper_table(), "table5_3_1", "Table 5.3.1: the LARa paper's tCNN (MoCap)",
                                "For reference; the thesis' float tCNN rows above are its own re-training.")
    results = {"data": sources, "seed": settings.get("seed", 0), "lara_protocol": protocol, "runs": measured}
    writer.json("results.json", results)
    return Report(text, writer.files, results)
