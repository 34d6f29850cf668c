"""Paper reproductions: each composes data, training and the paper's own numbers.

The paper's numbers live as data in the repository's ``experiments/`` folder,
one JSON file per table, each row citing its table and row.
"""
import json
import sys
from pathlib import Path

from gaitbnn import runs
from gaitbnn.errors import InputError

_CANDIDATES = (
    Path(__file__).resolve().parents[2] / "experiments",  # a source checkout (pip install -e .)
    Path(sys.prefix) / "share" / "gaitbnn" / "experiments",  # a regular install (setup.cfg data_files)
)


def load_config(name):
    """The paper table ``experiments/NAME.json``."""
    for folder in _CANDIDATES:
        path = folder / f"{name}.json"
        if path.is_file():
            return json.loads(path.read_text())
    raise InputError(f"experiment config {name}.json not found in {', '.join(map(str, _CANDIDATES))}: reinstall gaitbnn")


def reusable_run(run_dir, **expected):
    """The metrics of the complete run in ``run_dir`` if its config matches ``expected``, else None."""
    if not (Path(run_dir) / runs.METRICS_FILE).exists():
        return None
    config, metrics = runs.open_run(run_dir)
    options = config.get("data_options") or {}
    return metrics if all(config.get(k, options.get(k)) == v for k, v in expected.items()) else None
