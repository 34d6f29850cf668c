"""Open-set verification data (issue 28): people split subject-disjoint, test people enrolled on one recording.

A source is any gait source with at least two recordings per person: ``ouisir:PATH`` (OU-ISIR inertial,
both sensors, 100 Hz), a Padova (IDNet) folder, or ``synthetic[:users=..,sessions=..,seconds=..,...]``.

* **People split.** With the seed, ``train_share`` of the people (default 70%, rounded, at least 2) are
  training people; the rest are test people, never seen in training. ``train_share=0`` makes every person a
  test person (a model trained elsewhere, ``gaitbnn evaluate --protocol verification``).
* **Training windows.** Every recording of a training person, cut into ``window_seconds`` windows every
  ``train_stride_seconds`` (overlapping, the ``best`` gait recipe's 0.2 s).
* **Enrolment and probes.** A test person's recordings sorted by name: the first is the enrolment recording
  (OU-ISIR: ``Walk1``), every other one a probe walk. Their windows are cut every ``test_stride_seconds``
  (1 s: half-overlapping 2 s windows, 2-4 per 5 s OU-ISIR walk). A test person without an enrolment window or
  without a probe window is left out and counted.
* **Representation.** ``signal``: the gait models' (6, T, 1) windows of accelerometer and gyroscope, each
  channel standardized with the training windows' statistics. ``spectrogram``: MM'19's input for its LeNet4,
  on the same windows: the accelerometer at 50 Hz, a 32-sample Hann window every 4 samples per axis, log power,
  axes stacked (51 x 18 for 2 s), standardized with one mean and deviation.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from gaitbnn.data import forms, ou_isir, padova, spectrogram, synthetic
from gaitbnn.data.problems import Problems
from gaitbnn.data.recordings import CHANNELS, cut, summary, uniform_signal
from gaitbnn.data.sources import is_synthetic, parse_synthetic
from gaitbnn.errors import InputError

TRAIN_SHARE = 0.7
WINDOW_SECONDS = 2.0
TRAIN_STRIDE_SECONDS = 0.2
TEST_STRIDE_SECONDS = 1.0
MIN_PEOPLE_PER_SIDE = 2
SIGNAL, SPECTROGRAM = "signal", "spectrogram"
REPRESENTATIONS = (SIGNAL, SPECTROGRAM)
SPECTROGRAM_RATE_HZ, SPECTROGRAM_NPERSEG, SPECTROGRAM_HOP = 50.0, 32, 4
SYNTHETIC = dict(users=30, sessions=2, seconds=12.0, rate=100.0, noise=0.6, drift=0.15, seed=4321)
LAYOUTS = "ouisir:PATH, a Padova (IDNet) folder or synthetic[:options]"


@dataclass
class VerificationData:
    x_train: np.ndarray  # training people's windows
    y_train: np.ndarray  # index into train_people
    x_test: np.ndarray  # test people's windows: enrolment and probes
    test_person: np.ndarray  # index into test_people, per test window
    test_walk: np.ndarray  # "person/recording" per test window
    enrolment: np.ndarray  # True for a window of its person's enrolment recording
    train_people: list[str]
    test_people: list[str]
    representation: str
    synthetic: bool
    description: str
    source: str
    normalization: dict = field(default_factory=dict)
    options: dict = field(default_factory=dict)  # train_share, window and strides, for reruns
    summary: dict = field(default_factory=dict)
    problems: Problems = field(default_factory=Problems)

    @property
    def input_shape(self) -> tuple:
        return tuple(self.x_test.shape[1:])

    @property
    def probe_walks(self) -> list:
        """The probe walks' names, sorted."""
        return sorted(set(self.test_walk[~self.enrolment]))


def read_recordings(source: str, problems: Problems) -> tuple:
    """(walks with 6 channels, description) of a verification source."""
    if is_synthetic(source):
        options = parse_synthetic(source, SYNTHETIC)
        return synthetic.recordings(**options), (
            f"SYNTHETIC gait data ({options['users']} people x {options['sessions']} walks x {options['seconds']:g} s, "
            f"seed {options['seed']})")
    kind, _, path = source.partition(":")
    if kind == "ouisir":
        if not path:
            raise InputError(f"--data {source}: give the folder, as ouisir:PATH")
        return ou_isir.inertial_recordings(path, problems), f"OU-ISIR inertial (both sensors) at {path}"
    return padova.recordings(source, problems), f"Padova (IDNet) layout at {source}"


def split_people(people: list, train_share: float, seed: int) -> tuple:
    """(training people, test people), each sorted: a seeded ``train_share`` of ``people``, the rest."""
    if train_share == 0:
        return [], sorted(people)
    count = int(round(train_share * len(people)))
    if count < MIN_PEOPLE_PER_SIDE or len(people) - count < MIN_PEOPLE_PER_SIDE:
        raise InputError(f"--train-share {train_share:g} of {len(people)} people leaves {count} training and "
                         f"{len(people) - count} test people; each side needs at least {MIN_PEOPLE_PER_SIDE}: "
                         "use another share or more people")
    order = np.random.default_rng(seed).permutation(sorted(people))
    return sorted(order[:count].tolist()), sorted(order[count:].tolist())


def _windows(recording, samples: int, window_seconds: float, stride_seconds: float,
             representation: str) -> np.ndarray:
    """Raw windows of one recording every ``stride_seconds``: (k, 6, samples) signals or (k, T, 3) accelerometer
    at 50 Hz for spectrograms."""
    if representation == SPECTROGRAM:
        samples = int(round(SPECTROGRAM_RATE_HZ * window_seconds))
    stride = max(1, int(round(stride_seconds * samples / window_seconds)))
    uniform = uniform_signal(recording, samples, window_seconds)
    windows = cut(uniform, samples, stride)
    return windows[:, :, :3] if representation == SPECTROGRAM else np.ascontiguousarray(windows.transpose(0, 2, 1))


def _images(raw: np.ndarray) -> np.ndarray:
    """(k, T, 3) accelerometer windows at 50 Hz -> (k, rows, frames) log spectrograms."""
    return np.stack([spectrogram.spectrogram(w, SPECTROGRAM_RATE_HZ, SPECTROGRAM_NPERSEG, SPECTROGRAM_HOP)
                     for w in raw]).astype(np.float32)


def load(source: str = "synthetic", seed: int = 0, input_shape: tuple = (6, 98, 1), train_share: float = TRAIN_SHARE,
         window_seconds: float = WINDOW_SECONDS, train_stride_seconds: float = TRAIN_STRIDE_SECONDS,
         test_stride_seconds: float = TEST_STRIDE_SECONDS, representation: str = SIGNAL,
         normalization: dict | None = None) -> VerificationData:
    """The verification protocol's windows of ``source`` (see the module docstring).

    ``input_shape``: the model's (6, T, 1) for ``signal`` (T samples per window); ignored for ``spectrogram``.
    ``normalization``: a trained model's statistics to use instead of the training windows' (required with
    ``train_share=0``).
    """
    source = str(source)
    forms.require(forms.VERIFY, source)
    if representation not in REPRESENTATIONS:
        raise InputError(f"representation {representation}: use one of {', '.join(REPRESENTATIONS)}")
    if not 0 <= train_share < 1:
        raise InputError(f"--train-share {train_share:g}: give a share of the people between 0 and 1")
    if representation == SIGNAL and int(input_shape[0]) != len(CHANNELS):
        raise InputError(f"model input has {input_shape[0]} rows; the gait data has {len(CHANNELS)} channels")
    samples = int(input_shape[1])
    problems = Problems()
    recs, description = read_recordings(source, problems)
    sessions = {}
    for r in recs:
        sessions.setdefault(r.user, set()).add(r.session)
    eligible = sorted(p for p, s in sessions.items() if len(s) >= 2)
    if not eligible:
        raise InputError(f"{source}: every person has one recording; verification enrols a person on one recording "
                         "and probes with another: give a source with at least two recordings per person")
    for person in sorted(set(sessions) - set(eligible)):
        problems.add("one_recording", "people with one recording (left out: nothing to probe with)", person)
    if len(eligible) < 2 * MIN_PEOPLE_PER_SIDE:
        raise InputError(f"{source}: {len(eligible)} people with two or more recordings; the protocol needs at least "
                         f"{2 * MIN_PEOPLE_PER_SIDE} (training and test people): give more people")
    train_people, test_people = split_people(eligible, train_share, seed)
    train_x, train_y = [], []
    for r in recs:
        if r.user in train_people:
            w = _windows(r, samples, window_seconds, train_stride_seconds, representation)
            train_x.append(w)
            train_y += [train_people.index(r.user)] * len(w)
    test_x, person, walk, enrol = [], [], [], []
    for p in test_people:
        first = sorted(sessions[p])[0]
        mine = [(r, _windows(r, samples, window_seconds, test_stride_seconds, representation))
                for r in recs if r.user == p]
        if not any(len(w) for r, w in mine if r.session == first) or not any(len(w) for r, w in mine
                                                                              if r.session != first):
            problems.add("test_person_without_windows", f"test people without an enrolment or a probe window of "
                         f"{window_seconds:g} s (left out)", p)
            continue
        for r, w in mine:
            test_x.append(w)
            person += [p] * len(w)
            walk += [f"{p}/{r.session}"] * len(w)
            enrol += [r.session == first] * len(w)
    kept = sorted(set(person))
    if len(kept) < MIN_PEOPLE_PER_SIDE:
        raise InputError(f"{source}: {len(kept)} test people have both an enrolment and a probe window of "
                         f"{window_seconds:g} s; the protocol needs at least {MIN_PEOPLE_PER_SIDE}: give longer walks")
    x_train = np.concatenate(train_x).astype(np.float32) if train_x else np.zeros((0, *input_shape[:-1]), np.float32)
    x_test = np.concatenate(test_x).astype(np.float32)
    if representation == SPECTROGRAM:
        x_train = _images(x_train) if len(x_train) else np.zeros((0, *_images(x_test[:1]).shape[1:]), np.float32)
        x_test = _images(x_test)
    norm = _statistics(x_train, representation, normalization)
    mean, std = (np.reshape(norm[k], (1, -1, 1)) if representation == SIGNAL else norm[k] for k in ("mean", "std"))
    share = "every person a test person" if not train_people else \
        f"{len(train_people)} training / {len(kept)} test people ({train_share:.0%}, seed {seed})"
    return VerificationData(
        ((x_train - mean) / std)[..., None].astype(np.float32), np.array(train_y, dtype=np.int64),
        ((x_test - mean) / std)[..., None].astype(np.float32), np.array([kept.index(p) for p in person], np.int64),
        np.array(walk), np.array(enrol, dtype=bool), train_people, kept, representation, is_synthetic(source),
        f"{description}; verification: {share}, {window_seconds:g} s windows "
        f"({representation}), enrolled on each test person's first recording",
        source, {**norm, "window_seconds": window_seconds, "samples": samples},
        {"train_share": train_share, "window_seconds": window_seconds, "train_stride_seconds": train_stride_seconds,
         "test_stride_seconds": test_stride_seconds, "representation": representation},
        summary(recs), problems)


def _statistics(x_train: np.ndarray, representation: str, normalization: dict | None) -> dict:
    """The standardization: a trained model's, or the training windows' (per channel for signals)."""
    if normalization and "mean" in normalization:
        return {"mean": normalization["mean"], "std": normalization["std"]}
    if not len(x_train):
        raise InputError("no training people and no stored normalization: evaluate a trained run on this source")
    if representation == SPECTROGRAM:
        return {"mean": float(x_train.mean()), "std": float(x_train.std()) + 1e-6}
    return {"mean": x_train.mean(axis=(0, 2)).tolist(), "std": (x_train.std(axis=(0, 2)) + 1e-6).tolist()}
