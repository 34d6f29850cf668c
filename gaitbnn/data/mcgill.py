"""The McGill gait dataset (Frank et al.; 20 people, two sessions on different days), as MM'19 uses it.

Assumed layout: UNVERIFIED. No public reader or document of the McGill file layout
was found (``REAL-LAYOUTS.md``), so the simplest plausible forms are accepted;
rearrange a copy into one of them if yours differs::

    PATH/
      <subject>/            one folder per person, any name (e.g. 01 ... 20)
        <session>.txt       one walk per file, any stem (e.g. day1.txt); .csv and .log also read
        <day>/<walk>.txt    or one folder level more: the walk is then '<day>/<walk>'

Each file is a text table, one accelerometer sample per row: a timestamp, then
x, y and z; separators, an optional header row and the timestamp unit are
handled as for the Padova logs (``padova.read_log``).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from gaitbnn.data.folders import dataset_root
from gaitbnn.data.padova import read_log
from gaitbnn.data.recordings import Recording
from gaitbnn.errors import InputError

if TYPE_CHECKING:
    from pathlib import Path

    from gaitbnn.data.problems import Problems

LAYOUT = "folders <subject>/<session>.txt of time, x, y, z rows"


def recordings(path: str | Path, problems: Problems | None = None) -> list:
    root = dataset_root(path, "McGill gait dataset", LAYOUT)
    files = sorted(f for pattern in ("*/*", "*/*/*") for f in root.glob(pattern)
                   if f.is_file() and f.suffix.lower() in (".txt", ".csv", ".log"))
    if not files:
        raise InputError(f"{root}: no <subject>/<session>.txt files: the McGill loader expects {LAYOUT}")
    out = []
    for f in files:
        times, acc = read_log(f, problems)
        subject, *folders = f.relative_to(root).parts[:-1]
        out.append(Recording(subject, "/".join([*folders, f.stem]), times, acc, str(f)))
    return out
