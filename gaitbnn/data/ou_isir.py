"""OU-ISIR inertial gait database (Ngo et al. 2014; 744 people), MM'19's attackers' database.

Assumed layout (not checked against a download)::

    PATH/**/<anything>ID<number><anything>.csv   e.g. T0_ID000104_Center_seq0.csv

Each file is one walk of the person ``ID<number>``, sampled at 100 Hz: an
optional header row, then six comma-separated columns Gx, Gy, Gz, Ax, Ay, Az
(gyroscope, then accelerometer); the accelerometer (last three) is read.
"""
import re

import numpy as np

from gaitbnn.data.folders import dataset_root
from gaitbnn.data.recordings import Recording
from gaitbnn.errors import InputError

RATE_HZ = 100.0
PERSON = re.compile(r"ID(\d+)", re.IGNORECASE)
LAYOUT = "*ID<number>*.csv files of Gx, Gy, Gz, Ax, Ay, Az rows at 100 Hz"


def _read(path):
    lines = [line for line in path.read_text().splitlines() if line.strip()]
    if lines and not re.match(r"^\s*[-+.\d]", lines[0]):
        lines = lines[1:]  # header
    try:
        table = np.array([[float(v) for v in line.split(",")] for line in lines])
    except ValueError:
        raise InputError(f"{path}: not comma-separated numbers (Gx, Gy, Gz, Ax, Ay, Az)") from None
    if table.ndim != 2 or table.shape[1] != 6 or len(table) < 2:
        raise InputError(f"{path}: expected rows of 6 columns (Gx, Gy, Gz, Ax, Ay, Az), found shape {table.shape}")
    return table[:, 3:]


def recordings(path):
    root = dataset_root(path, "OU-ISIR inertial gait database", LAYOUT)
    files = sorted(f for f in root.rglob("*.csv") if PERSON.search(f.name))
    if not files:
        raise InputError(f"{root}: no *ID<number>*.csv files: the OU-ISIR loader expects {LAYOUT}")
    out = []
    for f in files:
        acc = _read(f)
        out.append(Recording(f"ID{int(PERSON.search(f.name).group(1)):06d}", f.stem,
                             np.arange(len(acc)) / RATE_HZ, acc, str(f)))
    return out
