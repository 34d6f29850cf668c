"""``gaitbnn predict``: a trained model's predictions on every window of a data source, as a phone makes them.

MODEL is a run directory (its Keras model behind its stored normalization) or an exported ``.tflite`` with
its report (``NAME.json``) beside it, run in LCE's interpreter: the phone's code path. Either way the input is
the raw window the contract (``contract.describe``) names, cut from each recording of SOURCE with the same
loaders as training, without overlap. Each recording gets the class most of its windows voted for, the share
of its windows that did, and its truth where SOURCE has labels: for gait, the recording's person (when the
model knows that person); for activity, each window's class (the recording's truth is its most frequent
window class). Embedding networks (siamese) and GEI classifiers are not served here: use ``evaluate``.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from gaitbnn import contract, export, models, runs
from gaitbnn import flatbuffer as tflite_file
from gaitbnn.data import activity, dataset, recordings
from gaitbnn.data.problems import Problems
from gaitbnn.data.sources import is_synthetic
from gaitbnn.data.windows import sliding
from gaitbnn.errors import InputError
from gaitbnn.training import fit

if TYPE_CHECKING:
    from collections.abc import Callable

FAMILIES = ("gait", "activity")


@dataclass
class Predictor:
    """A model ready to predict raw windows: ``scores(x) -> (n, classes)``."""

    name: str
    family: str
    labels: list
    contract: dict
    scores: Callable
    source: str  # what it runs: "keras (run)" or "flatbuffer (LCE interpreter)"


def _family_of(name: str) -> str:
    spec = models.get_spec(name)
    if spec.family not in FAMILIES or spec.head != "softmax":
        raise InputError(f"{name}: predict serves the gait and activity classifiers with a softmax head; "
                         f"{name} is a {spec.family} {spec.head} model: use 'gaitbnn evaluate'")
    return spec.family


def load_predictor(model_path: str | Path) -> Predictor:
    """The predictor of a run directory or of an exported ``.tflite`` (its ``.json`` report beside it)."""
    path = Path(model_path)
    if path.is_dir():
        config, _ = runs.open_run(path)
        family = _family_of(config["model"])
        model = contract.raw_input_model(fit.load_model(path), config)
        described = contract.describe(config["model"], model, config)
        return Predictor(config["model"], family, described["labels"], described,
                         lambda x: model.predict(x, batch_size=256, verbose=0), "keras (run)")
    if path.suffix != ".tflite" or not path.is_file():
        raise InputError(f"{path}: not a run directory or a .tflite file: pass RUN or an exported NAME.tflite")
    report_path = path.with_suffix(".json")
    if not report_path.is_file():
        raise InputError(f"{path}: its report {report_path.name} is missing beside it: export again with "
                         "'gaitbnn export' (it writes both)")
    report = json.loads(report_path.read_text())
    if "input" not in report:
        raise InputError(f"{report_path}: has no input contract (exported by an older gaitbnn): export again")
    family = _family_of(report["model"])
    flatbuffer = tflite_file.read(path)
    return Predictor(report["model"], family, report["input"]["labels"], report["input"],
                     lambda x: export.run_flatbuffer(flatbuffer, x), "flatbuffer (LCE interpreter)")


def recording_windows(predictor: Predictor, source: str) -> tuple:
    """([(path, raw windows, window truths as label names or None)], description) of every recording."""
    problems = Problems()
    shape = predictor.contract["shape"][1:]
    out = []
    if predictor.family == "gait":
        recs, description = dataset.read_recordings(source, problems)
        seconds = predictor.contract["window_seconds"]
        for rec in recs:
            x = recordings.windows(rec, shape[1], seconds)[..., None]
            truth = rec.user if rec.user in predictor.labels else None
            out.append((rec.origin, x, [truth] * len(x)))
    else:
        if not is_synthetic(source) and (source.endswith(".npz") or Path(source).is_file()):
            raise InputError(f"--data {source}: predict reads recordings (a LARa folder or synthetic), not a .npz "
                             "of windows")
        recs, _, description = activity.read_recordings(source, problems)
        steps = shape[0]
        for rec in recs:
            x, y, _ = sliding(rec.signal, rec.classes, None, steps, steps)
            names = [predictor.labels[i] if 0 <= i < len(predictor.labels) else None for i in y]
            out.append((rec.origin, x.astype(np.float32), names))
    if problems:
        problems.warn()
    out = [item for item in out if len(item[1])]
    if not out:
        raise InputError(f"--data {source}: no recording is long enough for one window of shape {shape}")
    return out, description


def predict(model_path: str | Path, source: str) -> dict:
    """Predictions of every window of ``source``: ``windows``, ``window_accuracy``, ``recording_accuracy`` (None
    without labels), ``recordings`` [{path, predicted, true, share, windows}], and what ran."""
    predictor = load_predictor(model_path)
    items, description = recording_windows(predictor, str(source))
    recordings, correct_windows, known_windows, correct_recordings, known_recordings = [], 0, 0, 0, 0
    all_predicted = np.argmax(predictor.scores(np.concatenate([x for _, x, _ in items])), axis=1)
    ends = np.cumsum([len(x) for _, x, _ in items])
    for (path, _, truths), predicted in zip(items, np.split(all_predicted, ends[:-1])):
        votes = np.bincount(predicted, minlength=len(predictor.labels))
        winner = int(np.argmax(votes))
        known = [(p, t) for p, t in zip(predicted, truths) if t is not None]
        correct_windows += sum(predictor.labels[p] == t for p, t in known)
        known_windows += len(known)
        labelled = [t for t in truths if t is not None]
        truth = max(set(labelled), key=labelled.count) if labelled else None
        if truth is not None:
            known_recordings += 1
            correct_recordings += predictor.labels[winner] == truth
        recordings.append({"path": path, "predicted": predictor.labels[winner], "true": truth,
                           "share": round(float(votes[winner] / len(predicted)), 4), "windows": int(len(predicted)),
                           "window_predictions": [predictor.labels[p] for p in predicted]})
    return {
        "model": predictor.name,
        "ran": predictor.source,
        "data": str(source),
        "data_description": description,
        "windows": int(sum(r["windows"] for r in recordings)),
        "window_accuracy": correct_windows / known_windows if known_windows else None,
        "recording_accuracy": correct_recordings / known_recordings if known_recordings else None,
        "labelled_windows": known_windows,
        "recordings": recordings,
    }
