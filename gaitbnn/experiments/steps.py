"""A reproduction's completed steps, kept on disk so that an interrupted one resumes (issue 25).

Experiments that train many small models in memory (the siamese tables: one model per owner, per loss,
per frozen layer set) cannot resume through run directories. Each unit of their work is a *step* with a
key (``"table1/lenet4/binary_contrastive/owner3"``): its result is written to ``OUT/steps/KEY.json`` (and
the weights a later step needs to ``KEY.npz``) when it ends, and a rerun with the same settings reads it
instead of training again. Each step draws from its own random generator, seeded by the run's seed and
the step's key, so a resumed run makes the same draws as an uninterrupted one.

``OUT/steps/setting.json`` holds the settings the steps were made with: other settings are refused
(pass ``--force`` to start over, which removes the steps).
"""
from __future__ import annotations

import json
import shutil
import zlib
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from gaitbnn import runs
from gaitbnn.atomic import atomic_path
from gaitbnn.errors import InputError
from gaitbnn.progress import Progress

if TYPE_CHECKING:
    from collections.abc import Callable

STEPS_DIR = "steps"
SETTING_FILE = "setting.json"


class Steps:
    """The completed steps of one reproduction in ``OUT/steps``."""

    def __init__(self, out: str | Path, setting: dict, seed: int, force: bool = False, log: Callable = print,
                 prepare: Callable[[], None] | None = None):
        """``prepare``: called before each step that is computed (the siamese steps start a fresh, seeded Keras
        session there, so a step's networks do not depend on which steps ran before it)."""
        self.dir = Path(out) / STEPS_DIR
        self.seed = int(seed)
        self.log = log
        self.prepare = prepare
        self.reused = 0
        self.computed = 0
        self.progress = None
        setting = json.loads(json.dumps(setting))
        stored = self.dir / SETTING_FILE
        if force and self.dir.exists():
            shutil.rmtree(self.dir)
        if stored.exists() and runs.read_json(stored, "the steps' settings") != setting:
            raise InputError(f"{self.dir}: holds steps of a reproduction with other settings: pass the same "
                             "options to resume, --force to start over, or another --out")
        runs.writable_dir(self.dir)
        if not stored.exists():
            runs.write_json(stored, setting)

    def expect(self, total: int, label: str) -> None:
        """Show progress with the time left over the ``total`` steps (those already stored are not counted)."""
        done = len(list(self.dir.rglob("*.json"))) - 1  # setting.json is not a step
        if done:
            self.log(f"resuming: {done} of about {total} steps are complete in {self.dir}")
        self.progress = Progress(max(total - done, 1), label)

    def rng(self, key: str) -> np.random.Generator:
        """The step's own generator: the same draws whether or not earlier steps ran in this process."""
        return np.random.default_rng([self.seed, zlib.crc32(key.encode())])

    def _path(self, key: str, suffix: str) -> Path:
        return self.dir / f"{key.replace('|', '--').replace(' ', '_')}{suffix}"

    def result(self, key: str, compute: Callable[[np.random.Generator], dict]) -> dict:
        """The stored result of step ``key``, or ``compute(rng)``'s, stored once it returns (JSON-serializable)."""
        path = self._path(key, ".json")
        if path.exists():
            self.reused += 1
            return runs.read_json(path, f"the result of step {key}")
        if self.prepare:
            self.prepare()
        value = compute(self.rng(key))
        path.parent.mkdir(parents=True, exist_ok=True)
        runs.write_json(path, value)
        self.computed += 1
        if self.progress:
            self.progress.step(self.computed)
        return value

    def save_weights(self, key: str, weights: list) -> None:
        """Keep a model's weights for later steps (written before the step's result, so a result implies them)."""
        path = self._path(key, ".npz")
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(path) as tmp, open(tmp, "wb") as f:
            np.savez(f, *weights)

    def weights(self, key: str) -> list:
        """The weights ``save_weights`` kept for step ``key``."""
        path = self._path(key, ".npz")
        if not path.exists():
            raise InputError(f"{path}: missing the weights of step {key}: pass --force to start the reproduction "
                             "over")
        with np.load(path) as arrays:
            return [arrays[f"arr_{i}"] for i in range(len(arrays.files))]

    def summary(self) -> str:
        return f"{self.reused} completed steps reused from {self.dir}" if self.reused else ""
