"""The ``Dataset`` every model trains on, and its construction from recordings.

Two splits (``SPLITS``):

* ``windows`` (BiPedalNet Sec. 2.3, the default: "an 80/20 split" of the Padova
  windows): 20% of each user's windows are the test set, drawn at random with the
  seed and stratified by user; 10% of the remaining 80% are held out for
  validation (learning-rate schedule and best checkpoint). Windows do not overlap,
  so no sample is shared between splits, but neighbouring windows of one walk land
  in train and test.
* ``walks``: whole walks are held out, the honest biometric question ("the same
  person on another walk?"). Per user, with the seed: 20% of the walks (at least
  one) are the test set, then 10% of the rest (at least one when two or more
  remain) the validation set; a user with a single walk is an input error.

Each channel is standardized with the mean and standard deviation of the
training windows only.

``train_stride_seconds`` (the ``best`` recipe, ``models.recipes``): the training
windows are cut again every so many seconds, overlapping, from each recording's
stretches outside its validation and test windows, so no training window shares a
sample with another split (``recordings.overlapping_windows``).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from sklearn.model_selection import GroupShuffleSplit, train_test_split

from gaitbnn.data import forms, padova, synthetic
from gaitbnn.data.problems import Problems
from gaitbnn.data.recordings import CHANNELS, overlapping_windows, summary, windows_by_user
from gaitbnn.data.sources import is_synthetic, parse_synthetic
from gaitbnn.errors import InputError

if TYPE_CHECKING:
    from gaitbnn.data.dataset import Dataset

TEST_FRACTION = 0.2
VAL_FRACTION = 0.1
MIN_WINDOWS_PER_USER = 5
WINDOW_SECONDS = 2.0
SPLITS = ("windows", "walks")


@dataclass
class Dataset:
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: list[str]
    channel_names: list[str]
    synthetic: bool
    description: str
    source: str
    normalization: dict = field(default_factory=dict)
    # Activity data (tCNN / BtCNN): per-window attribute vectors, and the table that decodes a predicted
    # attribute vector to the class of its nearest row (one row per class-attribute combination in training).
    attributes_train: np.ndarray | None = None
    attributes_val: np.ndarray | None = None
    attributes_test: np.ndarray | None = None
    attribute_names: list[str] = field(default_factory=list)
    attribute_table: np.ndarray | None = None
    attribute_table_classes: np.ndarray | None = None
    options: dict = field(default_factory=dict)  # how the windows were cut (window, stride), for reruns
    test_groups: dict = field(default_factory=dict)  # per-test-item labels to score by (GEIs: view, condition;
    # gait: the walk of each test window, for a vote over a walk's windows)
    # What the loader read (subjects, recordings, seconds, sample_rate_hz) and the quirks it handled.
    summary: dict = field(default_factory=dict)
    problems: Problems = field(default_factory=Problems)

    @property
    def input_shape(self) -> tuple:
        return tuple(self.x_train.shape[1:])

    @property
    def classes(self) -> int:
        return len(self.class_names)


def walk_split(y: np.ndarray, walks: np.ndarray, seed: int, test_fraction: float = TEST_FRACTION,
               val_fraction: float = VAL_FRACTION, users: list | None = None) -> tuple:
    """(train, val, test) window indices holding out whole walks per user (see the module docstring).

    Per user, scikit-learn's ``GroupShuffleSplit`` (walks as groups, seeded) takes ``test_fraction`` of the
    walks, rounded up, for test, then ``val_fraction`` of the rest (when two or more remain) for validation.
    """
    parts = {"train": [], "val": [], "test": []}
    for label in np.unique(y):
        mine = np.flatnonzero(y == label)
        groups = walks[mine]
        if len(set(groups)) < 2:
            who = users[label] if users is not None else label
            raise InputError(f"user {who} has 1 walk ({groups[0]}): --split walks holds out whole walks and needs "
                             "at least 2 per user; use --split windows")
        rest, test = next(GroupShuffleSplit(1, test_size=test_fraction, random_state=seed + int(label))
                          .split(mine, groups=groups))
        val = np.arange(0)
        if val_fraction > 0 and len(set(groups[rest])) >= 2:
            keep, held = next(GroupShuffleSplit(1, test_size=val_fraction, random_state=seed + int(label))
                              .split(rest, groups=groups[rest]))
            rest, val = rest[keep], rest[held]
        for part, index in (("train", rest), ("val", val), ("test", test)):
            parts[part].append(mine[index])
    return tuple(np.sort(np.concatenate(parts[k])) for k in ("train", "val", "test"))


def window_split(y: np.ndarray, seed: int) -> tuple:
    """(train, val, test) window indices: 80/20 stratified by user, then 10% of the 80 for validation."""
    idx = np.arange(len(y))
    rest, test = train_test_split(idx, test_size=TEST_FRACTION, stratify=y, random_state=seed)
    train, val = train_test_split(rest, test_size=VAL_FRACTION, stratify=y[rest], random_state=seed)
    return train, val, test


def read_recordings(source: str, problems: Problems, keep_duplicates: bool = False) -> tuple:
    """(walks, description) of a gait source: synthetic[:options] or a Padova (IDNet) folder."""
    if is_synthetic(source):
        options = parse_synthetic(source)
        description = (f"SYNTHETIC gait data ({options['users']} users x {options['sessions']} walks x "
                       f"{options['seconds']:g} s, seed {options['seed']}), not the Padova dataset")
        return synthetic.recordings(**options), description
    recordings = padova.recordings(source, problems, keep_duplicates=keep_duplicates)
    return recordings, f"Padova (IDNet) gait dataset at {source}"


def load(source: str = "synthetic", input_shape: tuple = (6, 98, 1), seed: int = 0,
         window_seconds: float = WINDOW_SECONDS, split: str = "windows", keep_duplicates: bool = False,
         normalization: dict | None = None, train_stride_seconds: float | None = None) -> Dataset:
    """Build the train/val/test windows for a model input of ``input_shape`` (channels, T, 1).

    ``split``: ``windows`` (the paper's) or ``walks`` (whole walks held out); ``keep_duplicates``: keep a
    recording that a Padova folder files under two users (left out of both by default); ``normalization``: a
    trained model's per-channel ``mean`` and ``std`` to use instead of this data's training statistics;
    ``train_stride_seconds``: cut overlapping training windows at this stride (see the module docstring).
    """
    source = str(source)
    forms.require(forms.GAIT, source)
    if split not in SPLITS:
        raise InputError(f"--split {split}: use one of {', '.join(SPLITS)}")
    channels, samples = int(input_shape[0]), int(input_shape[1])
    if channels != len(CHANNELS):
        raise InputError(f"model input has {channels} rows; the gait data has {len(CHANNELS)} channels {CHANNELS}")
    problems = Problems()
    recs, description = read_recordings(source, problems, keep_duplicates)
    x, y, walks, users, places = windows_by_user(recs, samples, window_seconds, MIN_WINDOWS_PER_USER)
    if len(users) < 2:
        raise InputError(f"{source}: only {len(users)} user found; identification needs at least 2 users")
    if split == "walks":
        train, val, test = walk_split(y, walks, seed, users=users)
        if not len(val):  # every user has exactly two walks: validate on training windows held out at random
            train, val = train_test_split(train, test_size=VAL_FRACTION, stratify=y[train], random_state=seed)
    else:
        train, val, test = window_split(y, seed)
    x_train, y_train = x[train], y[train]
    if train_stride_seconds:
        stride = max(1, int(round(train_stride_seconds * samples / window_seconds)))
        held = places[np.concatenate([val, test])]
        x_train, y_train = overlapping_windows(recs, {user: label for label, user in enumerate(users)}, samples,
                                               window_seconds, stride, held)
    if normalization and "mean" in normalization:
        mean = np.reshape(normalization["mean"], (1, -1, 1))
        std = np.reshape(normalization["std"], (1, -1, 1))
    else:
        mean = x_train.mean(axis=(0, 2), keepdims=True)
        std = x_train.std(axis=(0, 2), keepdims=True) + 1e-6

    def prepare(windows, labels):
        return ((windows - mean) / std)[..., None].astype(np.float32), labels

    (x_tr, y_tr), (x_va, y_va), (x_te, y_te) = (prepare(x_train, y_train), prepare(x[val], y[val]),
                                                prepare(x[test], y[test]))
    overlap = f"; training windows every {train_stride_seconds:g} s" if train_stride_seconds else ""
    split_text = "whole walks held out per user" if split == "walks" else "windows split at random"
    return Dataset(
        x_tr, y_tr, x_va, y_va, x_te, y_te,
        class_names=users,
        channel_names=list(CHANNELS),
        synthetic=is_synthetic(source),
        description=f"{description}; {window_seconds:g} s windows of {samples} samples; split: {split_text}{overlap}",
        source=source,
        normalization={"mean": mean.ravel().tolist(), "std": std.ravel().tolist(),
                       "window_seconds": window_seconds, "samples": samples},
        options={"window_seconds": window_seconds, "split": split, "keep_duplicates": bool(keep_duplicates),
                 "train_stride_seconds": train_stride_seconds},
        test_groups={"walk": walks[test]},
        summary=summary(recs),
        problems=problems,
    )
