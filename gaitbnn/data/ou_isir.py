"""OU-ISIR inertial gait database (Ngo et al. 2014; 744 people), MM'19's attackers' database.

Layout, verified against real files (``../shared/data/ou-isir-inertial``, from the public
repository vvt2001/MLDM-Project; public readers skip the same two lines)::

    PATH/**/T0_ID<number>_<anything>.csv   e.g. ManualExtractionData1/IMUZCenter/T0_ID000104_Walk1.csv
                                                AutomaticExtractionData_IMUZCenter/T0_ID000104_Center_seq0.csv

Each file is one walk of the person ``ID<number>``, sampled at 100 Hz: two header
lines ``rows: N`` and ``cols: 6``, then N rows ``Gx,Gy,Gz,Ax,Ay,Az`` (gyroscope in
rad/s, accelerometer in g). The accelerometer is read and converted from g to
m/s^2 (x ``STANDARD_GRAVITY``), the unit of the IDNet, McGill and ZJU logs, so
that one normalization serves every source. A file whose gyroscope columns are all
zero (the database's Android-phone recordings carry no gyroscope) is recognised and
counted; its accelerometer is used as usual. Walks are short (median about 5.3 s):
those shorter than one 5.12 s segment give no sample and are counted by
``data.auth``. Point PATH at one extraction folder: the manual and automatic
extractions cut the same walks, and a PATH holding both is reported.
"""
from __future__ import annotations

import re
from typing import TYPE_CHECKING

import numpy as np

from gaitbnn.data.folders import dataset_root
from gaitbnn.data.problems import collector
from gaitbnn.data.recordings import Recording
from gaitbnn.errors import InputError

if TYPE_CHECKING:
    from pathlib import Path

    from gaitbnn.data.problems import Problems

RATE_HZ = 100.0
STANDARD_GRAVITY = 9.80665  # m/s^2 per g
PERSON = re.compile(r"ID(\d+)", re.IGNORECASE)
HEADER = re.compile(r"^\s*(rows|cols)\s*:\s*(\d+)\s*$", re.IGNORECASE)
LAYOUT = "T0_ID<number>_*.csv files: 'rows: N', 'cols: 6', then Gx,Gy,Gz,Ax,Ay,Az rows at 100 Hz"
EXTRACTIONS = ("ManualExtraction", "AutomaticExtraction")


def read_walk(path: str | Path, problems: Problems | None = None) -> np.ndarray:
    """One file -> (n, 6) rows Gx, Gy, Gz (rad/s), Ax, Ay, Az (m/s^2)."""
    problems = collector(problems)
    try:
        lines = [line for line in path.read_text().splitlines() if line.strip()]
    except (OSError, UnicodeDecodeError) as err:
        raise InputError(f"{path}: cannot read the walk ({err}): check the file") from None
    header = {}
    while lines and (HEADER.match(lines[0]) or not re.match(r"^\s*[-+.\d]", lines[0])):
        match = HEADER.match(lines.pop(0))
        if match:
            header[match.group(1).lower()] = int(match.group(2))
    if header.get("cols", 6) != 6:
        raise InputError(f"{path}: the header says cols: {header['cols']}; an OU-ISIR walk has 6 (Gx..Az)")
    try:
        table = np.array([[float(v) for v in line.split(",")] for line in lines])
    except ValueError:
        raise InputError(f"{path}: not comma-separated numbers (Gx, Gy, Gz, Ax, Ay, Az)") from None
    if table.ndim != 2 or table.shape[1] != 6 or len(table) < 2:
        raise InputError(f"{path}: expected rows of 6 columns (Gx, Gy, Gz, Ax, Ay, Az), found shape {table.shape}")
    if not np.all(np.isfinite(table)):
        raise InputError(f"{path}, row {int(np.argwhere(~np.isfinite(table))[0][0]) + 1} after the header: "
                         "NaN or infinite value: fix or remove the row")
    if "rows" in header and header["rows"] != len(table):
        problems.add("row_count_differs", "files whose 'rows: N' header differs from the rows they hold (all read)",
                     str(path))
    if not np.any(table[:, :3]):
        problems.add("gyroscope_all_zero", "files with an all-zero gyroscope (Android-phone recordings; "
                     "accelerometer used)", str(path))
    table[:, 3:] *= STANDARD_GRAVITY
    return table


def recordings(path: str | Path, problems: Problems | None = None) -> list:
    """Every walk under ``path``: accelerometer (m/s^2) recordings at 100 Hz, one person per ``ID<number>``."""
    return _walks(path, problems, lambda table: table[:, 3:])


def inertial_recordings(path: str | Path, problems: Problems | None = None) -> list:
    """Every walk under ``path`` with both sensors, in the gait models' channel order (``recordings.CHANNELS``):
    accelerometer x, y, z (m/s^2), then gyroscope x, y, z (rad/s), at 100 Hz."""
    return _walks(path, problems, lambda table: np.concatenate([table[:, 3:], table[:, :3]], axis=1))


def _walks(path, problems, channels):
    """The walks under ``path``, ``channels`` choosing the columns of each file's (n, 6) table."""
    problems = collector(problems)
    root = dataset_root(path, "OU-ISIR inertial gait database", LAYOUT)
    files = sorted(f for f in root.rglob("*.csv") if PERSON.search(f.name))
    if not files:
        raise InputError(f"{root}: no *ID<number>*.csv files: the OU-ISIR loader expects {LAYOUT}")
    kinds = {kind for f in files for kind in EXTRACTIONS if any(part.startswith(kind) for part in f.parts)}
    if len(kinds) > 1:
        problems.add("both_extractions", "PATH holds both the manual and the automatic extraction, which cut the "
                     "same walks: point it at one", str(root))
    out = []
    for f in files:
        signal = channels(read_walk(f, problems))
        out.append(Recording(f"ID{int(PERSON.search(f.name).group(1)):06d}", f.stem,
                             np.arange(len(signal)) / RATE_HZ, signal, str(f)))
    return out
