"""Run directories and atomic writes.

A run directory is the only thing that passes between commands. It holds the
model, ``config.json``, ``history.csv``, ``training_curves.png`` and, written
last, ``metrics.json``: a run is complete when ``metrics.json`` exists. Every
file is written to a temporary name in the same folder and then renamed, so a
crash never leaves a half-written model, flatbuffer or report.
"""
from __future__ import annotations

import importlib.metadata
import json
import platform
from pathlib import Path
from typing import TYPE_CHECKING

from gaitbnn import run_backup
from gaitbnn.atomic import atomic_path
from gaitbnn.errors import InputError
from gaitbnn.reports import plot_history

if TYPE_CHECKING:
    import tensorflow as tf


MODEL_FILE = "model.h5"
CONFIG_FILE = "config.json"
METRICS_FILE = "metrics.json"
HISTORY_FILE = "history.csv"
CURVES_FILE = "training_curves.png"
CHECKPOINT_FILE = "checkpoint-best.h5"


def write_bytes(path: str | Path, data: bytes) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def write_text(path: str | Path, text: str) -> None:
    write_bytes(path, text.encode())


def write_json(path: str | Path, obj: object) -> None:
    write_text(path, json.dumps(obj, indent=2, sort_keys=False) + "\n")


def refuse_complete_run(path: str | Path, force: bool = False) -> None:
    """An input error when ``path`` holds a complete run and ``force`` is not given."""
    if (Path(path) / METRICS_FILE).exists() and not force:
        raise InputError(f"{path}: holds a complete run already: choose another --out, or pass --force to replace it")


def prepare_output_dir(path: str | Path, force: bool = False) -> Path:
    """Create ``path`` for a new run; refuse to overwrite a complete run unless ``force``."""
    refuse_complete_run(path, force)
    return writable_dir(path)


def writable_dir(path: str | Path) -> Path:
    """Create folder ``path`` if needed and check that files can be written in it."""
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / ".write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as err:
        raise InputError(f"{path}: cannot write the output folder ({err.strerror}): choose a writable --out") from None
    return path


def read_json(path: str | Path, what: str) -> dict:
    try:
        return json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise InputError(f"{path}: missing {what}") from None
    except (OSError, ValueError) as err:
        raise InputError(f"{path}: cannot read {what} ({err}): the file is corrupt; train the run again") from None


def open_run(path: str | Path) -> tuple:
    """Check that ``path`` is a complete run; return (config, metrics)."""
    path = Path(path)
    if not path.is_dir():
        raise InputError(f"{path}: no such run directory: pass the --out folder of 'gaitbnn train'")
    if not (path / METRICS_FILE).exists():
        raise InputError(f"{path}: incomplete run (no {METRICS_FILE}): its training did not finish; train it again")
    if not (path / MODEL_FILE).exists():
        raise InputError(f"{path}: the run has no {MODEL_FILE}: train it again")
    return read_json(path / CONFIG_FILE, "run config"), read_json(path / METRICS_FILE, "run metrics")


VERSIONED = ("gaitbnn", "tensorflow", "tf-keras", "larq", "larq-compute-engine", "numpy")


def versions() -> dict:
    """The installed versions of the packages a run depends on (``importlib.metadata``), Python and the machine."""
    out = {"python": platform.python_version(), "machine": platform.machine()}
    for package in VERSIONED:
        try:
            out[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            out[package] = None
    return out


class RunWriter:
    """The one writer of run directories, for every kind of model (classifiers and siamese embeddings alike).

    ``config.json`` (with ``versions``) first; ``history.csv`` from ``callbacks()`` as epochs end, with a
    ``backup/`` that lets the same command resume an interrupted run of the same settings; then the model
    (``save_model``), ``training_curves.png`` (``training_done``) and, last, ``metrics.json`` (``finish``).
    """

    def __init__(self, out, config, force=False, monitor="val_accuracy"):
        self.out = prepare_output_dir(out, force=force)
        (self.out / METRICS_FILE).unlink(missing_ok=True)
        self.config = {**config, "versions": versions()}
        self.best_so_far, self.resuming = self._resume_state(force, monitor)
        write_json(self.out / CONFIG_FILE, self.config)

    def _resume_state(self, force, monitor):
        """(best ``monitor`` so far, True) when ``out`` holds an interrupted run of the same settings."""
        last = run_backup.completed_epoch(self.out / run_backup.BACKUP_DIR)
        if last is None or force:
            run_backup.discard(self.out)
            return None, False
        previous = read_json(self.out / CONFIG_FILE, "run config") if (self.out / CONFIG_FILE).exists() else {}
        differs = [k for k in run_backup.RESUME_KEYS if previous.get(k) != self.config.get(k)]
        if differs:
            raise InputError(f"{self.out}: holds an interrupted run with other {', '.join(differs)}: rerun it with "
                             "the same options to resume, or pass --force to start over")
        return run_backup.trim_history(self.out / HISTORY_FILE, last, monitor), True

    def callbacks(self) -> list:
        """Keras callbacks that write ``history.csv`` and the resume backup (put them after the others)."""
        import tensorflow as tf  # lazy: keeps gaitbnn --help free of TensorFlow

        return [tf.keras.callbacks.CSVLogger(str(self.out / HISTORY_FILE), append=self.resuming),
                tf.keras.callbacks.BackupAndRestore(str(self.out / run_backup.BACKUP_DIR))]

    def save_model(self, model: tf.keras.Model, **options) -> None:
        """The trained model, written atomically (HDF5, without the optimizer)."""
        options.setdefault("include_optimizer", False)
        with atomic_path(self.out / MODEL_FILE) as tmp:
            model.save(str(tmp), **options)

    def training_done(self, title: str) -> None:
        """Drop the resume backup and draw the training curves from ``history.csv``."""
        run_backup.discard(self.out)
        plot_history(self.out / HISTORY_FILE, self.out / CURVES_FILE, title)

    def finish(self, metrics: dict) -> dict:
        """Write ``metrics.json``, last: the run is complete."""
        write_json(self.out / METRICS_FILE, metrics)
        return metrics
