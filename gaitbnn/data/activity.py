"""Activity windows for the tCNN / BtCNN: LARa, bring-your-own .npz, or synthetic.

LARa and synthetic recordings are split by subject (``lara.SPLITS``) and cut
into sliding windows (``windows.sliding``: T = 100 / stride 25 for mbientlab,
T = 200 / stride 25 for MoCap). Every channel is mapped to [0, 1] from training
statistics only: the range mean +- 2 standard deviations of the training
samples, clipped (the LARa preprocessing's range, robust to sensor spikes).
The Gaussian noise of thesis Sec. 5.3.1 is part of the models (training only).

``protocol`` (``lara.PROTOCOLS``, recorded in the run's ``config.json``) says how
LARa windows are labelled: ``authors`` (the default: the LARa authors' code and
the thesis, Table 5.1.1 "C8: None - Will be ignored") deletes the rows of class
"none" before windowing and gives a window the OR of its samples' attributes;
``majority`` keeps every row and the most frequent attribute vector of the
window's majority class.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from sklearn.model_selection import train_test_split

from gaitbnn.data import forms, lara, npz, sources, synthetic_activity
from gaitbnn.data.dataset import Dataset
from gaitbnn.data.problems import Problems
from gaitbnn.data.sources import is_synthetic
from gaitbnn.data.windows import sliding
from gaitbnn.errors import InputError

SPREAD = 2.0  # standard deviations either side of the mean that map to [0, 1]
SPLIT_FRACTIONS = (0.6, 0.2, 0.2)


def parse_synthetic(source: str) -> dict:
    """'synthetic' or 'synthetic:sensors=mocap,subjects=14,seconds=30,noise=0.3,seed=1' -> options."""
    options = sources.parse_synthetic(source, synthetic_activity.DEFAULTS, {"sensors": list(lara.SENSORS)})
    if options["subjects"] < 3:
        raise InputError(f"--data {source}: subjects must be at least 3 (train, validation and test)")
    return options


def fit_range(samples: int) -> tuple:
    """Per-channel (low, high) of the [0, 1] mapping from training samples (n, D)."""
    mean, std = samples.mean(axis=0), samples.std(axis=0)
    return mean - SPREAD * std, mean + SPREAD * std + 1e-6


def stored_range(normalization: dict | None) -> tuple | None:
    """(low, high) of a trained model's stored normalization, or None."""
    if normalization and "low" in normalization:
        return np.asarray(normalization["low"]), np.asarray(normalization["high"])
    return None


def normalize(x: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    return np.clip((x - low) / (high - low), 0.0, 1.0).astype(np.float32)


def attribute_table(y: np.ndarray, attributes: np.ndarray) -> tuple:
    """Unique (class, attribute vector) rows of the training windows, sorted by class: (table, classes)."""
    rows = np.unique(np.concatenate([y[:, None].astype(np.float32), attributes], axis=1), axis=0)
    return rows[:, 1:].astype(np.float32), rows[:, 0].astype(np.int64)


def _subject_split(subjects, assignment, source):
    """Indices of train / val / test given a subject -> split mapping; every split must have data."""
    parts = {name: np.flatnonzero(np.isin(subjects, assignment[name])) for name in ("train", "val", "test")}
    for name, idx in parts.items():
        if not len(idx):
            raise InputError(f"{source}: no windows of the {name} subjects {', '.join(map(str, assignment[name]))}: "
                             "the split needs recordings of each")
    return parts


def _seeded_subject_assignment(subjects, seed):
    unique = np.array(sorted(set(subjects)))
    np.random.default_rng(seed).shuffle(unique)
    n_val = max(1, int(round(SPLIT_FRACTIONS[1] * len(unique))))
    n_test = max(1, int(round(SPLIT_FRACTIONS[2] * len(unique))))
    return {"val": list(unique[:n_val]), "test": list(unique[n_val:n_val + n_test]),
            "train": list(unique[n_val + n_test:])}


def recording_summary(recordings: list, rate: float) -> dict:
    """subjects / recordings / seconds / sample_rate_hz of activity recordings sampled at ``rate`` Hz."""
    return {"subjects": len({r.subject for r in recordings}), "recordings": len(recordings),
            "seconds": round(sum(len(r.signal) for r in recordings) / rate, 2),
            "sample_rate_hz": {"min": rate, "median": rate, "max": rate}}


def apply_protocol(recordings: list, protocol: str, problems: Problems | None) -> list:
    """The recordings as the protocol windows them: ``authors`` deletes the rows of class "none"."""
    if protocol not in lara.PROTOCOLS:
        raise InputError(f"--lara-protocol {protocol}: use one of {', '.join(lara.PROTOCOLS)}")
    if protocol != "authors":
        return recordings
    out = []
    for r in recordings:
        keep = r.classes != lara.NONE_CLASS
        if not keep.all():
            problems.add("none_rows_deleted", 'rows of class 7 "none" deleted before windowing (authors\' protocol)',
                         r.origin, int((~keep).sum()))
        out.append(lara.ActivityRecording(r.subject, r.signal[keep], r.classes[keep],
                                          None if r.attributes is None else r.attributes[keep], r.origin))
    return out


def _from_recordings(recordings, sensors, window, stride, source, description, synthetic, protocol="authors",
                     problems=None, normalization=None):
    problems = problems if problems is not None else Problems()
    summary = recording_summary(recordings, lara.SENSORS[sensors]["rate"])
    recordings = apply_protocol(recordings, protocol, problems)
    window = int(window or lara.SENSORS[sensors]["window"])
    stride = int(stride or lara.SENSORS[sensors]["stride"])
    assignment = lara.SPLITS["thesis" if synthetic else lara.SENSORS[sensors]["split"]]
    train_recordings = [r for r in recordings if r.subject in assignment["train"]]
    if not train_recordings:
        raise InputError(f"{source}: no recordings of the training subjects {', '.join(assignment['train'])}")
    low, high = stored_range(normalization) or fit_range(np.concatenate([r.signal for r in train_recordings]))
    xs, ys, attrs, subjects = [], [], [], []
    for r in recordings:
        x, y, a = sliding(r.signal, r.classes, r.attributes, window, stride,
                          rule="or" if protocol == "authors" else "majority")
        xs.append(normalize(x, low, high))
        ys.append(y)
        attrs.append(a)
        subjects += [r.subject] * len(y)
    x, y, a = np.concatenate(xs), np.concatenate(ys), np.concatenate(attrs)
    if not len(y):
        raise InputError(f"{source}: every recording is shorter than one window of {window} samples: "
                         "pass a smaller --window")
    parts = _subject_split(np.array(subjects), assignment, source)
    description = f"{description}; windows of {window} steps, stride {stride}, {protocol} protocol; subjects " + \
        " / ".join(f"{k} {','.join(assignment[k])}" for k in ("train", "val", "test"))
    data = _dataset(x, y, a, parts, lara.CLASS_NAMES, lara.ATTRIBUTE_NAMES, list(lara.SENSORS[sensors]["channels"]),
                    synthetic, description, source,
                    {"low": low.tolist(), "high": high.tolist(), "range": "mean +- 2 std of training samples"},
                    {"window": window, "stride": stride, "sensors": sensors, "protocol": protocol})
    data.summary, data.problems = summary, problems
    return data


def _dataset(x, y, a, parts, class_names, attribute_names, channel_names, synthetic, description, source,
             normalization, options):
    table, table_classes = attribute_table(y[parts["train"]], a[parts["train"]])
    return Dataset(
        x[parts["train"]], y[parts["train"]], x[parts["val"]], y[parts["val"]], x[parts["test"]], y[parts["test"]],
        class_names=list(class_names), channel_names=channel_names, synthetic=synthetic, description=description,
        source=source, normalization=normalization,
        attributes_train=a[parts["train"]], attributes_val=a[parts["val"]], attributes_test=a[parts["test"]],
        attribute_names=list(attribute_names), attribute_table=table, attribute_table_classes=table_classes,
        options=options,
    )


def _from_npz(path, seed, normalization=None):
    data = npz.read(path)
    x, y = data["x"], data["y"]
    if data["split"] is not None:
        parts = {name: np.flatnonzero(data["split"] == name) for name in npz.SPLIT_NAMES}
        how = "split as given in the file"
    elif data["subject"] is not None and len(set(data["subject"])) >= 3:
        assignment = _seeded_subject_assignment(data["subject"], seed)
        parts = _subject_split(data["subject"], assignment, path)
        how = f"subject-wise seeded split (seed {seed})"
    else:
        idx = np.arange(len(y))
        try:
            train, rest = train_test_split(idx, test_size=0.4, stratify=y, random_state=seed)
            val, test = train_test_split(rest, test_size=0.5, stratify=y[rest], random_state=seed)
        except ValueError:
            raise InputError(f"{path}: too few windows per class for a stratified 60/20/20 split: add windows, "
                             "or give a 'split' array") from None
        parts = {"train": train, "val": val, "test": test}
        how = f"stratified seeded split (seed {seed})"
    attributes = data["attributes"]
    names = [f"attribute{i}" for i in range(attributes.shape[1])] if attributes is not None else \
        [f"is_{c}" for c in data["class_names"]]
    if attributes is None:
        attributes = np.eye(len(data["class_names"]), dtype=np.float32)[y]
    low, high = stored_range(normalization) or fit_range(x[parts["train"]].reshape(-1, x.shape[2]))
    x = normalize(x, low, high)
    description = f"windows from {path} ({len(y)} x {x.shape[1]} steps x {x.shape[2]} channels, {how})"
    dataset = _dataset(x, y, attributes, parts, data["class_names"], names, [f"ch{i}" for i in range(x.shape[2])],
                       False, description, str(path),
                       {"low": low.tolist(), "high": high.tolist(), "range": "mean +- 2 std of training samples"},
                       {"window": int(x.shape[1]), "stride": None, "sensors": None})
    # An .npz holds windows, not recordings: no durations or rates to report.
    dataset.summary = {"subjects": None if data["subject"] is None else len(set(data["subject"])),
                       "recordings": None, "seconds": None, "sample_rate_hz": None}
    return dataset


def load(source: str = "synthetic", seed: int = 0, window: int | None = None, stride: int | None = None,
         protocol: str = "authors", normalization: dict | None = None) -> Dataset:
    """The train / val / test windows of ``source``: 'synthetic[:options]', a LARa folder, or a .npz file.

    ``protocol``: how LARa recordings (real or synthetic) are windowed (``lara.PROTOCOLS``); ``normalization``:
    a trained model's stored ``low`` / ``high`` range, used instead of this data's training range.
    """
    source = str(source)
    forms.require(forms.ACTIVITY, source)
    if not is_synthetic(source) and (source.endswith(".npz") or Path(source).is_file()):
        return _from_npz(source, seed, normalization)
    problems = Problems()
    recs, sensors, description = read_recordings(source, problems)
    return _from_recordings(recs, sensors, window, stride, source, description, is_synthetic(source), protocol,
                            problems, normalization)


def read_recordings(source: str, problems: Problems) -> tuple:
    """(recordings, sensor set, description) of synthetic[:options] or a LARa folder (not a .npz of windows)."""
    if is_synthetic(source):
        options = parse_synthetic(source)
        description = (f"SYNTHETIC LARa-shaped activity data ({options['sensors']}: {options['subjects']} subjects x "
                       f"{options['seconds']:g} s, seed {options['seed']}), not the LARa dataset")
        return synthetic_activity.recordings(**options), options["sensors"], description
    sensors, recs = lara.recordings(source, problems)
    return recs, sensors, f"LARa {sensors} at {source}"
