"""Training callbacks of a resumed run: they start from the best value the interrupted run had reached.

The run directory's side of resuming (the backup, ``history.csv``) is ``gaitbnn.run_backup``.
"""
from __future__ import annotations

import tensorflow as tf


class ReduceLROnPlateauFrom(tf.keras.callbacks.ReduceLROnPlateau):
    """ReduceLROnPlateau that starts from a best value already reached (a resumed run)."""

    def __init__(self, initial_best=None, **kwargs):
        super().__init__(**kwargs)
        self.initial_best = initial_best

    def on_train_begin(self, logs: dict | None = None) -> None:
        super().on_train_begin(logs)
        if self.initial_best is not None:
            self.best = self.initial_best
