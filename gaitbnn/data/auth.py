"""Authentication data for the siamese paper (MM'19 Sec. 4.2): spectrograms per person, an 80/20 split.

``--data`` names a source: ``mcgill:PATH``, ``idnet:PATH`` (the Padova layout,
accelerometer only), ``zju:PATH`` (ZJU-GaitAcc), ``ouisir:PATH`` (OU-ISIR, the
attackers' database) or ``synthetic[:users=..,sessions=..,seconds=..,noise=..,drift=..,seed=..]``
(the default: ``data.synthetic``'s walks, accelerometer only).

Every recording is cut into non-overlapping 5.12 s segments (``data.spectrogram``);
each segment is one spectrogram image and one raw window (the time-domain
baseline). ``split="windows"`` (the paper's): 80% of each person's segments are
training samples and 20% test samples ("the datasets are split into 80% for
training and 20% for testing"), drawn with the seed. ``split="walks"``: whole
recordings (sessions, walks) are held out per person, 20% of them and at least
one (``dataset.walk_split``): is it the same person on another walk? Both
representations are standardized with the training part's statistics.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from sklearn.model_selection import train_test_split

from gaitbnn.data import forms, mcgill, ou_isir, padova, spectrogram, synthetic, zju_gaitacc
from gaitbnn.data.dataset import SPLITS, walk_split
from gaitbnn.data.problems import Problems
from gaitbnn.data.recordings import summary
from gaitbnn.data.sources import parse_synthetic
from gaitbnn.errors import InputError

if TYPE_CHECKING:
    from gaitbnn.data.auth import AuthData

SOURCES = {"mcgill": (mcgill.recordings, "McGill"), "idnet": (padova.recordings, "IDNet (Padova)"),
           "zju": (zju_gaitacc.recordings, "ZJU-GaitAcc"), "ouisir": (ou_isir.recordings, "OU-ISIR")}
SYNTHETIC = dict(users=10, sessions=2, seconds=60.0, noise=0.6, drift=0.15, seed=1234)
TEST_FRACTION = 0.2
MIN_SEGMENTS = 5  # so that 20% is at least one test segment and 80% at least four training ones


@dataclass
class AuthData:
    images: np.ndarray  # (n, 99, 25, 1) standardized log spectrograms
    windows: np.ndarray  # (n, 3, 256, 1) standardized raw segments (softmax(sw) baseline)
    y: np.ndarray  # (n,) person index
    sessions: np.ndarray  # (n,) session index within the person (0 = first)
    train: np.ndarray  # indices of training samples
    test: np.ndarray  # indices of test samples
    people: list[str]
    synthetic: bool
    description: str
    source: str
    normalization: dict = None  # image_mean, image_std (scalars), window_mean, window_std (per axis)
    summary: dict = field(default_factory=dict)  # subjects, recordings, seconds, sample_rate_hz as read
    problems: Problems = field(default_factory=Problems)
    options: dict = field(default_factory=dict)  # how it was split ("split"), for reruns

    @property
    def classes(self) -> int:
        return len(self.people)

    @property
    def input_shape(self) -> tuple:
        return tuple(self.images.shape[1:])

    @property
    def x_test(self) -> np.ndarray:
        return self.images[self.test]


def _recordings(source, problems):
    kind, _, path = source.partition(":")
    if kind == "synthetic":
        options = parse_synthetic(source, SYNTHETIC)
        recs = synthetic.recordings(**options)
        return ([type(r)(r.user, r.session, r.times, r.signal[:, :3], r.origin) for r in recs], True,
                f"SYNTHETIC accelerometer walks ({options['users']} people x {options['sessions']} "
                f"session{'s' if options['sessions'] != 1 else ''} x "
                f"{options['seconds']:g} s, session drift {options['drift']:g} rad, seed {options['seed']})")
    if kind not in SOURCES or not path:
        raise InputError(f"--data {source}: name the source as synthetic, {':PATH, '.join(SOURCES)}:PATH")
    reader, label = SOURCES[kind]
    recs = reader(path, problems)
    if kind == "idnet":  # the Padova walks carry the gyroscope too
        recs = [type(r)(r.user, r.session, r.times, r.signal[:, :3], r.origin) for r in recs]
    return recs, False, f"{label} at {path}"


def load(source: str = "synthetic", seed: int = 0, split: bool | str = True,
         normalization: dict | None = None) -> AuthData:
    """Spectrograms and windows of every person in ``source``; ``split=False`` keeps all as test (attackers).

    ``split``: True or "windows" (80/20 of each person's segments, the paper's), "walks" (whole recordings
    held out per person), or False (every sample a test sample).

    Both representations are standardized with the training part's statistics, or with ``normalization``:
    the enrolled users' (an ``AuthData``'s), so that attackers' samples go through their pipeline as on the
    phone, or a trained model's stored statistics.
    """
    source = str(source)
    forms.require(forms.AUTH, source)
    split = "windows" if split is True else split
    if split and split not in SPLITS:
        raise InputError(f"--split {split}: use one of {', '.join(SPLITS)}")
    problems = Problems()
    recs, synthetic_data, description = _recordings(source, problems)
    people = sorted({r.user for r in recs})
    session_names = {p: sorted({r.session for r in recs if r.user == p}) for p in people}
    segs, ys, sessions = [], [], []
    for r in recs:
        cut = spectrogram.segments(r.times, r.signal)
        if not len(cut):
            problems.add("shorter_than_a_segment", f"recordings shorter than one {spectrogram.SEGMENT_SECONDS:g} s "
                         "segment (no sample from them)", r.origin)
        segs.append(cut)
        ys += [people.index(r.user)] * len(cut)
        sessions += [session_names[r.user].index(r.session)] * len(cut)
    y, sessions = np.array(ys, dtype=np.int64), np.array(sessions, dtype=np.int64)
    segments = np.concatenate(segs) if segs else np.zeros((0, spectrogram.SEGMENT, 3))
    counts = np.bincount(y, minlength=len(people))
    if split:
        short = [p for p, c in zip(people, counts) if c < MIN_SEGMENTS]
        if short:
            raise InputError(f"{source}: {short[0]} has {counts[people.index(short[0])]} segments of "
                             f"{spectrogram.SEGMENT / spectrogram.RATE_HZ:g} s, needs {MIN_SEGMENTS}: add longer walks "
                             "or remove this person")
        if len(people) < 2:
            raise InputError(f"{source}: {len(people)} person found; authentication needs at least 2")
        if split == "walks":
            walks = np.array([f"{person}/{session}" for person, session in zip(y, sessions)])
            train, _, test = walk_split(y, walks, seed, TEST_FRACTION, 0.0, people)
        else:
            train, test = train_test_split(np.arange(len(y)), test_size=TEST_FRACTION, stratify=y, random_state=seed)
    else:
        if not len(y):
            raise InputError(f"{source}: no recording is {spectrogram.SEGMENT / spectrogram.RATE_HZ:g} s long")
        train, test = np.arange(0), np.arange(len(y))
    images, windows = spectrogram.images(segments), spectrogram.sliding_windows(segments)
    if normalization and "image_mean" in normalization:
        norm = normalization
    else:
        fit = train if len(train) else test
        norm = {"image_mean": float(images[fit].mean()), "image_std": float(images[fit].std()) + 1e-6,
                "window_mean": windows[fit].mean(axis=(0, 2, 3)).tolist(),
                "window_std": (windows[fit].std(axis=(0, 2, 3)) + 1e-6).tolist()}
    images = (images - norm["image_mean"]) / norm["image_std"]
    axes = (1, len(norm["window_mean"]), 1, 1)
    windows = (windows - np.reshape(norm["window_mean"], axes)) / np.reshape(norm["window_std"], axes)
    return AuthData(images.astype(np.float32), windows.astype(np.float32), y, sessions, np.sort(train),
                    np.sort(test), people, synthetic_data,
                    f"{description}; {len(y)} segments of 5.12 s ({len(train)} train / {len(test)} test"
                    + (", whole walks held out)" if split == "walks" else ")"), source,
                    norm, summary(recs), problems, {"split": split or "none (all test)"})
