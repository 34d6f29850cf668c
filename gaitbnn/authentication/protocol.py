"""The MM'19 evaluation protocol, shared by its experiments: owners, the binary-class data, owner models,
the one-class SVM baseline and spatial fusion (Sec. 3.2, 4.2).

Reusable pieces only; the tables themselves are in ``experiments/siamese.py``.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from sklearn.svm import OneClassSVM

from gaitbnn.authentication import reservoir
from gaitbnn.data import spectrogram
from gaitbnn.training import pairs

if TYPE_CHECKING:
    from collections.abc import Callable

    import tensorflow as tf

    from gaitbnn.data.auth import AuthData

def pair_model(builder: Callable, loss: str, lr: float, input_shape: tuple = spectrogram.SHAPE) -> tuple:
    """A fresh embedding network from ``builder`` and its compiled siamese pair model: (pair model, embedding)."""
    embedding = builder(input_shape=input_shape)
    model = pairs.siamese(embedding, loss)
    pairs.compile_pairs(model, loss, lr)
    return model, embedding


def indexed_pair_accuracy(model: tf.keras.Model, loss: str, x: np.ndarray, enrolled: np.ndarray, probes: np.ndarray,
                          same: np.ndarray) -> float:
    """Pair accuracy over (``x[enrolled[i]]``, ``x[probes[i]]``) pairs, ``same`` saying which are one person."""
    return pairs.pair_accuracy(model, loss, x[enrolled], x[probes], same)


def owners_of(data: AuthData, count: int | str, seed: int = 0) -> list:
    """The people trained as owners: every person (``"all"``, the paper's "a model is trained for each
    individual"), or a seeded random sample of ``count`` of them, in sorted order."""
    if count == "all" or int(count) >= data.classes:
        return list(range(data.classes))
    return sorted(int(i) for i in np.random.default_rng(seed).choice(data.classes, size=int(count), replace=False))


def binary_subset(data: AuthData, fraction: float, seed: int) -> np.ndarray:
    """``fraction`` of the training samples, stratified by person (the binary-class setting's 20%)."""
    from sklearn.model_selection import train_test_split

    keep, _ = train_test_split(data.train, train_size=fraction, stratify=data.y[data.train], random_state=seed)
    return np.sort(keep)


def train_owner(builder: Callable, loss: str, data: AuthData, owner: int, subset: np.ndarray, setting: dict, seed: int,
                embedding_weights: list | None = None, frozen: tuple = ()) -> tuple:
    """Binary-class siamese model of ``owner`` on ``subset``: reservoir pairs, optional transferred, frozen layers."""
    rng = np.random.default_rng(seed + owner)
    pair_index, labels = reservoir.owner_pairs(subset[data.y[subset] == owner], subset[data.y[subset] != owner], rng)
    model, embedding = pair_model(builder, loss, setting["learning_rate"])
    if embedding_weights is not None:
        embedding.set_weights(embedding_weights)
    pairs.freeze(embedding, frozen)
    pairs.compile_pairs(model, loss, setting["learning_rate"])
    history, seconds = pairs.fit_pairs(model, data.images, pair_index, labels, setting["epochs"],
                                          setting["batch_size"], seed)
    return model, embedding, history, seconds


def osvm_accuracy(features: np.ndarray, data: AuthData, owner: int, rng: np.random.Generator) -> float:
    """One-class SVM on the owner's training embeddings; balanced accuracy on owner vs other test samples."""
    svm = OneClassSVM(nu=0.1, gamma="scale").fit(features[data.train][data.y[data.train] == owner])
    genuine = data.test[data.y[data.test] == owner]
    impostors = rng.choice(data.test[data.y[data.test] != owner], size=len(genuine), replace=False)
    accepted = svm.predict(features[np.concatenate([genuine, impostors])]) == 1
    return float(np.mean(accepted == np.repeat([True, False], len(genuine))))


def fused_distances(enrolled: np.ndarray, probes: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """Per probe, the mean distance to ``k`` enrolled embeddings drawn at random (Sec. 3.2's spatial fusion)."""
    picks = rng.integers(len(enrolled), size=(len(probes), k))
    return np.linalg.norm(enrolled[picks] - probes[:, None, :], axis=-1).mean(axis=1)
