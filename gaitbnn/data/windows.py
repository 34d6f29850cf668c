"""Sliding windows over labelled recordings (LARa / thesis Sec. 4.2: T steps, stride S = 25).

A window's class is the majority class of its samples (ties: the smallest class
index). Its attribute vector is, with ``attributes="majority"``, the most frequent
attribute vector among the samples of that class, or, with ``attributes="or"``
(the LARa authors' code), the OR over all its samples (1 where any sample has 1).
Windows never cross a recording's end.
"""
from __future__ import annotations

import numpy as np

from gaitbnn.data.recordings import cut


def majority(labels: np.ndarray) -> int:
    """The most frequent label of an integer array (ties: the smallest)."""
    return int(np.argmax(np.bincount(np.asarray(labels, dtype=np.int64))))


def most_frequent_row(rows: np.ndarray) -> np.ndarray:
    """The most frequent row of a 2-D array (ties: the first in sorted order)."""
    unique, counts = np.unique(rows, axis=0, return_counts=True)
    return unique[int(np.argmax(counts))]


def sliding(signal: np.ndarray, classes: np.ndarray, attributes: np.ndarray | None, steps: int, stride: int,
            rule: str = "majority") -> tuple:
    """Windows of ``steps`` samples every ``stride`` samples.

    ``signal`` (n, D), ``classes`` (n,), ``attributes`` (n, A) or None; ``rule`` "majority" or "or" for the
    window's attributes. Returns x (k, steps, D) float32, y (k,) int64 and a (k, A) float32 or None; k is 0
    when the recording is shorter than one window.
    """
    n = len(signal)
    starts = np.arange(0, n - steps + 1, stride) if n >= steps else np.arange(0)
    x = cut(np.asarray(signal, np.float32), steps, stride)
    y = np.array([majority(classes[s:s + steps]) for s in starts], dtype=np.int64)
    if attributes is None:
        return x, y, None
    a = np.zeros((len(starts), attributes.shape[1]), np.float32)
    if rule == "or":
        for i, s in enumerate(starts):
            a[i] = (attributes[s:s + steps] > 0).any(axis=0)
        return x, y, a
    for i, (s, label) in enumerate(zip(starts, y)):
        window_classes = classes[s:s + steps]
        a[i] = most_frequent_row(attributes[s:s + steps][window_classes == label])
    return x, y, a
