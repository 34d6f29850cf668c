"""The dataset root a loader reads: checked once, with one clear line when it is missing or a file."""
from __future__ import annotations

from pathlib import Path

from gaitbnn.errors import InputError


def dataset_root(path: str | Path, dataset: str, layout: str) -> Path:
    """``path`` as a Path if it is a folder; else an InputError naming ``dataset`` and its ``layout``."""
    root = Path(path)
    if not root.exists():
        raise InputError(f"{root}: no such dataset folder: pass --data PATH to the {dataset} ({layout}), "
                         "or 'synthetic'")
    if not root.is_dir():
        raise InputError(f"{root}: not a folder: --data expects the {dataset} ({layout})")
    return root
