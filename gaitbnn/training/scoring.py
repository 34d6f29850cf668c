"""Class predictions and the thesis' metrics (BtCNN thesis Sec. 5.2).

Accuracy, mean F1 (the unweighted mean of the per-class F1 scores, Eq. 5.2.5)
and weighted F1 (per-class F1 weighted by the class's share of windows,
Eq. 5.2.6), computed with scikit-learn. An attribute head's sigmoid output is
decoded to the class of the nearest attribute vector of the training set
(Euclidean distance; LARa's nearest-neighbour decoding, thesis Sec. 4.2).
"""
from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING

import numpy as np
import tensorflow as tf
from sklearn.metrics import ConfusionMatrixDisplay, accuracy_score, f1_score, recall_score

from gaitbnn import runs

if TYPE_CHECKING:
    from pathlib import Path

CONFUSION_FILE = "confusion_matrix.png"


def decode_attributes(scores: np.ndarray, table: np.ndarray, table_classes: np.ndarray) -> np.ndarray:
    """The class of the ``table`` row nearest to each row of ``scores`` (ties: the first row)."""
    scores, table = np.asarray(scores, np.float32), np.asarray(table, np.float32)
    distances = ((scores[:, None, :] - table[None, :, :]) ** 2).sum(axis=2)
    return np.asarray(table_classes)[np.argmin(distances, axis=1)]


def predict_classes(model: tf.keras.Model, x: np.ndarray, head: str = "softmax", table: np.ndarray = None,
                    table_classes: np.ndarray = None, batch_size: int = 256) -> np.ndarray:
    """Predicted class per window: argmax of a softmax head, nearest attribute vector of an attribute head."""
    outputs = model.predict(x, batch_size=batch_size, verbose=0)
    if head == "attributes":
        return decode_attributes(outputs, table, table_classes)
    return np.argmax(outputs, axis=1)


def scores(y_true: np.ndarray, y_pred: np.ndarray) -> dict:
    """{'accuracy', 'mean_f1', 'weighted_f1'} of integer labels."""
    return {
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "mean_f1": float(f1_score(y_true, y_pred, average="macro", zero_division=0)),
        "weighted_f1": float(f1_score(y_true, y_pred, average="weighted", zero_division=0)),
    }


def per_class_accuracy(y_true: np.ndarray, y_pred: np.ndarray, class_names: list) -> dict:
    """{class name: the fraction of its test items predicted right} (per-class recall) for every class with
    test items: on a walks split, which person the held-out walks fail."""
    present = np.unique(y_true)
    recall = recall_score(y_true, y_pred, labels=present, average=None, zero_division=0)
    return {str(class_names[c]): float(r) for c, r in zip(present, recall)}


def vote_accuracy(y_true: np.ndarray, y_pred: np.ndarray, groups: np.ndarray) -> tuple:
    """(accuracy, groups) of a majority vote per group (a walk): each group's windows elect the most predicted
    class (ties: the lowest class index, as ``predict``), right when it is the group's true class."""
    y_true, y_pred, groups = np.asarray(y_true), np.asarray(y_pred), np.asarray(groups)
    names = np.unique(groups)
    right = 0
    for name in names:
        mine = groups == name
        truth = np.unique(y_true[mine])
        if len(truth) != 1:
            raise ValueError(f"group {name} holds windows of {len(truth)} classes; a vote needs one")
        right += int(np.argmax(np.bincount(y_pred[mine])) == truth[0])
    return right / len(names), len(names)


class ValidationScores(tf.keras.callbacks.Callback):
    """Adds ``val_accuracy``, ``val_mean_f1`` and ``val_weighted_f1`` (decoded classes) to each epoch's logs.

    Listed before the checkpoint and logger callbacks, which then see these keys:
    the best checkpoint can be chosen by validation weighted F1.
    """

    def __init__(self, x, y, head, table=None, table_classes=None):
        super().__init__()
        self.x, self.y, self.head, self.table, self.table_classes = x, y, head, table, table_classes

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        predicted = predict_classes(self.model, self.x, self.head, self.table, self.table_classes)
        for key, value in scores(self.y, predicted).items():
            logs["val_" + key] = value


def plot_confusion(y_true: np.ndarray, y_pred: np.ndarray, class_names: list, path: str | Path, title: str) -> None:
    """Confusion matrix (rows: true class, counts) as a PNG, written atomically."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    size = max(5.0, 0.6 * len(class_names) + 2)
    fig, ax = plt.subplots(figsize=(size, size))
    ConfusionMatrixDisplay.from_predictions(y_true, y_pred, labels=list(range(len(class_names))),
                                            display_labels=class_names, xticks_rotation=45, ax=ax, colorbar=False)
    ax.set_title(textwrap.fill(title, 70), fontsize=8)
    fig.tight_layout()
    with runs.atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=100)
    plt.close(fig)
