"""The Padova (IDNet) gait dataset of Gadaleta & Rossi (2018), as BiPedalNet trains on it.

Assumed layout (the one the dataset is distributed in; one folder per walk)::

    PATH/
      u001_w001/
        u001_w001_accelerometer.log
        u001_w001_gyroscope.log
        (other sensors' logs are ignored)
      u001_w002/ ...
      u002_w001/ ...

A folder ``uUUU_wWWW`` is walk WWW of user UUU. Each log is a text table, one
sample per row: a timestamp, then the x, y and z readings. Columns may be
separated by tabs, spaces, commas or semicolons; a first row of column names is
skipped. Timestamps may be in ns (Android event time), us, ms or s: the unit is
inferred from the median step, assuming a sampling rate between 10 Hz and 1 kHz.

Real IDNet walks are not clean (``REAL-LAYOUTS.md``; a public reader's per-walk
statistics), and each quirk is handled, counted and reported (``data.problems``):

* a repeated or backwards timestamp: that sample is dropped;
* a gap (no sample for more than ``GAP_SECONDS``, e.g. u012_w001's ~200 s): the
  walk is split there into pieces that are windowed separately, never
  interpolated across; the pieces stay one walk for ``--split walks``;
* the same recording filed under two users (identical accelerometer samples,
  e.g. u002_w002 / u003_w001): left out of both, unless ``keep_duplicates``; the
  same samples twice under one user: the copy is left out.

The two sensors are interpolated onto the accelerometer's time grid over the
interval both cover; windows are then cut as for every source (``recordings.windows``).
The loader only reads: nothing is written into PATH.
"""
from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from gaitbnn.data.folders import dataset_root
from gaitbnn.data.problems import collector
from gaitbnn.data.recordings import Recording, interpolate
from gaitbnn.errors import InputError

if TYPE_CHECKING:
    from gaitbnn.data.problems import Problems

WALK_FOLDER = re.compile(r"^u(\d+)_w(\d+)$")
SENSORS = ("accelerometer", "gyroscope")
_SEPARATOR = re.compile(r"[\t ,;]+")
_UNITS = ((1e6, 1e-9), (1e3, 1e-6), (1.0, 1e-3), (1e-3, 1.0))  # (median step above, seconds per unit)
GAP_SECONDS = 1.0


def read_log(path: str | Path, problems: Problems | None = None) -> tuple:
    """Read one sensor log into (times in seconds, (n, 3) readings); input errors name file and line.

    Samples whose timestamp repeats or goes backwards are dropped and counted in ``problems``.
    """
    path = Path(path)
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as err:
        raise InputError(f"{path}: cannot read the sensor log ({err}): check the file") from None
    rows = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        fields = _SEPARATOR.split(line)
        try:
            values = [float(f) for f in fields]
        except ValueError:
            if not rows and number == 1:
                continue  # header row
            raise InputError(f"{path}, line {number}: not a number in '{line[:60]}': fix or remove the row") from None
        if len(values) != 4:
            raise InputError(
                f"{path}, line {number}: {len(values)} columns, expected 4 (timestamp, x, y, z): "
                "this is not a 3-axis sensor log"
            )
        if not np.all(np.isfinite(values)):
            raise InputError(f"{path}, line {number}: NaN or infinite value in '{line[:60]}': fix or remove the row")
        rows.append(values)
    if len(rows) < 2:
        raise InputError(f"{path}: {len(rows)} samples; a walk needs many: the log is empty or truncated")
    table = np.asarray(rows, dtype=np.float64)
    times, readings = table[:, 0], table[:, 1:]
    increasing = np.r_[True, times[1:] > np.maximum.accumulate(times)[:-1]]
    if not increasing.all():
        collector(problems).add("timestamps_dropped", "samples with a repeated or backwards timestamp dropped",
                                str(path), int((~increasing).sum()))
        times, readings = times[increasing], readings[increasing]
    if len(times) < 2:
        raise InputError(f"{path}: {len(times)} samples with increasing timestamps; a walk needs many: "
                         "the log is empty or corrupt")
    median = float(np.median(np.diff(times)))
    scale = next(s for threshold, s in _UNITS if median > threshold)
    return (times - times[0]) * scale, readings


def _pieces(times, gaps):
    """Indices of ``times`` split at the ``gaps`` ((start, end) intervals with no sample): a list of index arrays.

    A sample strictly inside a gap (only possible for a gap of the other sensor) is dropped.
    """
    piece = np.zeros(len(times), dtype=np.int64)
    inside = np.zeros(len(times), dtype=bool)
    for start, end in gaps:
        piece += times >= end
        inside |= (times > start) & (times < end)
    return [np.flatnonzero((piece == k) & ~inside) for k in range(len(gaps) + 1)]


def _gaps(times):
    steps = np.diff(times)
    return [(times[i], times[i + 1]) for i in np.flatnonzero(steps > GAP_SECONDS)]


def _merge(intervals):
    """Overlapping (start, end) intervals joined: one gap seen in both sensors' logs is one gap."""
    merged = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _walk(folder, problems):
    """One walk folder -> its Recordings (one per piece between gaps), 6 channels on the accelerometer's grid."""
    prefix = folder.name
    parts = {}
    for sensor in SENSORS:
        log = folder / f"{prefix}_{sensor}.log"
        if not log.is_file():
            raise InputError(f"{folder}: missing {log.name}: each walk needs accelerometer and gyroscope logs")
        parts[sensor] = read_log(log, problems)
    # Both logs start at the walk's first sample; use the time both cover.
    (t_acc, acc), (t_gyr, gyr) = parts["accelerometer"], parts["gyroscope"]
    stop = min(t_acc[-1], t_gyr[-1])
    keep = t_acc <= stop
    times, acc = t_acc[keep], acc[keep]
    gaps = _merge(_gaps(t_acc) + _gaps(t_gyr))
    if gaps:
        problems.add("gap_split", f"gaps of more than {GAP_SECONDS:g} s without samples: walks split there, "
                     "not interpolated across", str(folder), len(gaps))
    user, walk = WALK_FOLDER.match(prefix).groups()
    out = []
    for index in _pieces(times, gaps):
        if len(index) < 2:
            continue
        gyro_on_acc = interpolate(t_gyr, gyr, np.clip(times[index], t_gyr[0], t_gyr[-1]))
        out.append(Recording(f"u{user}", f"w{walk}", times[index], np.concatenate([acc[index], gyro_on_acc], axis=1),
                             str(folder)))
    return out, hashlib.sha256(np.ascontiguousarray(acc).tobytes()).hexdigest()


def recordings(path: str | Path, problems: Problems | None = None, keep_duplicates: bool = False) -> list:
    """All walks under ``path`` (the dataset root), sorted by folder name; quirks go to ``problems``.

    A recording found under two users is left out of both unless ``keep_duplicates``.
    """
    problems = collector(problems)
    root = dataset_root(path, "Padova dataset root", "folders u001_w001, ...")
    folders = sorted(p for p in root.iterdir() if p.is_dir() and WALK_FOLDER.match(p.name))
    if not folders:
        raise InputError(
            f"{root}: no walk folders (uUUU_wWWW) found: point --data at the folder that holds u001_w001, "
            "u001_w002, ..."
        )
    walks, by_digest = [], {}
    for folder in folders:
        pieces, digest = _walk(folder, problems)
        walks.append((folder, pieces))
        by_digest.setdefault(digest, []).append(folder)
    dropped = set()
    for same in by_digest.values():
        if len(same) < 2:
            continue
        users = {WALK_FOLDER.match(f.name).group(1) for f in same}
        names = " = ".join(f.name for f in same)
        if len(users) > 1:
            problems.add("duplicate_across_users", "the same recording filed under different users "
                         + ("(kept: --keep-duplicates)" if keep_duplicates else "(left out of every user)"), names)
            if not keep_duplicates:
                dropped.update(same)
        else:
            problems.add("duplicate_within_user", "the same recording twice under one user (the copy left out)"
                         if not keep_duplicates else "the same recording twice under one user (kept)", names)
            if not keep_duplicates:
                dropped.update(same[1:])
    out = [rec for folder, pieces in walks if folder not in dropped for rec in pieces]
    if not out:
        why = "after leaving out duplicated recordings: pass --keep-duplicates" if dropped else \
            "with two or more samples between gaps: check the logs"
        raise InputError(f"{root}: no walk left {why}")
    return out
