"""Paper reproductions: each composes data, training and the paper's own numbers.

The paper's numbers live as data in the repository's ``experiments/`` folder,
one JSON file per table, each row citing its table and row.
"""
import json
import sys
from pathlib import Path

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
