"""The record types the loaders produce: walks (gait, siamese), activity recordings (LARa), GEIs (CASIA-B).

A neutral module: loaders and synthetic generators import these; nothing here imports a loader.
"""
from dataclasses import dataclass

import numpy as np


@dataclass
class Recording:
    user: str
    session: str  # the walk (several pieces of one walk split at gaps share it)
    times: np.ndarray  # (n,) seconds, increasing
    signal: np.ndarray  # (n, 6)
    origin: str  # file or generator that produced it, for error messages


@dataclass
class ActivityRecording:
    """One recording: (n, D) signal, (n,) class per sample, (n, A) attributes per sample (or None)."""
    subject: str
    signal: np.ndarray
    classes: np.ndarray
    attributes: np.ndarray | None
    origin: str


@dataclass
class GEIRecord:
    subject: str
    condition: str  # nm, bg, cl
    sequence: int
    view: int  # degrees
    image: np.ndarray  # (height, width) float32 in [0, 1]
