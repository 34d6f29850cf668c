"""Run directories and atomic writes.

A run directory is the only thing that passes between commands. It holds the
model, ``config.json``, ``history.csv``, ``training_curves.png`` and, written
last, ``metrics.json``: a run is complete when ``metrics.json`` exists. Every
file is written to a temporary name in the same folder and then renamed, so a
crash never leaves a half-written model, flatbuffer or report.
"""
import json
from pathlib import Path

from gaitbnn.atomic import atomic_path  # noqa: F401  (re-exported: runs.atomic_path)
from gaitbnn.errors import InputError

MODEL_FILE = "model.h5"
CONFIG_FILE = "config.json"
METRICS_FILE = "metrics.json"
HISTORY_FILE = "history.csv"
CURVES_FILE = "training_curves.png"
CHECKPOINT_FILE = "checkpoint-best.h5"


def write_bytes(path, data):
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def write_text(path, text):
    write_bytes(path, text.encode())


def write_json(path, obj):
    write_text(path, json.dumps(obj, indent=2, sort_keys=False) + "\n")


def prepare_output_dir(path, force=False):
    """Create ``path`` for a new run; refuse to overwrite a complete run unless ``force``."""
    path = Path(path)
    if (path / METRICS_FILE).exists() and not force:
        raise InputError(f"{path}: holds a complete run already: choose another --out, or pass --force to replace it")
    return writable_dir(path)


def writable_dir(path):
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


def read_json(path, what):
    try:
        return json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise InputError(f"{path}: missing {what}") from None
    except (OSError, ValueError) as err:
        raise InputError(f"{path}: cannot read {what} ({err}): the file is corrupt; train the run again") from None


def open_run(path):
    """Check that ``path`` is a complete run; return (config, metrics)."""
    path = Path(path)
    if not path.is_dir():
        raise InputError(f"{path}: no such run directory: pass the --out folder of 'gaitbnn train'")
    if not (path / METRICS_FILE).exists():
        raise InputError(f"{path}: incomplete run (no {METRICS_FILE}): its training did not finish; train it again")
    if not (path / MODEL_FILE).exists():
        raise InputError(f"{path}: the run has no {MODEL_FILE}: train it again")
    return read_json(path / CONFIG_FILE, "run config"), read_json(path / METRICS_FILE, "run metrics")
