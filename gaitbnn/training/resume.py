"""Resuming an interrupted run (Ctrl-C, kill -9) from its last completed epoch.

Keras' ``BackupAndRestore`` checkpoints the model, the optimizer (with its
learning rate) and the epoch at the end of every epoch into ``RUN/backup``, and
restores them when ``fit`` starts again. This module keeps the rest consistent:
``history.csv`` is cut back to the epochs the backup holds, and the best
validation accuracy seen so far is handed back to the checkpoint and
learning-rate callbacks. Not restored: the plateau callback's patience counter
and the shuffling order, so a resumed run ends close to, not bit-equal with,
an uninterrupted one.
"""
from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import tensorflow as tf

from gaitbnn.atomic import atomic_path

BACKUP_DIR = "backup"
# The settings that must match for a run to be resumed rather than started over.
RESUME_KEYS = ("model", "data", "epochs", "batch_size", "seed", "learning_rate", "distribute", "data_options")


def completed_epoch(backup_dir: str | Path) -> int | None:
    """Index of the last epoch saved in a BackupAndRestore folder, or None when there is none."""
    backup_dir = Path(backup_dir)
    if not backup_dir.exists():
        return None
    try:
        folder = backup_dir / "chief" if (backup_dir / "chief").exists() else backup_dir
        reader = tf.train.load_checkpoint(str(folder))
        key = next(k for k in reader.get_variable_to_shape_map() if k.startswith("ckpt_saved_epoch"))
        return int(reader.get_tensor(key))
    except Exception:  # a backup cut short by the kill itself: start over
        return None


def trim_history(history_csv: str | Path, last_epoch: int, monitor: str = "val_accuracy") -> float | None:
    """Keep the rows of epochs 0..``last_epoch``; return the best value of ``monitor`` among them."""
    path = Path(history_csv)
    if not path.exists():
        return None
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        fields = reader.fieldnames or []
        rows = [r for r in reader if r.get("epoch", "").isdigit() and int(r["epoch"]) <= last_epoch]
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    with atomic_path(path) as tmp:
        tmp.write_bytes(text.getvalue().encode())
    values = [float(r[monitor]) for r in rows if r.get(monitor)]
    return max(values) if values else None


def discard(out: str | Path) -> None:
    shutil.rmtree(Path(out) / BACKUP_DIR, ignore_errors=True)


class ReduceLROnPlateauFrom(tf.keras.callbacks.ReduceLROnPlateau):
    """ReduceLROnPlateau that starts from a best value already reached (a resumed run)."""

    def __init__(self, initial_best=None, **kwargs):
        super().__init__(**kwargs)
        self.initial_best = initial_best

    def on_train_begin(self, logs: dict | None = None) -> None:
        super().on_train_begin(logs)
        if self.initial_best is not None:
            self.best = self.initial_best
