"""ZJU-GaitAcc (Zhang et al. 2015; 153 people in sessions 1 and 2, 22 more in session 0), as MM'19 uses it.

Layout verified against public readers of the published archive (``REAL-LAYOUTS.md``;
sessions of 22, 153 and 153 subjects); the 100 Hz rate is inferred. ``useful.txt`` is
this project's option: no public reader uses it::

    PATH/
      session_1/
        subj_023/
          rec_1/
            1.txt ... 5.txt   one file per sensor: 1 right wrist, 2 left upper arm,
                              3 right pelvis, 4 left thigh, 5 right ankle
            useful.txt        optional: "start,end" sample indices of the walk
          rec_2/ ...
      session_2/ ...

A sensor file holds three lines, the x, y and z series, comma-separated, sampled
at 100 Hz. ``SENSOR`` = 3 (the right side of the pelvis, nearest a trouser
pocket) is read. Session 0 (one session per person) is skipped unless it is the
only one. A person is ``subj_NNN``; a recording's session is ``session_S/rec_K``.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from gaitbnn.data.folders import dataset_root
from gaitbnn.data.recordings import Recording
from gaitbnn.errors import InputError

if TYPE_CHECKING:
    from pathlib import Path

    from gaitbnn.data.problems import Problems

RATE_HZ = 100.0
SENSOR = 3
LAYOUT = "session_S/subj_NNN/rec_K/3.txt with x, y and z lines"


def _read_sensor(path):
    try:
        rows = [np.array([float(v) for v in line.replace(";", ",").split(",") if v.strip()])
                for line in path.read_text().splitlines() if line.strip()]
    except ValueError:
        raise InputError(f"{path}: not three lines of comma-separated numbers (x, y, z series)") from None
    if len(rows) != 3 or len({len(r) for r in rows}) != 1 or len(rows[0]) < 2:
        raise InputError(f"{path}: expected three equally long lines (x, y, z series), found {len(rows)} lines")
    return np.stack(rows, axis=1)


def _useful(folder, n):
    path = folder / "useful.txt"
    if not path.is_file():
        return 0, n
    try:
        start, end = (int(float(v)) for v in path.read_text().replace(",", " ").split()[:2])
    except ValueError:
        raise InputError(f"{path}: expected 'start,end' sample indices") from None
    if not 0 <= start < end <= n:
        raise InputError(f"{path}: range {start}-{end} is outside the {n} samples of the record")
    return start, end


def recordings(path: str | Path, problems: Problems | None = None) -> list:
    """Every rec_K of the sessions used (``problems`` is accepted for a uniform reader signature)."""
    root = dataset_root(path, "ZJU-GaitAcc dataset", LAYOUT)
    folders = sorted(root.glob("session_*/subj_*/rec_*"))
    if not folders:
        raise InputError(f"{root}: no session_S/subj_NNN/rec_K folders: the ZJU-GaitAcc loader expects {LAYOUT}")
    if any(f.parts[-3] != "session_0" for f in folders):
        folders = [f for f in folders if f.parts[-3] != "session_0"]
    out = []
    for folder in folders:
        sensor = folder / f"{SENSOR}.txt"
        if not sensor.is_file():
            raise InputError(f"{folder}: missing {SENSOR}.txt (the right-pelvis accelerometer)")
        acc = _read_sensor(sensor)
        start, end = _useful(folder, len(acc))
        acc = acc[start:end]
        out.append(Recording(folder.parts[-2], f"{folder.parts[-3]}/{folder.parts[-1]}",
                             np.arange(len(acc)) / RATE_HZ, acc, str(sensor)))
    return out
