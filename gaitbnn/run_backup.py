"""The resume backup inside a run directory: an interrupted run (Ctrl-C, kill -9) goes on from its last epoch.

Keras' ``BackupAndRestore`` checkpoints the model, the optimizer (with its learning rate) and the epoch at
the end of every epoch into ``RUN/backup``, and restores them when ``fit`` starts again. This module keeps
the rest of the run directory consistent with it: ``history.csv`` is cut back to the epochs the backup
holds (in the line endings Keras' ``CSVLogger`` wrote), and the best validation accuracy seen so far is
handed back to the training callbacks (``training.resume``). Not restored: the plateau callback's patience
counter and the shuffling order, so a resumed run ends close to, not bit-equal with, an uninterrupted one.
"""
from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

from gaitbnn.atomic import atomic_path

BACKUP_DIR = "backup"
# The settings that must match for a run to be resumed rather than started over.
RESUME_KEYS = ("model", "data", "epochs", "batch_size", "seed", "learning_rate", "distribute", "data_options")


def completed_epoch(backup_dir: str | Path) -> int | None:
    """Index of the last epoch saved in a BackupAndRestore folder, or None when there is none."""
    backup_dir = Path(backup_dir)
    if not backup_dir.exists():
        return None
    import tensorflow as tf  # lazy: run directories are read by commands that never train (gaitbnn --help fast)

    try:
        folder = backup_dir / "chief" if (backup_dir / "chief").exists() else backup_dir
        reader = tf.train.load_checkpoint(str(folder))
        key = next(k for k in reader.get_variable_to_shape_map() if k.startswith("ckpt_saved_epoch"))
        return int(reader.get_tensor(key))
    except Exception:  # a backup cut short by the kill itself: start over
        return None


def trim_history(history_csv: str | Path, last_epoch: int, monitor: str = "val_accuracy") -> float | None:
    """Keep the rows of epochs 0..``last_epoch``, byte for byte; return the best value of ``monitor`` among them.

    Rows are kept as the file holds them, so a resumed run's ``history.csv`` has one line ending throughout
    (``CSVLogger`` writes CRLF) and the same bytes as an uninterrupted run for the rows they share.
    """
    path = Path(history_csv)
    if not path.exists():
        return None
    data = path.read_bytes()
    lines = data.splitlines(keepends=True)
    if not lines:
        return None
    fields = next(csv.reader(io.StringIO(lines[0].decode())), [])
    kept, values = [lines[0]], []
    for line in lines[1:]:
        row = dict(zip(fields, next(csv.reader(io.StringIO(line.decode())), [])))
        if row.get("epoch", "").isdigit() and int(row["epoch"]) <= last_epoch:
            kept.append(line)
            if row.get(monitor):
                values.append(float(row[monitor]))
    with atomic_path(path) as tmp:
        tmp.write_bytes(b"".join(kept))
    return max(values) if values else None


def discard(out: str | Path) -> None:
    """Drop a run's resume backup (the run finished, or starts over)."""
    shutil.rmtree(Path(out) / BACKUP_DIR, ignore_errors=True)
