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
from __future__ import annotations

import contextlib
import os
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import tensorflow as tf

import gaitbnn.models.registry  # noqa: F401  registers Larq's layers and ours (Thermometer) for loading
from gaitbnn import models, runs
from gaitbnn.errors import InputError
from gaitbnn.models import recipes
from gaitbnn.training import augment, distill, resume, scoring
from gaitbnn.training import distribute as distribution

if TYPE_CHECKING:
    from gaitbnn.data.dataset import Dataset

tf.get_logger().setLevel("ERROR")  # AutoGraph notes on larq's QuantizedVariable are not for users


def set_determinism(seed: int) -> None:
    """Same seed, same data, same machine: same weights and metrics."""
    tf.keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()


def _bop(learning_rate, recipe):
    """Bop (Helwegen et al., NeurIPS 2019) flips binary weights; Adam at ``learning_rate`` trains the rest."""
    import larq as lq

    return lq.optimizers.CaseOptimizer(
        (lq.optimizers.Bop.is_binary_variable,
         lq.optimizers.Bop(threshold=recipe.get("bop_threshold", 1e-8), gamma=recipe.get("bop_gamma", 1e-4))),
        default_optimizer=tf.keras.optimizers.legacy.Adam(learning_rate))  # larq needs a legacy one


OPTIMIZERS = {  # name -> (learning rate, recipe) -> optimizer; a recipe's extra settings such as rho are read here
    "adam": lambda lr, recipe: tf.keras.optimizers.Adam(lr),
    "rmsprop": lambda lr, recipe: tf.keras.optimizers.RMSprop(lr, rho=recipe.get("rho", 0.9)),
    "bop": _bop,
}


def compile_model(model: tf.keras.Model, learning_rate: float, optimizer: str | None = "adam",
                  head: str = "softmax", recipe: dict | None = None, distilled: bool = False) -> None:
    """Compile with the recipe's optimizer and the head's loss (``recipe``: extra settings such as RMSProp's rho;
    ``distilled``: ``model`` gives logits, trained on ``distill.targets`` with ``distill.DistillationLoss``)."""
    recipe = recipe or {}
    if distilled:
        loss = distill.DistillationLoss(recipe.get("alpha", distill.ALPHA), recipe.get("temperature",
                                                                                     distill.TEMPERATURE))
        metrics = [distill.LabelAccuracy()]
    elif head == "attributes":  # sigmoid per attribute; class accuracy comes from ValidationScores
        loss, metrics = "binary_crossentropy", [tf.keras.metrics.BinaryAccuracy(name="attribute_accuracy")]
    else:  # categorical cross-entropy on integer labels
        loss, metrics = "sparse_categorical_crossentropy", ["accuracy"]
    model.compile(optimizer=OPTIMIZERS[optimizer](learning_rate, recipe), loss=loss, metrics=metrics)


def predict_classes(model: tf.keras.Model, dataset: Dataset, x: np.ndarray, head: str) -> np.ndarray:
    """Class predictions of ``model`` on ``x`` (attribute heads decoded with the dataset's table)."""
    return scoring.predict_classes(model, x, head, dataset.attribute_table, dataset.attribute_table_classes)


def train(name: str, dataset: Dataset, out: str | Path, epochs: int = 30, batch_size: int = 64, seed: int = 0,
          learning_rate: float = 0.001, force: bool = False, verbose: int = 2, distribute: str = "none",
          optimizer: str | None = None, initial_weights: str | Path | None = None,
          recipe: dict | None = None) -> dict:
    """Train registered model ``name`` on ``dataset`` into run directory ``out``; return the metrics.

    An interrupted run in ``out`` with the same settings resumes from its last completed epoch.
    ``optimizer`` defaults to the model's paper's (``ModelSpec.training``). ``initial_weights``: a complete
    run whose model's weights start this one where layers match (``transfer_weights``). ``recipe``: a named
    training recipe's extra ingredients (``models.recipes``: ``name``, ``schedule``, ``rotation`` / ``shift`` /
    ``scale`` augmentation, ``teacher`` run for distillation with ``alpha`` and ``temperature``, Bop's
    ``bop_threshold`` / ``bop_gamma``), recorded in ``config.json``.
    """
    strategy = distribution.strategy(distribute)  # first: a multi-worker strategy must exist before other ops
    chief = distribution.is_chief(strategy)
    with contextlib.ExitStack() as stack:
        if not chief:  # train alongside the chief, write nothing into its run
            out = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="gaitbnn-worker-"))) / "run"
            force, verbose = True, 0
        return _train(name, dataset, out, epochs=epochs, batch_size=batch_size, seed=seed,
                      learning_rate=learning_rate, force=force, verbose=verbose, distribute=distribute,
                      optimizer=optimizer, initial_weights=initial_weights, recipe=recipe, strategy=strategy,
                      chief=chief)


def _train(name, dataset, out, *, epochs, batch_size, seed, learning_rate, force, verbose, distribute, optimizer,
           initial_weights, recipe, strategy, chief):
    spec = models.get_spec(name)
    head = spec.head
    activity = spec.family == models.ACTIVITY
    if head == "attributes" and dataset.attributes_train is None:
        raise InputError(f"{name} predicts attributes, and {dataset.source} has none: use a softmax model")
    recipe = dict(recipe or {})
    optimizer = optimizer or recipe.get("optimizer") or spec.training["optimizer"]
    epochs = recipes.recipe_epochs(epochs, recipe)
    teacher_run = recipe.get("teacher")
    if teacher_run and (head != "softmax" or activity):
        raise InputError(f"{name}: distillation (a teacher run) is for softmax gait models")
    monitor = "val_weighted_f1" if activity else "val_accuracy"
    outputs = len(dataset.attribute_names) if head == "attributes" else dataset.classes
    targets = {part: (getattr(dataset, "attributes_" + part) if head == "attributes" else getattr(dataset, "y_" + part))
               for part in ("train", "val")}
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
        "initialized_from": str(initial_weights) if initial_weights else "scratch",
        "split": dataset.options.get("split", "dataset protocol"),
        "recipe": recipe.get("name", "paper"),
        "recipe_settings": recipes.recorded(recipe),
        "data_summary": dataset.summary,
        "data_problems": dataset.problems.as_list(),
    }
    if activity:  # what a phone app needs to turn the outputs into a class
        config["attribute_names"] = dataset.attribute_names
        config["attribute_table"] = dataset.attribute_table.tolist()
        config["attribute_table_classes"] = dataset.attribute_table_classes.tolist()
    run = runs.RunWriter(out, config, force=force, monitor=monitor)
    out, best_so_far, resuming = run.out, run.best_so_far, run.resuming
    with strategy.scope():
        model = models.build(name, dataset.input_shape, outputs)
        if initial_weights and not resuming:
            transfer_weights(model, load_model(initial_weights))
        trainee = distill.logits_model(model) if teacher_run else model  # same layers and weights as model
        compile_model(trainee, learning_rate, optimizer, head, {**spec.training, **recipe},
                      distilled=bool(teacher_run))
    augmenter = None
    if any(recipe.get(k) for k in ("rotation", "shift", "scale")):
        augmenter = augment.Augmenter(dataset.normalization, recipe.get("rotation", 0), recipe.get("shift", 0),
                                      recipe.get("scale", 0), seed=seed)
    train_data = augment.augmented(dataset.x_train, targets["train"], batch_size, augmenter, seed)
    validation = (dataset.x_val, targets["val"])
    if teacher_run:
        teacher = distill.logits_model(load_model(teacher_run))
        train_data = train_data.map(lambda x, y: (x, distill.targets(teacher, x, y)))
        validation = (dataset.x_val, distill.numpy_targets(teacher, dataset.x_val, dataset.y_val))
    checkpoint = out / runs.CHECKPOINT_FILE
    best_checkpoint = tf.keras.callbacks.ModelCheckpoint(
        str(checkpoint), monitor=monitor, mode="max", save_best_only=True, save_weights_only=True
    )
    if best_so_far is not None and checkpoint.exists():
        best_checkpoint.best = best_so_far
    callbacks = [best_checkpoint, *run.callbacks()]
    if activity:  # first: the callbacks after it read its val_weighted_f1 (the thesis keeps the rate fixed)
        callbacks.insert(0, scoring.ValidationScores(dataset.x_val, dataset.y_val, head, dataset.attribute_table,
                                                     dataset.attribute_table_classes))
    elif optimizer == "bop":  # Bop's flips are paced by its gamma and threshold; no learning-rate schedule
        pass
    elif recipe.get("schedule") == "cosine":  # decays to 0 over the run (best recipe)
        callbacks.insert(0, tf.keras.callbacks.LearningRateScheduler(
            lambda epoch: float(learning_rate * 0.5 * (1 + np.cos(np.pi * epoch / epochs)))))
    else:  # BiPedalNet Sec. 2.3: "exponentially reduces the rate when validation accuracy plateaus"
        callbacks.insert(0, resume.ReduceLROnPlateauFrom(best_so_far, monitor=monitor, mode="max", factor=0.5,
                                                         patience=3, min_lr=1e-5))
    if verbose:
        print(f"{'resuming' if resuming else 'training'} {name} on {dataset.description}: "
              f"{len(dataset.y_train)} train / {len(dataset.y_val)} val / {len(dataset.y_test)} test windows, "
              f"{dataset.classes} classes", flush=True)
    start = time.time()
    trainee.fit(train_data, validation_data=validation, epochs=epochs, callbacks=callbacks, verbose=verbose)
    train_seconds = time.time() - start
    if not chief:  # another worker: the chief holds the best checkpoint and finishes the run
        return {"model": name, "chief": False}
    if distribute == "multiworker":  # finish outside the strategy: what follows is local to the chief
        model = models.build(name, dataset.input_shape, outputs)
        trainee = distill.logits_model(model) if teacher_run else model
    trainee.load_weights(str(checkpoint))
    run.save_model(model)
    os.remove(checkpoint)
    run.training_done(f"{name}: {dataset.description}")
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
        **walk_vote(dataset, predicted),
        "test_accuracy_per_class": scoring.per_class_accuracy(dataset.y_test, predicted, dataset.class_names),
        "classes": dataset.classes,
        **models.count_params(model),
        "epochs": epochs,
        "learning_rate": learning_rate,
        "resumed": resuming,
        "train_seconds": round(train_seconds, 2),
    }
    run.finish(metrics)
    return metrics


def walk_vote(dataset: Dataset, predicted: np.ndarray) -> dict:
    """``test_walk_accuracy`` (a majority vote over each test walk's windows, as ``predict`` votes over a
    recording), ``test_walks`` and each class's ``test_walks_per_class`` for a dataset that names each test
    window's walk; else nothing."""
    if "walk" not in dataset.test_groups:
        return {}
    groups = dataset.test_groups["walk"]
    accuracy, walks = scoring.vote_accuracy(dataset.y_test, predicted, groups)
    held_out = {str(dataset.class_names[c]): sorted({str(g) for g in groups[dataset.y_test == c]})
                for c in np.unique(dataset.y_test)}
    return {"test_walk_accuracy": accuracy, "test_walks": walks, "test_walks_per_class": held_out}


def transfer_weights(model: tf.keras.Model, source: tf.keras.Model) -> list:
    """Start ``model`` from ``source``'s weights (BtCNN thesis Sec. 5.3.2: the trained tCNN "is going to be trained
    again, then the weight will be binarized"); return the names of the layers that received weights.

    A layer takes the weights of ``source``'s layer of the same name when their shapes match; a binary layer
    without a bias takes the float kernel alone; a kernel over a thermometer-coded input (``levels`` channels
    standing for one) takes the float kernel spread evenly over the levels. Other layers (BatchNorm) keep theirs.
    """
    sources = {layer.name: layer.get_weights() for layer in source.layers if layer.get_weights()}
    moved = []
    for layer in model.layers:
        mine, theirs = layer.get_weights(), sources.get(layer.name)
        if not mine or not theirs:
            continue
        if [w.shape for w in mine] == [w.shape for w in theirs]:
            layer.set_weights(theirs)
        elif len(mine) == 1 and mine[0].shape == theirs[0].shape:  # binary layer: kernel only, BatchNorm after
            layer.set_weights([theirs[0]])
        elif len(mine) == 1 and mine[0].shape[:2] + mine[0].shape[3:] == theirs[0].shape[:2] + theirs[0].shape[3:] \
                and theirs[0].shape[2] == 1:  # one input channel coded by a thermometer of mine[0].shape[2] levels
            layer.set_weights([np.repeat(theirs[0], mine[0].shape[2], axis=2) / mine[0].shape[2]])
        else:
            continue
        moved.append(layer.name)
    return moved


def load_model(run_dir: str | Path) -> tf.keras.Model:
    """The trained Keras model of a complete run."""
    path = Path(run_dir) / runs.MODEL_FILE
    try:
        return tf.keras.models.load_model(str(path), compile=False)
    except Exception as err:  # h5py and Keras raise many types for a damaged file
        raise InputError(f"{path}: cannot load the model ({type(err).__name__}): the file is corrupt; "
                         "train again") from None
