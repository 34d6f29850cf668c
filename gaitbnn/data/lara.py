"""The LARa dataset (Niemann et al., Sensors 2020) as the BtCNN thesis uses it: MoCap and mbientlab IMUs.

Assumed layout (the published archives "MoCap data" and "IMU data", unpacked;
one folder per subject, one CSV pair per recording)::

    PATH/                                  mbientlab IMUs (subjects S07-S14, 100 Hz)
      S07/
        L01_S07_R01.csv                    Time, LA_AccelerometerX, ..., RL_GyroscopeZ (30 channels)
        L01_S07_R01_labels.csv             Class, I-A_GaitCycle, ..., VI-A_Error (one row per sample)
    PATH/                                  MoCap (subjects S01-S14, 200 Hz)
      S01/
        L01_S01_R01_A17_N01_norm_data.csv  sample, classlabel, head_RX, ..., root_TZ
        L01_S01_R01_A17_N01_labels.csv     Class, I-A_GaitCycle, ..., VI-A_Error

Lxx is the logistics scenario, Sxx the subject, Rxx the recording. A labels file
holds one row per sample: the class (0-7) and the 19 binary attributes.

What real copies show (``REAL-LAYOUTS.md``: the LARa authors' preprocessing code and
another LARa author's reader), all accepted:

* the Zenodo archive unpacks to ``IMU data/S07/...`` and some copies have one more
  ``IMU data/`` level: the subject folders are looked for up to two levels below PATH;
* the class column is ``Class`` in mbientlab label files and ``class`` in MoCap ones;
* ``Time`` is a datetime string (``%Y-%m-%d %H:%M:%S.%f``); it is not a channel and
  is not parsed;
* a data row with one field more than the header (an extra leading column) is read
  without its first field, as the authors' reader does; a row with any other field
  count is dropped; both are counted. The
sensor set is recognized from the data header: the 30 mbientlab channels, or
the 126 MoCap channels (21 joints x RX, RY, RZ, TX, TY, TZ; ``lower_back`` is
dropped as in the LARa preprocessing, and spaces in names count as ``_``).
The loader only reads: nothing is written into PATH.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from gaitbnn.data.folders import dataset_root
from gaitbnn.data.problems import collector
from gaitbnn.data.records import ActivityRecording
from gaitbnn.errors import InputError

if TYPE_CHECKING:
    from gaitbnn.data.problems import Problems

CLASS_NAMES = ["standing", "walking", "cart", "handling_upwards", "handling_centred", "handling_downwards",
               "synchronization", "none"]
ATTRIBUTE_NAMES = ["I-A_GaitCycle", "I-B_Step", "I-C_StandingStill", "II-A_Upwards", "II-B_Centred",
                   "II-C_Downwards", "II-D_NoIntentionalMotion", "II-E_TorsoRotation", "III-A_Right", "III-B_Left",
                   "III-C_NoArms", "IV-A_BulkyUnit", "IV-B_HandyUnit", "IV-C_UtilityAux", "IV-D_Cart",
                   "IV-E_Computer", "IV-F_NoItem", "V-A_None", "VI-A_Error"]
MBIENTLAB_CHANNELS = [f"{part}_{sensor}{axis}" for part in ("LA", "LL", "N", "RA", "RL")
                      for sensor in ("Accelerometer", "Gyroscope") for axis in "XYZ"]
MOCAP_JOINTS = ["head", "head_end", "L_collar", "L_elbow", "L_femur", "L_foot", "L_humerus", "L_tibia", "L_toe",
                "L_wrist", "L_wrist_end", "R_collar", "R_elbow", "R_femur", "R_foot", "R_humerus", "R_tibia", "R_toe",
                "R_wrist", "R_wrist_end", "root"]
MOCAP_CHANNELS = [f"{joint}_{c}" for joint in MOCAP_JOINTS for c in ("RX", "RY", "RZ", "TX", "TY", "TZ")]
SENSORS = {
    "mbientlab": dict(channels=MBIENTLAB_CHANNELS, rate=100.0, window=100, stride=25, split="imu"),
    "mocap": dict(channels=MOCAP_CHANNELS, rate=200.0, window=200, stride=25, split="thesis"),
}
# Subject split (thesis Sec. 5.1.1 after LARa: 8 train, 3 validation, 3 test subjects), used for MoCap and
# the synthetic data. The IMU recordings exist for S07-S14 only, so mbientlab keeps the LARa authors'
# 4 / 2 / 2 split of those eight.
SPLITS = {
    "thesis": {"train": ["S01", "S02", "S03", "S04", "S07", "S08", "S09", "S10"],
              "val": ["S05", "S11", "S12"], "test": ["S06", "S13", "S14"]},
    "imu": {"train": ["S07", "S08", "S09", "S10"], "val": ["S11", "S12"], "test": ["S13", "S14"]},
}
_RECORDING = re.compile(r"^L\d+_(S\d+)_R\d+.*?(?:_norm_data)?$")
_SUBJECT_FOLDER = re.compile(r"^S\d+$")
NONE_CLASS = CLASS_NAMES.index("none")  # thesis Table 5.1.1: "C8: None - Will be ignored"
# How windows are labelled (``--lara-protocol``): "authors" (the LARa authors' code, the thesis' reading):
# rows of class "none" are deleted before windowing and a window's attributes are the OR over its samples;
# "majority" (this project's first reading): every row kept, a window's attributes the most frequent vector
# among the samples of its majority class.
PROTOCOLS = ("authors", "majority")


def _read_ragged(path, problems):
    """Read a CSV whose rows may carry one leading field more than the header (the authors' reader's rule)."""
    expected = len(pd.read_csv(path, nrows=0).columns)

    def mend(fields):
        if len(fields) == expected + 1:
            problems.add("extra_leading_field", "LARa rows with an extra leading field (read without it)", str(path))
            return fields[1:]
        problems.add("ragged_row_dropped", "LARa rows with a wrong number of fields (dropped)", str(path))
        return None

    return pd.read_csv(path, skipinitialspace=True, engine="python", on_bad_lines=mend)


def _read_csv(path, what, problems=None):
    problems = collector(problems)
    try:
        try:
            frame = pd.read_csv(path, skipinitialspace=True)
        except pd.errors.ParserError:
            frame = _read_ragged(path, problems)
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise InputError(f"{path}: cannot read the {what} ({first}): check the file") from None
    frame.columns = [str(c).strip().replace(" ", "_") for c in frame.columns]
    if frame.empty:
        raise InputError(f"{path}: the {what} has no rows: the file is empty or truncated")
    return frame


def _numeric(frame, columns, path, what):
    """``frame[columns]`` as float64; a non-number, NaN or inf is an error naming the row."""
    values = frame[columns].apply(pd.to_numeric, errors="coerce").to_numpy(np.float64)
    bad = ~np.isfinite(values)
    if bad.any():
        row, col = (int(v) for v in np.argwhere(bad)[0])
        raise InputError(f"{path}, row {row + 2}: {what} column {columns[col]} is not a finite number "
                         f"('{frame[columns[col]].iloc[row]}'): fix or remove the row")
    return values


def sensor_set(columns: list, path: str | Path) -> str:
    """'mbientlab' or 'mocap', from a data file's header."""
    present = set(columns)
    for name, info in SENSORS.items():
        if set(info["channels"]) <= present:
            return name
    missing = {name: [c for c in info["channels"] if c not in present] for name, info in SENSORS.items()}
    closest = min(missing, key=lambda k: len(missing[k]))
    raise InputError(f"{path}: not a LARa {closest} data file: {len(missing[closest])} channel columns missing "
                     f"(e.g. {', '.join(missing[closest][:3])}): see docs/data.md for the layout")


def read_recording(data_path: str | Path, problems: Problems | None = None) -> tuple:
    """One recording (data CSV and its ``_labels.csv``) -> (sensor set, ActivityRecording)."""
    data_path = Path(data_path)
    match = _RECORDING.match(data_path.stem)
    labels_path = data_path.with_name(re.sub(r"_norm_data$", "", data_path.stem) + "_labels.csv")
    if not labels_path.is_file():
        raise InputError(f"{data_path}: no labels file {labels_path.name} beside it: each recording needs both")
    data = _read_csv(data_path, "sensor data", problems)
    sensors = sensor_set(data.columns, data_path)
    signal = _numeric(data, SENSORS[sensors]["channels"], data_path, "sensor")
    labels = _read_csv(labels_path, "labels", problems)
    if "Class" not in labels.columns and "class" in labels.columns:  # MoCap label files (the annotation tool)
        labels = labels.rename(columns={"class": "Class"})
    if "Class" not in labels.columns:
        raise InputError(f"{labels_path}: no 'Class' (or 'class') column: a LARa labels file starts with Class, "
                         "I-A_GaitCycle, ...")
    missing = [a for a in ATTRIBUTE_NAMES if a not in labels.columns]
    if missing:
        raise InputError(f"{labels_path}: attribute columns missing ({', '.join(missing[:3])}...): "
                         "a LARa labels file has the class and 19 attributes")
    if len(labels) != len(signal):
        raise InputError(f"{labels_path}: {len(labels)} label rows for {len(signal)} samples in {data_path.name}: "
                         "each sample needs one label row")
    classes = _numeric(labels, ["Class"], labels_path, "label")[:, 0]
    if np.any((classes < 0) | (classes >= len(CLASS_NAMES)) | (classes != np.round(classes))):
        row = int(np.argmax((classes < 0) | (classes >= len(CLASS_NAMES)) | (classes != np.round(classes))))
        raise InputError(f"{labels_path}, row {row + 2}: class {classes[row]:g} is not one of 0-7: fix the row")
    attributes = _numeric(labels, ATTRIBUTE_NAMES, labels_path, "attribute")
    if not np.isin(attributes, (0, 1)).all():
        row = int(np.argwhere(~np.isin(attributes, (0, 1)))[0][0])
        raise InputError(f"{labels_path}, row {row + 2}: attributes must be 0 or 1: fix the row")
    subject = match.group(1) if match else data_path.parent.name
    return sensors, ActivityRecording(subject, signal, classes.astype(np.int64), attributes.astype(np.float32),
                                      str(data_path))


def subject_root(root: str | Path) -> Path | None:
    """The folder holding the Sxx subject folders: ``root`` or up to two levels below (``IMU data/IMU data``)."""
    for depth in range(3):
        for folder in sorted(root.glob("/".join(["*"] * depth))) if depth else [root]:
            if folder.is_dir() and any(d.is_dir() and _SUBJECT_FOLDER.match(d.name) for d in folder.iterdir()):
                return folder
    return None


def recordings(path: str | Path, problems: Problems | None = None) -> list:
    """All recordings under ``path`` -> (sensor set, [ActivityRecording]); one sensor set per folder."""
    problems = collector(problems)
    root = dataset_root(path, "LARa 'IMU data' or 'MoCap data' folder", "S01/, S02/, ...; or a .npz file")
    subjects = subject_root(root)
    if subjects is None:
        raise InputError(f"{root}: no LARa subject folders (S01/, S02/, ...) here or two levels below: point --data "
                         "at the folder that holds S01/, S02/, ...")
    if subjects != root:
        problems.add("nested_folder", "subject folders found below PATH (read from there)", str(subjects))
    files = sorted(p for folder in subjects.iterdir() if folder.is_dir() and _SUBJECT_FOLDER.match(folder.name)
                   for p in folder.glob("*.csv") if not p.stem.endswith("_labels"))
    if not files:
        raise InputError(f"{subjects}: no LARa recordings (Sxx/Lxx_Sxx_Rxx*.csv) found: point --data at the folder "
                         "that holds S01/, S02/, ...")
    found = [read_recording(p, problems) for p in files]
    kinds = sorted({kind for kind, _ in found})
    if len(kinds) > 1:
        raise InputError(f"{root}: holds both {' and '.join(kinds)} recordings: give one sensor set per --data")
    return kinds[0], [rec for _, rec in found]
