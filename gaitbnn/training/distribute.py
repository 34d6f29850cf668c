"""Training on several devices or machines with a ``tf.distribute`` strategy.

``none``: the default strategy, one device. ``mirrored``: ``MirroredStrategy``
over all local GPUs (or the logical devices configured). ``multiworker``:
``MultiWorkerMirroredStrategy`` across machines, each started with the same
command and its own ``TF_CONFIG``. As Keras documents for ``fit`` under a
strategy, ``--batch-size`` is the global batch, split across the replicas, so
the optimization (and the learning rate that suits it) is the same on one
device or many.
"""
from __future__ import annotations

import tensorflow as tf

from gaitbnn.errors import InputError

KINDS = ("none", "mirrored", "multiworker")


def strategy(kind: str = "none") -> tf.distribute.Strategy:
    if kind == "none":
        return tf.distribute.get_strategy()
    if kind == "mirrored":
        return tf.distribute.MirroredStrategy()
    if kind == "multiworker":
        return tf.distribute.MultiWorkerMirroredStrategy()
    raise InputError(f"unknown --distribute '{kind}': choose one of {', '.join(KINDS)}")
