"""Bring your own windows: one ``.npz`` file for every tCNN / BtCNN model.

Arrays:
- ``x`` (N, T, C) float: N windows of T time steps and C channels;
- ``y`` (N,) integer class labels (any integers; mapped to 0..K-1 in sorted order);
- optional ``subject`` (N,): who recorded each window (split subject-wise);
- optional ``split`` (N,): ``train`` / ``val`` / ``test`` per window (used as given);
- optional ``attributes`` (N, A) of 0/1 for the attribute heads; without it the
  attribute models learn the one-hot code of the class.

Without ``split``: a seeded subject-wise split (60 / 20 / 20 % of the subjects,
at least one each), or, without ``subject``, a seeded split stratified by class.
"""
from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from gaitbnn.errors import InputError

SPLIT_NAMES = ("train", "val", "test")


def _fail(path, message):
    raise InputError(f"{path}: {message}")


def read(path: str | Path) -> dict:
    """Validate and return dict(x, y, class_names, subject, split, attributes)."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {k: archive[k] for k in archive.files}
    except FileNotFoundError:
        _fail(path, "no such file: pass --data FILE.npz with arrays x and y")
    except (OSError, ValueError, zipfile.BadZipFile) as err:
        _fail(path, f"cannot read the .npz ({str(err).splitlines()[0] if str(err) else type(err).__name__}): "
                    "write it with numpy.savez(path, x=..., y=...)")
    for key in ("x", "y"):
        if key not in arrays:
            _fail(path, f"missing array '{key}' (has: {', '.join(sorted(arrays)) or 'none'}): "
                        "save x (N, T, C) windows and y (N,) labels")
    x, y = arrays["x"], arrays["y"]
    if x.ndim != 3:
        _fail(path, f"x has rank {x.ndim} (shape {x.shape}), expected 3 (windows, time steps, channels)")
    if not np.issubdtype(x.dtype, np.number) or np.issubdtype(x.dtype, np.complexfloating):
        _fail(path, f"x has dtype {x.dtype}: it must hold real numbers")
    if y.ndim != 1:
        _fail(path, f"y has shape {y.shape}, expected (N,) class labels")
    if len(x) != len(y):
        _fail(path, f"x has {len(x)} windows but y has {len(y)} labels: they must match")
    if not np.all(np.isfinite(x)):
        index = int(np.argwhere(~np.isfinite(x))[0][0])
        _fail(path, f"x holds NaN or infinite values (first in window {index}): clean or drop those windows")
    if np.issubdtype(y.dtype, np.floating) and np.all(np.isfinite(y)) and np.all(y == np.round(y)):
        y = y.astype(np.int64)
    if not np.issubdtype(y.dtype, np.integer):
        _fail(path, f"y has dtype {y.dtype}, not integer labels: store class indices (e.g. y.astype(int))")
    values = np.unique(y)
    if len(values) < 2:
        _fail(path, f"y has a single class ({values[0] if len(values) else 'none'}): classification needs at least 2")
    out = dict(x=x.astype(np.float32), y=np.searchsorted(values, y).astype(np.int64),
               class_names=[str(v) for v in values], subject=None, split=None, attributes=None)
    for key in ("subject", "split", "attributes"):
        if key in arrays and len(arrays[key]) != len(y):
            _fail(path, f"{key} has {len(arrays[key])} entries for {len(y)} windows: they must match")
    if "subject" in arrays:
        out["subject"] = arrays["subject"].astype(str)
    if "split" in arrays:
        split = arrays["split"].astype(str)
        unknown = sorted(set(split) - set(SPLIT_NAMES))
        if unknown:
            _fail(path, f"split holds {', '.join(unknown[:3])}: use only train, val and test")
        missing = [s for s in SPLIT_NAMES if s not in set(split)]
        if missing:
            _fail(path, f"split has no {' or '.join(missing)} windows: each of train, val and test needs some")
        out["split"] = split
    if "attributes" in arrays:
        attributes = arrays["attributes"]
        if attributes.ndim != 2 or not np.isin(attributes, (0, 1)).all():
            _fail(path, f"attributes must be an (N, A) array of 0/1 (got shape {attributes.shape})")
        out["attributes"] = attributes.astype(np.float32)
    return out
