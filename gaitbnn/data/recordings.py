"""Walking recordings and their cutting into model input windows.

A ``Recording`` is one walk of one user: timestamps in seconds and a (samples, 6)
array of accelerometer x, y, z and gyroscope x, y, z. Every source (the Padova
logs, the synthetic generator) produces recordings; this module turns them into
windows of a fixed duration resampled to the model's T samples, so all models in
Table 2 see the same stretch of walking, each at its own resolution.
"""
from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from scipy.interpolate import interp1d

from gaitbnn.data.records import Recording
from gaitbnn.errors import InputError

CHANNELS = ("acc_x", "acc_y", "acc_z", "gyro_x", "gyro_y", "gyro_z")


def summary(recordings: list) -> dict:
    """What a loader read: ``subjects``, ``recordings`` (walks), total ``seconds`` and ``sample_rate_hz``.

    ``recordings`` are ``Recording``s (times in seconds). Pieces of one walk split at gaps count as one
    recording; the sample rate of each piece is its median sampling step's inverse.
    """
    recordings = list(recordings)
    rates = [1.0 / float(np.median(np.diff(r.times))) for r in recordings if len(r.times) > 1]
    return {
        "subjects": len({r.user for r in recordings}),
        "recordings": len({(r.user, r.session) for r in recordings}),
        "seconds": round(float(sum(r.times[-1] - r.times[0] for r in recordings if len(r.times) > 1)), 2),
        "sample_rate_hz": rate_summary(rates),
    }


def rate_summary(rates: list) -> dict | None:
    """min / median / max of sample rates in Hz (None when there are none)."""
    if not len(rates):
        return None
    rates = np.asarray(rates, dtype=np.float64)
    return {"min": round(float(rates.min()), 3), "median": round(float(np.median(rates)), 3),
            "max": round(float(rates.max()), 3)}


def interpolate(times: np.ndarray, values: np.ndarray, new_times: np.ndarray) -> np.ndarray:
    """Linear interpolation of ``values`` (n, c) sampled at ``times`` onto ``new_times`` (inside their range)."""
    return interp1d(times, values, axis=0, assume_sorted=True)(new_times)


def resample(times: np.ndarray, values: np.ndarray, rate_hz: float) -> tuple:
    """``values`` (n, c) on a uniform grid at ``rate_hz`` from the first sample to before the last: (grid, values)."""
    grid = np.arange(times[0], times[-1], 1.0 / rate_hz)
    return grid, interpolate(times, values, grid)


def cut(uniform: np.ndarray, length: int, stride: int | None = None) -> np.ndarray:
    """Windows of ``length`` samples every ``stride`` (default: ``length``, no overlap) of ``uniform`` (n, c):
    (k, length, c); k is 0 when it is shorter than one window. A window never crosses the end."""
    stride = stride or length
    if len(uniform) < length:
        return np.zeros((0, length, *uniform.shape[1:]), uniform.dtype)
    view = sliding_window_view(uniform, length, axis=0)[::stride]  # (k, c, length)
    return np.moveaxis(view, -1, 1)


def uniform_signal(recording: Recording, samples: int, window_seconds: float) -> np.ndarray:
    """``recording`` resampled to ``samples`` points per ``window_seconds``: (n, 6) float32, channels last."""
    _, uniform = resample(recording.times, recording.signal, samples / window_seconds)
    return np.asarray(uniform, dtype=np.float32)


def windows(recording: Recording, samples: int, window_seconds: float) -> np.ndarray:
    """Non-overlapping windows of ``window_seconds``, each resampled to ``samples`` points.

    Returns (k, 6, samples) float32. Windows never overlap, so no sample of the
    walk is shared by two windows (and hence by two splits).
    """
    uniform = uniform_signal(recording, samples, window_seconds)
    return np.ascontiguousarray(cut(uniform, samples).transpose(0, 2, 1), dtype=np.float32)


def windows_by_user(recordings: list, samples: int, window_seconds: float, min_windows: int) -> tuple:
    """Cut every recording; return (x, user labels, walk names, sorted user names, places).

    ``walk names`` (one per window, ``user/session``) let a split hold out whole walks; ``places`` (one row
    per window: index of its recording in ``recordings``, first sample) let ``overlapping_windows`` cut more
    training windows around the held-out ones. A user with fewer than ``min_windows`` windows cannot be split
    80/20 with a validation part: that is an input error naming the user's recordings.
    """
    per_user = {}
    walks = {}
    origins = {}
    places = {}
    for index, rec in enumerate(recordings):
        cut = windows(rec, samples, window_seconds)
        per_user.setdefault(rec.user, []).append(cut)
        walks.setdefault(rec.user, []).extend([f"{rec.user}/{rec.session}"] * len(cut))
        origins.setdefault(rec.user, []).append(rec.origin)
        places.setdefault(rec.user, []).extend((index, k * samples) for k in range(len(cut)))
    users = sorted(per_user)
    xs, ys, groups, where = [], [], [], []
    for label, user in enumerate(users):
        x = np.concatenate(per_user[user], axis=0)
        if len(x) < min_windows:
            shown = sorted(set(origins[user]))
            listed = ", ".join(shown[:3]) + (f" and {len(shown) - 3} more" if len(shown) > 3 else "")
            raise InputError(
                f"user {user} has {len(x)} windows of {window_seconds:g} s, needs at least {min_windows} "
                f"({listed}): add longer walks or remove this user"
            )
        xs.append(x)
        ys.append(np.full(len(x), label, dtype=np.int64))
        groups.extend(walks[user])
        where.extend(places[user])
    return (np.concatenate(xs), np.concatenate(ys), np.array(groups), users,
            np.array(where, dtype=np.int64).reshape(-1, 2))


def overlapping_windows(recordings: list, labels: dict, samples: int, window_seconds: float, stride: int,
                        held: np.ndarray) -> tuple:
    """Training windows every ``stride`` samples that share no sample with a held-out window: (x, y).

    ``labels``: user name -> class; ``held``: ``places`` rows (recording index, first sample) of the validation
    and test windows. A window is cut from its recording's whole length, the stretches of held-out windows
    excepted, so overlapping training windows never reach into another split.
    """
    held_by_recording = {}
    for index, start in held:
        held_by_recording.setdefault(int(index), []).append(int(start))
    xs, ys = [], []
    for index, rec in enumerate(recordings):
        if rec.user not in labels:
            continue
        uniform = uniform_signal(rec, samples, window_seconds)
        free = np.ones(len(uniform), dtype=bool)
        for start in held_by_recording.get(index, ()):
            free[start:start + samples] = False
        if len(uniform) < samples:
            continue
        starts = np.arange(0, len(uniform) - samples + 1, stride)
        usable = np.array([free[s:s + samples].all() for s in starts], dtype=bool)
        if not usable.any():
            continue
        cut_windows = np.stack([uniform[s:s + samples] for s in starts[usable]]).transpose(0, 2, 1)
        xs.append(cut_windows)
        ys.append(np.full(len(cut_windows), labels[rec.user], dtype=np.int64))
    return np.concatenate(xs).astype(np.float32), np.concatenate(ys)
