"""Model families: how each kind of model trains, is evaluated, exported and probed with fresh weights.

A model's ``ModelSpec.family`` names one of these; the CLI asks the family and never special-cases a
paper. Classifiers (gait, activity, GEI) train with ``training.fit`` and are scored by class; the
siamese embedding networks (auth) train on pairs (``training.pairs``), are scored by pair accuracy and
also export a flatbuffer that trains on the phone (``--target train``).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from gaitbnn import data as datasets
from gaitbnn import models, runs
from gaitbnn.errors import InputError
from gaitbnn.models import recipes

if TYPE_CHECKING:
    from gaitbnn.data.auth import AuthData
    from gaitbnn.data.dataset import Dataset
    from gaitbnn.data.verification import VerificationData

def normal_grid(shape: tuple, count: int, seed: int) -> np.ndarray:
    """Standard-normal inputs rounded to multiples of 1/8 (sums are exact, so signs agree; see fresh_model)."""
    x = np.round(np.random.default_rng(seed).normal(size=(count, *shape)) * 8) / 8
    return x.astype(np.float32)


def unit_grid(shape: tuple, count: int, seed: int) -> np.ndarray:
    """Inputs on a 1/8 grid in [0, 1], like windows normalized to [0, 1] (activity data)."""
    return (np.random.default_rng(seed).integers(0, 9, size=(count, *shape)) / 8).astype(np.float32)


def run_dataset(config: dict, data: str | None = None, overrides: dict | None = None) -> Dataset | AuthData:
    """The data a run was trained on (or ``data`` instead), windowed, split and normalized as the run was:
    with the normalization stored in its ``config.json``, never statistics of other data. ``overrides``: data
    options that differ from the run's (a verification run on other people: ``verification_data``)."""
    options = dict(config.get("data_options")
                   or {"window_seconds": config.get("normalization", {}).get("window_seconds")}, **(overrides or {}))
    if config.get("family") == datasets.ACTIVITY:
        options.setdefault("protocol", "majority")  # runs made before --lara-protocol windowed this way
    dataset = datasets.load_family(config.get("family", datasets.GAIT), data or config["data"], config["seed"],
                                   config["input_shape"], options, normalization=config.get("normalization"))
    if list(dataset.input_shape) != list(config["input_shape"]):
        raise InputError(f"--data {data}: windows of shape {dataset.input_shape}, but the run's model takes "
                         f"{tuple(config['input_shape'])}: use data with the same window and channels")
    return dataset


# --- classifiers --------------------------------------------------------------------------------------------------

def _train_classifier(name, settings, data_options, out, force):
    from gaitbnn.training import fit  # lazy: TensorFlow loads only for the commands that train or export

    spec = models.get_spec(name)
    chosen, ingredients = settings.get("recipe"), {}
    if spec.family == datasets.GAIT and chosen:
        recipe_data, ingredients = recipes.split_recipe(recipes.gait_recipe(chosen))
        data_options = {**data_options, **recipe_data}
    elif chosen not in (None, "paper"):  # every other model trains by its paper's ("paper", also in its config)
        raise InputError(f"--recipe: the gait recipes are for the gait models; {name} trains by its paper's")
    dataset = datasets.load_family(spec.family, settings["data"], settings["seed"], spec.input_shape, data_options)
    metrics = fit.train(name, dataset, out, epochs=settings["epochs"], batch_size=settings["batch_size"],
                        seed=settings["seed"], learning_rate=settings["learning_rate"], force=force,
                        distribute=settings["distribute"], recipe=ingredients)
    if metrics.get("chief") is False:
        return metrics, f"{name}: trained as a non-chief worker; the chief wrote the run (this worker wrote nothing)"
    return metrics, (f"{name}: test accuracy {100 * metrics['test_accuracy']:.2f}%, mean F1 {metrics['mean_f1']:.3f}, "
                     f"weighted F1 {metrics['weighted_f1']:.3f} on {dataset.description} ({metrics['params']:,} "
                     f"params, {metrics['memory_bytes'] / 1024:.1f} KiB); run in {out}")


def _evaluate_classifier(run_dir, config, metrics, data):
    from gaitbnn.training import fit, scoring  # lazy: TensorFlow loads only for the commands that train or export

    dataset = run_dataset(config, data)
    if dataset.class_names != config["class_names"]:
        raise InputError(f"--data {data}: its users differ from the {len(config['class_names'])} the run was "
                         "trained on")
    model = fit.load_model(run_dir)
    result = scoring.scores(dataset.y_test, fit.predict_classes(model, dataset, dataset.x_test,
                                                                config.get("head", "softmax")))
    return (f"{config['model']}: test accuracy {100 * result['accuracy']:.2f}%, mean F1 {result['mean_f1']:.3f}, "
            f"weighted F1 {result['weighted_f1']:.3f} on {dataset.description} "
            f"(recorded at training: {100 * metrics['test_accuracy']:.2f}%)")


def _export_flatbuffer(model, name, target, out, x, config=None):
    from gaitbnn import export as exporter  # lazy: TensorFlow loads only for the commands that train or export

    report = exporter.export(model, name, target, out, x, config)
    p = report["parity"]
    return (f"{out}/{name}.tflite: {report['size_bytes'] / 1024:.1f} KiB ({target}; 1-bit limit "
            f"{report['one_bit_limit_bytes'] / 1024:.1f} KiB), binary weight fraction "
            f"{report['binary_weight_fraction']:.4f}, ops {report['ops']}\n"
            f"parity vs Keras: max |diff| {p['max_abs_diff']:.2e}, argmax agreement {p['argmax_agreement']:.3f} "
            f"on {p['inputs_compared']} raw inputs\n{_rewrites_line(report)}{_aarch64_line(report)}"
            f"input: {_input_line(report['input'])}; report {out}/{name}.json")


def _rewrites_line(report):
    """The export's exact rewrites (arm64 target), as one line; nothing when none applies."""
    rewrites = report.get("rewrites") or {}
    applied = ", ".join(f"{r} ({', '.join(layers)})" for r, layers in rewrites.get("applied", {}).items())
    dropped = "; dropped (not within 1e-5): " + ", ".join(rewrites["tried_and_dropped"]) \
        if rewrites.get("tried_and_dropped") else ""
    return f"rewrites (within 1e-5 of Keras): {applied or 'none'}{dropped}\n" if applied or dropped else ""


def _aarch64_line(report):
    """The export's run on LCE's aarch64 kernels, as one line (arm64 target only)."""
    if "aarch64" not in report:
        return ""
    run = report["aarch64"]
    if run["status"] != "ran":
        return f"aarch64: not run ({run['reason']})\n"
    p = run["parity"]
    return (f"aarch64 (LCE's kernels under qemu): max |diff| vs Keras {p['max_abs_diff']:.2e}, argmax agreement "
            f"{p['argmax_agreement']:.3f} on {p['inputs_compared']} inputs; {run['instructions_per_inference']:,} "
            "guest instructions per inference (not time)\n")


def _input_line(contract):
    """The input contract in one line for people (the report's ``input`` object has it all)."""
    rate = f", {contract['sample_rate_hz']:g} Hz" if contract.get("sample_rate_hz") else ""
    labels = contract["labels"]
    count = f"{len(labels)} labels" if isinstance(labels, list) else ", ".join(f"{k} {v}" for k, v in labels.items()
                                                                               if not isinstance(v, (list, str)))
    return f"shape {contract['shape']}{rate}, normalization {contract['normalization'].split(':')[0]}, {count}"


# --- siamese embedding networks -----------------------------------------------------------------------------------

def _train_embedding(name, settings, data_options, out, force):
    from gaitbnn.training import pairs  # lazy: TensorFlow loads only for the commands that train or export

    metrics = pairs.train_run(name, settings["data"], out, settings["epochs"], settings["batch_size"],
                              settings["learning_rate"], settings["seed"], force=force,
                              split=data_options.get("split", "windows"))
    return metrics, (f"{name}: test pair accuracy {100 * metrics['test_accuracy']:.2f}% ({metrics['test_pairs']} "
                     f"pairs, {metrics['params']:,} params); run in {out}")


def _evaluate_embedding(run_dir, config, metrics, data):
    from gaitbnn.training import fit, pairs  # lazy: TensorFlow loads only for the commands that train or export

    dataset = run_dataset(config, data)
    model = pairs.siamese(fit.load_model(run_dir), pairs.CONTRASTIVE)
    accuracy = pairs.test_accuracy(model, pairs.CONTRASTIVE, dataset, config["seed"])
    return (f"{config['model']}: test pair accuracy {100 * accuracy:.2f}% on {dataset.description} "
            f"(recorded at training: {100 * metrics['test_accuracy']:.2f}%)")


def _export_embedding(model, name, target, out, x, config=None):
    if target != "train":
        return _export_flatbuffer(model, name, target, out, x, config)
    from gaitbnn import ondevice  # lazy: TensorFlow loads only for the commands that train or export

    result = ondevice.export(model, name, out, x[:64], config=config)
    losses = ", ".join(f"{v:.4f}" for v in result["train_losses"])
    return (f"{out}/{name}_train.tflite: {result['size_bytes'] / 1024:.1f} KiB, signatures "
            f"{', '.join(result['signatures'])}; infer vs Keras max |diff| {result['infer_max_abs_diff']:.2e}; "
            f"train loss over {len(result['train_losses'])} steps: {losses}; report {out}/{name}_train.json")


# --- gait embeddings for open-set verification ---------------------------------------------------------------------

AUGMENTATION_KEYS = ("rotation", "shift", "scale")


def _train_verifier(name, settings, data_options, out, force):
    from gaitbnn.training import metric  # lazy: TensorFlow loads only for the commands that train or export

    dataset = datasets.load_family(datasets.VERIFY, settings["data"], settings["seed"],
                                   models.get_spec(name).input_shape, data_options)
    result = metric.train(name, dataset, out, settings.get("loss", metric.AM_SOFTMAX), settings["epochs"],
                          settings["batch_size"], settings["learning_rate"], settings["seed"],
                          {k: settings.get(k) for k in AUGMENTATION_KEYS}, force)
    return result, f"{name}: {verification_line(result)} on {dataset.description}; run in {out}"


def verification_line(result: dict) -> str:
    """The protocol's headline figures in one line."""
    return (f"EER {100 * result['eer']:.2f}% per window, {100 * result['eer_walk']:.2f}% per walk; rank-1 "
            f"{100 * result['rank1']:.1f}% / {100 * result['rank1_walk']:.1f}% ({result['people']} unseen people, "
            f"{result['genuine']:,} genuine and {result['impostor']:,} impostor window scores)")


def verification_data(config: dict, data: str | None = None) -> VerificationData:
    """The protocol's windows for a verification run: its own test people, or every person of another source
    (``data``: its people need not be the training people), normalized with the run's statistics."""
    other_people = data and str(data) != config["data"]
    return run_dataset(config, data, {"train_share": 0.0} if other_people else None)  # every one a test person


def evaluate_verification(run_dir: str | Path, config: dict, data: str | None) -> tuple:
    """(figures as a dict, the dataset) of ``gaitbnn evaluate RUN --protocol verification``."""
    from gaitbnn.training import fit, metric  # lazy: TensorFlow loads only for the commands that train or export

    if config.get("family") != datasets.VERIFY:
        raise InputError(f"{run_dir}: a {config.get('family', 'gait')} run of {config['model']} (a classifier of its "
                         "training people); the verification protocol needs an embedding run: train "
                         "bipedalnet-embedding or idnet-embedding (gaitbnn train NAME) or reproduce verification")
    dataset = verification_data(config, data)
    return metric.public(metric.score_run(fit.load_model(run_dir), dataset, config["loss"])), dataset


def _evaluate_verifier(run_dir, config, metrics, data):
    result, dataset = evaluate_verification(run_dir, config, data)
    return f"{config['model']}: {verification_line(result)} on {dataset.description}"


@dataclass(frozen=True)
class Family:
    name: str
    train: Callable  # (name, settings, data_options, out, force) -> (metrics, one line for people)
    evaluate: Callable  # (run_dir, config, metrics, data) -> one line
    export: Callable  # (model, name, target, out, x, config) -> lines for people
    sample_inputs: Callable = normal_grid  # (shape, count, seed) -> inputs for fresh-weight parity
    targets: tuple[str, ...] = ("arm64", "float")


REGISTRY = {f.name: f for f in [
    Family(datasets.GAIT, _train_classifier, _evaluate_classifier, _export_flatbuffer),
    Family(datasets.ACTIVITY, _train_classifier, _evaluate_classifier, _export_flatbuffer, unit_grid),
    Family(datasets.GEI, _train_classifier, _evaluate_classifier, _export_flatbuffer),
    Family(datasets.AUTH, _train_embedding, _evaluate_embedding, _export_embedding,
           targets=("arm64", "float", "train")),
    Family(datasets.VERIFY, _train_verifier, _evaluate_verifier, _export_flatbuffer),
]}
TARGETS = tuple(dict.fromkeys(t for f in REGISTRY.values() for t in f.targets))


def of(name: str) -> Family:
    """The family of registered model ``name``."""
    return REGISTRY[models.get_spec(name).family]


def fresh_model(name: str, seed: int = 0, count: int = 64, input_shape: tuple | None = None) -> tuple:
    """A registered model with seeded fresh weights, and seeded inputs to check it on.

    Two things keep a parity check on untrained weights meaningful:
    - BatchNorm statistics are estimated on the inputs (training-mode passes). With
      the initial ones (mean 0, variance 1) the integer outputs of a binary
      convolution stay integers, exact zeros reach the next sign, and a float
      flatbuffer, which folds BatchNorm into the convolution, rounds them to tiny
      values of either sign.
    - Inputs are multiples of 1/8, so the first convolution (binary weights on a
      real input) sums exactly in any order: Keras and the interpreter then see
      the same signs. Random real inputs hit sign ties within rounding error now
      and then, and one flipped sign moves an untrained network's peaked softmax.
    """
    import tensorflow as tf

    tf.keras.utils.set_random_seed(seed)
    model = models.build(name, input_shape)
    x = of(name).sample_inputs(model.input_shape[1:], count, seed)  # e.g. [0, 1] for activity windows
    for _ in range(20):
        model(x, training=True)
    return model, x


def model_and_inputs(source: str, seed: int = 0) -> tuple:
    """(name, model, inputs, config) of SOURCE: a run directory (its trained model, the first 500 windows of its
    test split, its config) or a registered model name (fresh weights, ``fresh_model``'s inputs, no config)."""
    from gaitbnn.training import fit  # lazy: TensorFlow loads only for the commands that train or export

    if Path(source).exists():
        config, _ = runs.open_run(source)
        return config["model"], fit.load_model(source), run_dataset(config).x_test[:500], config
    models.get_spec(source)  # a clear error for an unknown name
    model, x = fresh_model(source, seed)
    return source, model, x, None
