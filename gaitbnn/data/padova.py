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

The two sensors are interpolated onto a common time grid over the interval both
cover; windows are then cut as for every source (``recordings.windows``).
The loader only reads: nothing is written into PATH.
"""
import re
from pathlib import Path

import numpy as np

from gaitbnn.data.recordings import Recording
from gaitbnn.data.folders import dataset_root
from gaitbnn.errors import InputError

WALK_FOLDER = re.compile(r"^u(\d+)_w(\d+)$")
SENSORS = ("accelerometer", "gyroscope")
_SEPARATOR = re.compile(r"[\t ,;]+")
_UNITS = ((1e6, 1e-9), (1e3, 1e-6), (1.0, 1e-3), (1e-3, 1.0))  # (median step above, seconds per unit)


def read_log(path):
    """Read one sensor log into (times in seconds, (n, 3) readings); input errors name file and line."""
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
    steps = np.diff(times)
    if np.any(steps <= 0):
        line = int(np.argmax(steps <= 0)) + 2
        raise InputError(f"{path}: timestamps do not increase near sample {line}: the log is corrupt or unsorted")
    median = float(np.median(steps))
    scale = next(s for threshold, s in _UNITS if median > threshold)
    return (times - times[0]) * scale, readings


def _walk(folder):
    """One walk folder -> Recording with the 6 channels on the accelerometer's time grid."""
    prefix = folder.name
    parts = {}
    for sensor in SENSORS:
        log = folder / f"{prefix}_{sensor}.log"
        if not log.is_file():
            raise InputError(f"{folder}: missing {log.name}: each walk needs accelerometer and gyroscope logs")
        parts[sensor] = read_log(log)
    # Both logs start at the walk's first sample; use the time both cover.
    (t_acc, acc), (t_gyr, gyr) = parts["accelerometer"], parts["gyroscope"]
    stop = min(t_acc[-1], t_gyr[-1])
    keep = t_acc <= stop
    times = t_acc[keep]
    gyro_on_acc = np.stack([np.interp(times, t_gyr, gyr[:, c]) for c in range(3)], axis=1)
    signal = np.concatenate([acc[keep], gyro_on_acc], axis=1)
    user, walk = WALK_FOLDER.match(prefix).groups()
    return Recording(f"u{user}", f"w{walk}", times, signal, str(folder))


def recordings(path):
    """All walks under ``path`` (the dataset root), sorted by folder name."""
    root = dataset_root(path, "Padova dataset root", "folders u001_w001, ...")
    folders = sorted(p for p in root.iterdir() if p.is_dir() and WALK_FOLDER.match(p.name))
    if not folders:
        raise InputError(
            f"{root}: no walk folders (uUUU_wWWW) found: point --data at the folder that holds u001_w001, u001_w002, ..."
        )
    return [_walk(folder) for folder in folders]
