"""Training as BiPedalNet Sec. 2.3 describes it.

Adam (learning rate 1e-3) updates the latent weights; the multi-class
cross-entropy is the objective; the learning rate is reduced when validation
accuracy plateaus; the checkpoint with the best validation accuracy is kept.
"""
import csv
import textwrap
import os
import platform
import time
from pathlib import Path

import larq
import larq_compute_engine
import numpy as np
import tensorflow as tf

from gaitbnn import models, runs
from gaitbnn.errors import InputError
from gaitbnn.training import distribute as distribution
from gaitbnn.training import resume

tf.get_logger().setLevel("ERROR")  # AutoGraph notes on larq's QuantizedVariable are not for users


def set_determinism(seed):
    """Same seed, same data, same machine: same weights and metrics."""
    tf.keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()


def versions():
    return {
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "larq": larq.__version__ if hasattr(larq, "__version__") else "0.14.0",
        "larq_compute_engine": larq_compute_engine.__version__,
        "numpy": np.__version__,
        "machine": platform.machine(),
    }


def compile_model(model, learning_rate):
    model.compile(
        optimizer=tf.keras.optimizers.Adam(learning_rate),
        loss="sparse_categorical_crossentropy",  # categorical cross-entropy on integer labels
        metrics=["accuracy"],
    )


def accuracy(model, x, y, batch_size=256):
    """Top-1 accuracy of ``model`` on (x, y)."""
    predictions = model.predict(x, batch_size=batch_size, verbose=0)
    return float(np.mean(np.argmax(predictions, axis=1) == y))


def plot_history(history_csv, png_path, title):
    """Training curves (loss and accuracy, train and validation) as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with open(history_csv) as f:
        rows = list(csv.DictReader(f))
    epochs = [int(r["epoch"]) + 1 for r in rows]
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 4))
    for key, ax in (("loss", ax_loss), ("accuracy", ax_acc)):
        ax.plot(epochs, [float(r[key]) for r in rows], label="train")
        ax.plot(epochs, [float(r["val_" + key]) for r in rows], label="validation")
        ax.set_xlabel("epoch")
        ax.set_ylabel(key)
        ax.legend()
    fig.suptitle(textwrap.fill(title, 110), fontsize=9)
    fig.tight_layout()
    with runs.atomic_path(png_path) as tmp:
        fig.savefig(tmp, dpi=100)
    plt.close(fig)


def _resume_state(out, config, force):
    """(initial best validation accuracy, True) when ``out`` holds an interrupted run of the same settings."""
    backup = out / resume.BACKUP_DIR
    last = resume.completed_epoch(backup)
    if last is None or force:
        resume.discard(out)
        return None, False
    previous = runs.read_json(out / runs.CONFIG_FILE, "run config") if (out / runs.CONFIG_FILE).exists() else {}
    differs = [k for k in resume.RESUME_KEYS if previous.get(k) != config.get(k)]
    if differs:
        raise InputError(f"{out}: holds an interrupted run with other {', '.join(differs)}: rerun it with the same "
                         "options to resume, or pass --force to start over")
    return resume.trim_history(out / runs.HISTORY_FILE, last), True


def train(name, dataset, out, epochs=30, batch_size=64, seed=0, learning_rate=1e-3, force=False, verbose=2,
          distribute="none"):
    """Train registered model ``name`` on ``dataset`` into run directory ``out``; return the metrics.

    An interrupted run in ``out`` with the same settings resumes from its last completed epoch.
    """
    out = runs.prepare_output_dir(out, force=force)
    (out / runs.METRICS_FILE).unlink(missing_ok=True)
    set_determinism(seed)
    config = {
        "model": name,
        "data": dataset.source,
        "synthetic": dataset.synthetic,
        "data_description": dataset.description,
        "input_shape": list(dataset.input_shape),
        "classes": dataset.classes,
        "class_names": dataset.class_names,
        "channel_names": dataset.channel_names,
        "normalization": dataset.normalization,
        "epochs": epochs,
        "batch_size": batch_size,
        "seed": seed,
        "learning_rate": learning_rate,
        "optimizer": "adam",
        "distribute": distribute,
        "versions": versions(),
    }
    best_so_far, resuming = _resume_state(out, config, force)
    runs.write_json(out / runs.CONFIG_FILE, config)
    with distribution.strategy(distribute).scope():
        model = models.build(name, dataset.input_shape, dataset.classes)
        compile_model(model, learning_rate)
    checkpoint = out / runs.CHECKPOINT_FILE
    best_checkpoint = tf.keras.callbacks.ModelCheckpoint(
        str(checkpoint), monitor="val_accuracy", mode="max", save_best_only=True, save_weights_only=True
    )
    if best_so_far is not None and checkpoint.exists():
        best_checkpoint.best = best_so_far
    callbacks = [
        resume.ReduceLROnPlateauFrom(best_so_far, monitor="val_accuracy", mode="max", factor=0.5, patience=3,
                                     min_lr=1e-5),
        best_checkpoint,
        tf.keras.callbacks.CSVLogger(str(out / runs.HISTORY_FILE), append=resuming),
        tf.keras.callbacks.BackupAndRestore(str(out / resume.BACKUP_DIR)),  # last: after the files above
    ]
    if verbose:
        print(f"{'resuming' if resuming else 'training'} {name} on {dataset.description}: "
              f"{len(dataset.y_train)} train / {len(dataset.y_val)} val / {len(dataset.y_test)} test windows, "
              f"{dataset.classes} classes", flush=True)
    start = time.time()
    model.fit(
        dataset.x_train, dataset.y_train,
        validation_data=(dataset.x_val, dataset.y_val),
        epochs=epochs, batch_size=batch_size, shuffle=True, callbacks=callbacks, verbose=verbose,
    )
    train_seconds = time.time() - start
    model.load_weights(str(checkpoint))
    with runs.atomic_path(out / runs.MODEL_FILE) as tmp:
        model.save(str(tmp), include_optimizer=False)
    os.remove(checkpoint)
    resume.discard(out)
    plot_history(out / runs.HISTORY_FILE, out / runs.CURVES_FILE, f"{name}: {dataset.description}")
    metrics = {
        "model": name,
        "data": dataset.source,
        "synthetic": dataset.synthetic,
        "data_description": dataset.description,
        "test_accuracy": accuracy(model, dataset.x_test, dataset.y_test),
        "val_accuracy": accuracy(model, dataset.x_val, dataset.y_val),
        "test_windows": int(len(dataset.y_test)),
        "classes": dataset.classes,
        **models.count_params(model),
        "epochs": epochs,
        "resumed": resuming,
        "train_seconds": round(train_seconds, 2),
    }
    runs.write_json(out / runs.METRICS_FILE, metrics)  # last: marks the run complete
    return metrics


def load_model(run_dir):
    """The trained Keras model of a complete run."""
    path = Path(run_dir) / runs.MODEL_FILE
    try:
        return tf.keras.models.load_model(str(path), compile=False)
    except Exception as err:  # h5py and Keras raise many types for a damaged file
        raise InputError(f"{path}: cannot load the model ({type(err).__name__}): the file is corrupt; train again") from None
