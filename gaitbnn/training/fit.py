"""Training, by the recipe of each model's paper.

Gait models (BiPedalNet Sec. 2.3): Adam (learning rate 1e-3) updates the latent
weights; the multi-class cross-entropy is the objective; the learning rate is
reduced when validation accuracy plateaus; the checkpoint with the best
validation accuracy is kept.

Activity models (BtCNN thesis Sec. 4.1.1 / 4.3.2): RMSProp (rho 0.9), batch 400,
a fixed learning rate (1e-4, 1e-5 or 1e-6); categorical cross-entropy for the
softmax head, binary cross-entropy for the attribute head; the checkpoint with
the best validation weighted F1 is kept.
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
from gaitbnn.training import metrics as scoring
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


OPTIMIZERS = {
    "adam": lambda lr: tf.keras.optimizers.Adam(lr),
    "rmsprop": lambda lr: tf.keras.optimizers.RMSprop(lr, rho=0.9),
}


def compile_model(model, learning_rate, optimizer="adam", head="softmax"):
    if head == "attributes":  # sigmoid per attribute; class accuracy comes from ValidationScores
        loss, metrics = "binary_crossentropy", [tf.keras.metrics.BinaryAccuracy(name="attribute_accuracy")]
    else:  # categorical cross-entropy on integer labels
        loss, metrics = "sparse_categorical_crossentropy", ["accuracy"]
    model.compile(optimizer=OPTIMIZERS[optimizer](learning_rate), loss=loss, metrics=metrics)


def accuracy(model, x, y, batch_size=256):
    """Top-1 accuracy of ``model`` on (x, y)."""
    predictions = model.predict(x, batch_size=batch_size, verbose=0)
    return float(np.mean(np.argmax(predictions, axis=1) == y))


def predict_classes(model, dataset, x, head):
    """Class predictions of ``model`` on ``x`` (attribute heads decoded with the dataset's table)."""
    return scoring.predict_classes(model, x, head, dataset.attribute_table, dataset.attribute_table_classes)


def plot_history(history_csv, png_path, title):
    """Training curves (loss and accuracy, train and validation) as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with open(history_csv) as f:
        rows = list(csv.DictReader(f))
    epochs = [int(r["epoch"]) + 1 for r in rows]
    fig, (ax_loss, ax_score) = plt.subplots(1, 2, figsize=(10, 4))
    panels = ((ax_loss, "loss", [("loss", "train"), ("val_loss", "validation")]),
              (ax_score, "score", [("accuracy", "train accuracy"), ("val_accuracy", "validation accuracy"),
                                   ("val_weighted_f1", "validation weighted F1")]))
    for ax, ylabel, curves in panels:
        for key, label in curves:
            if rows and key in rows[0]:
                ax.plot(epochs, [float(r[key]) for r in rows], label=label)
        ax.set_xlabel("epoch")
        ax.set_ylabel(ylabel)
        ax.legend()
    fig.suptitle(textwrap.fill(title, 110), fontsize=9)
    fig.tight_layout()
    with runs.atomic_path(png_path) as tmp:
        fig.savefig(tmp, dpi=100)
    plt.close(fig)


def _resume_state(out, config, force, monitor):
    """(initial best of ``monitor``, True) when ``out`` holds an interrupted run of the same settings."""
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
    return resume.trim_history(out / runs.HISTORY_FILE, last, monitor), True


def train(name, dataset, out, epochs=30, batch_size=64, seed=0, learning_rate=1e-3, force=False, verbose=2,
          distribute="none", optimizer=None):
    """Train registered model ``name`` on ``dataset`` into run directory ``out``; return the metrics.

    An interrupted run in ``out`` with the same settings resumes from its last completed epoch.
    ``optimizer`` defaults to the model's paper's (``ModelSpec.training``).
    """
    spec = models.get_spec(name)
    head = spec.head
    activity = spec.family == models.ACTIVITY
    if head == "attributes" and dataset.a_train is None:
        raise InputError(f"{name} predicts attributes, and {dataset.source} has none: use a softmax model")
    optimizer = optimizer or spec.training["optimizer"]
    monitor = "val_weighted_f1" if activity else "val_accuracy"
    outputs = len(dataset.attribute_names) if head == "attributes" else dataset.classes
    targets = {part: (getattr(dataset, "a_" + part) if head == "attributes" else getattr(dataset, "y_" + part))
               for part in ("train", "val")}
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
        "optimizer": optimizer,
        "distribute": distribute,
        "family": spec.family,
        "head": head,
        "monitor": monitor,
        "data_options": dataset.options,
        "split": dataset.options.get("split", "dataset protocol"),
        "data_summary": dataset.summary,
        "data_problems": dataset.problems.as_list(),
        "versions": versions(),
    }
    if activity:  # what a phone app needs to turn the outputs into a class
        config["attribute_names"] = dataset.attribute_names
        config["attribute_table"] = dataset.attribute_table.tolist()
        config["attribute_table_classes"] = dataset.attribute_table_classes.tolist()
    best_so_far, resuming = _resume_state(out, config, force, monitor)
    runs.write_json(out / runs.CONFIG_FILE, config)
    with distribution.strategy(distribute).scope():
        model = models.build(name, dataset.input_shape, outputs)
        compile_model(model, learning_rate, optimizer, head)
    checkpoint = out / runs.CHECKPOINT_FILE
    best_checkpoint = tf.keras.callbacks.ModelCheckpoint(
        str(checkpoint), monitor=monitor, mode="max", save_best_only=True, save_weights_only=True
    )
    if best_so_far is not None and checkpoint.exists():
        best_checkpoint.best = best_so_far
    callbacks = [
        best_checkpoint,
        tf.keras.callbacks.CSVLogger(str(out / runs.HISTORY_FILE), append=resuming),
        tf.keras.callbacks.BackupAndRestore(str(out / resume.BACKUP_DIR)),  # last: after the files above
    ]
    if activity:  # first: the callbacks after it read its val_weighted_f1 (the thesis keeps the rate fixed)
        callbacks.insert(0, scoring.ValidationScores(dataset.x_val, dataset.y_val, head, dataset.attribute_table,
                                                     dataset.attribute_table_classes))
    else:
        callbacks.insert(0, resume.ReduceLROnPlateauFrom(best_so_far, monitor=monitor, mode="max", factor=0.5,
                                                         patience=3, min_lr=1e-5))
    if verbose:
        print(f"{'resuming' if resuming else 'training'} {name} on {dataset.description}: "
              f"{len(dataset.y_train)} train / {len(dataset.y_val)} val / {len(dataset.y_test)} test windows, "
              f"{dataset.classes} classes", flush=True)
    start = time.time()
    model.fit(
        dataset.x_train, targets["train"],
        validation_data=(dataset.x_val, targets["val"]),
        epochs=epochs, batch_size=batch_size, shuffle=True, callbacks=callbacks, verbose=verbose,
    )
    train_seconds = time.time() - start
    model.load_weights(str(checkpoint))
    with runs.atomic_path(out / runs.MODEL_FILE) as tmp:
        model.save(str(tmp), include_optimizer=False)
    os.remove(checkpoint)
    resume.discard(out)
    plot_history(out / runs.HISTORY_FILE, out / runs.CURVES_FILE, f"{name}: {dataset.description}")
    predicted = predict_classes(model, dataset, dataset.x_test, head)
    test = scoring.scores(dataset.y_test, predicted)
    scoring.plot_confusion(dataset.y_test, predicted, dataset.class_names, out / scoring.CONFUSION_FILE,
                           f"{name}, test split: {dataset.description}")
    metrics = {
        "model": name,
        "data": dataset.source,
        "synthetic": dataset.synthetic,
        "data_description": dataset.description,
        "split": config["split"],
        "head": head,
        "test_accuracy": test["accuracy"],
        "mean_f1": test["mean_f1"],
        "weighted_f1": test["weighted_f1"],
        "val_accuracy": scoring.scores(dataset.y_val, predict_classes(model, dataset, dataset.x_val, head))["accuracy"],
        "test_windows": int(len(dataset.y_test)),
        "classes": dataset.classes,
        **models.count_params(model),
        "epochs": epochs,
        "learning_rate": learning_rate,
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
