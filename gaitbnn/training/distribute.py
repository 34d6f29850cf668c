"""Training on several devices or machines with a ``tf.distribute`` strategy.

``none``: the default strategy, one device. ``mirrored``: ``MirroredStrategy``
over all local GPUs (or the logical devices configured). ``multiworker``:
``MultiWorkerMirroredStrategy`` across machines, each started with the same
command and its own ``TF_CONFIG``. As Keras documents for ``fit`` under a
strategy, ``--batch-size`` is the global batch, split across the replicas, so
the optimization (and the learning rate that suits it) is the same on one
device or many. Under ``multiworker`` every worker trains; only the chief
writes the run directory (``is_chief``), the others write into a temporary
folder that is removed at the end.
"""
from __future__ import annotations

import tensorflow as tf

from gaitbnn.errors import InputError

KINDS = ("none", "mirrored", "multiworker")


def is_chief(strategy: tf.distribute.Strategy) -> bool:
    """Whether this process writes the run: always, but under ``multiworker`` only the chief (the task of type
    ``chief``, or worker 0 when the cluster has no chief), as Keras' multi-worker guide does."""
    resolver = getattr(strategy, "cluster_resolver", None)
    cluster = resolver.cluster_spec().as_dict() if resolver is not None else {}
    if not cluster:
        return True
    if resolver.task_type == "chief":
        return True
    return resolver.task_type == "worker" and resolver.task_id == 0 and "chief" not in cluster


def strategy(kind: str = "none") -> tf.distribute.Strategy:
    if kind == "none":
        return tf.distribute.get_strategy()
    if kind == "mirrored":
        return tf.distribute.MirroredStrategy()
    if kind == "multiworker":
        return tf.distribute.MultiWorkerMirroredStrategy()
    raise InputError(f"unknown --distribute '{kind}': choose one of {', '.join(KINDS)}")
