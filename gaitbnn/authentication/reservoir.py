"""Balanced reservoir sampling of training pairs (MM'19 Sec. 3.1, Algorithm 1).

The device owner has r samples, so r^2 positive pairs; the cloud supplies n_s
negative classes of s samples, so n_s * r * s negative pairs, far more than fit
in memory. The buffer holds 2R pairs, R = r^2: every positive pair, and R
negatives kept by reservoir sampling over one sequential pass: the first R
negatives fill the reservoir; the T-th (T > R) replaces a uniformly chosen
resident with probability R / T. Every negative ends up kept with probability
R / N (N negatives seen), and the buffer never holds more than 2R pairs.
"""
from __future__ import annotations

import itertools

import numpy as np


class Reservoir:
    """Uniform sample of at most ``capacity`` items from a stream of unknown length (Algorithm 1, lines 4-8)."""

    def __init__(self, capacity, rng):
        if capacity < 1:
            raise ValueError("a reservoir needs room for at least one item")
        self.capacity, self.rng, self.seen, self.items = int(capacity), rng, 0, []

    def offer(self, item: tuple) -> None:
        self.seen += 1
        if len(self.items) < self.capacity:
            self.items.append(item)
            return
        slot = self.rng.integers(self.seen)  # item T is kept with probability R / T ...
        if slot < self.capacity:
            self.items[slot] = item  # ... in place of a uniformly chosen resident


def owner_pairs(owner: int, others: np.ndarray, rng: np.random.Generator, capacity: int = None) -> tuple:
    """Balanced pairs for one owner: (pairs (2R, 2) of sample indices, labels (2R,) 1 similar / 0 dissimilar).

    ``owner`` and ``others`` are index arrays; R = r^2 (or ``capacity``) positives are all (i, j) owner pairs,
    and R negatives are reservoir-sampled from the stream of (owner, other) pairs.
    """
    positives = list(itertools.product(owner, owner))
    capacity = capacity or len(positives)
    positives = [positives[i] for i in rng.permutation(len(positives))[:capacity]]
    reservoir = Reservoir(capacity, rng)
    for pair in itertools.product(owner, others):
        reservoir.offer(pair)
    pairs = np.array(positives + reservoir.items, dtype=np.int64)
    labels = np.concatenate([np.ones(len(positives)), np.zeros(len(reservoir.items))]).astype(np.float32)
    return pairs, labels


def multi_class_pairs(y: np.ndarray, count: int, rng: np.random.Generator) -> tuple:
    """``count`` positive and ``count`` negative pairs over every class of ``y`` (the multi-class setting)."""
    by_class = {c: np.flatnonzero(y == c) for c in np.unique(y)}
    classes = np.array(sorted(by_class))
    first = rng.integers(len(y), size=2 * count)
    second = np.empty_like(first)
    for k, i in enumerate(first):
        if k < count:  # similar: another sample of the same class
            second[k] = rng.choice(by_class[y[i]])
        else:  # dissimilar: a sample of another class
            other = rng.choice(classes[classes != y[i]])
            second[k] = rng.choice(by_class[other])
    labels = np.concatenate([np.ones(count), np.zeros(count)]).astype(np.float32)
    return np.stack([first, second], axis=1), labels
