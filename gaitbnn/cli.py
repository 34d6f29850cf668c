"""The ``gaitbnn`` command: a thin click layer over experiments, training and export.

Bad input ends in one line on stderr and a non-zero exit (click's usage errors
exit 2, input errors exit 1), never in a traceback.
"""
import functools
import json
import sys
from pathlib import Path

import click

from gaitbnn.errors import InputError


def _user_errors(command):
    """Turn ``InputError`` into click's one-line error."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except InputError as err:
            raise click.ClickException(str(err)) from None

    return wrapper


DATA_HELP = "'synthetic' (default; options as synthetic:users=8,seconds=40) or the Padova dataset root folder."


@click.group()
@click.version_option(package_name="gaitbnn")
def main():
    """Binarized neural networks for on-device gait recognition (Keras + Larq, LCE export)."""


@main.command("models")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list instead of a table.")
@_user_errors
def models_command(as_json):
    """List the registered models with their parameter counts and memory."""
    from gaitbnn import models

    rows = []
    for name in models.names():
        spec = models.get_spec(name)
        counts = models.count_params(models.build(name))
        rows.append({"name": name, **counts, "input_shape": list(spec.input_shape), "classes": spec.classes,
                     "paper": spec.paper})
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    click.echo(f"{'name':<14}{'params':>10}{'binary':>10}{'float':>10}{'memory KiB':>12}  input shape   paper")
    for r in rows:
        click.echo(f"{r['name']:<14}{r['params']:>10,}{r['binary_params']:>10,}{r['float_params']:>10,}"
                   f"{r['memory_bytes'] / 1024:>12.1f}  {str(tuple(r['input_shape'])):<13} {r['paper']}")


@main.command()
@click.argument("name")
@_user_errors
def summary(name):
    """Print the Larq summary (layers, bits, memory) of model NAME."""
    import larq

    from gaitbnn import models

    larq.models.summary(models.build(name), print_fn=click.echo)


@main.command()
@click.argument("name")
@click.option("--data", default="synthetic", show_default=True, help=DATA_HELP)
@click.option("--epochs", type=click.IntRange(min=1), default=30, show_default=True)
@click.option("--batch-size", type=click.IntRange(min=1), default=64, show_default=True)
@click.option("--learning-rate", type=click.FloatRange(min=0, min_open=True), default=1e-3, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Run directory to write.")
@click.option("--force", is_flag=True, help="Replace a complete run in --out.")
@_user_errors
def train(name, data, epochs, batch_size, learning_rate, seed, out, force):
    """Train model NAME; the run directory gets the model, config, history, curves and metrics.json."""
    from gaitbnn import data as datasets
    from gaitbnn import models
    from gaitbnn.training import fit

    spec = models.get_spec(name)
    if (Path(out) / "metrics.json").exists() and not force:
        raise InputError(f"{out}: holds a complete run already: choose another --out, or pass --force to replace it")
    dataset = datasets.load(data, spec.input_shape, seed=seed)
    metrics = fit.train(name, dataset, out, epochs=epochs, batch_size=batch_size, seed=seed,
                        learning_rate=learning_rate, force=force)
    click.echo(f"{name}: test accuracy {100 * metrics['test_accuracy']:.2f}% on {dataset.description} "
               f"({metrics['params']:,} params, {metrics['memory_bytes'] / 1024:.1f} KiB); run in {out}")


@main.command()
@click.argument("run_dir", type=click.Path())
@click.option("--data", default=None, help="Evaluate on this data instead of the run's own. " + DATA_HELP)
@_user_errors
def evaluate(run_dir, data):
    """Reload RUN_DIR's model and measure its test accuracy again."""
    from gaitbnn import data as datasets
    from gaitbnn import runs
    from gaitbnn.training import fit

    config, metrics = runs.open_run(run_dir)
    dataset = datasets.load(data or config["data"], config["input_shape"], seed=config["seed"],
                            window_seconds=config["normalization"]["window_seconds"])
    if dataset.class_names != config["class_names"]:
        raise InputError(f"--data {data}: its users differ from the {len(config['class_names'])} the run was trained on")
    model = fit.load_model(run_dir)
    acc = fit.accuracy(model, dataset.x_test, dataset.y_test)
    click.echo(f"{config['model']}: test accuracy {100 * acc:.2f}% on {dataset.description} "
               f"(recorded at training: {100 * metrics['test_accuracy']:.2f}%)")


@main.command()
@click.argument("paper", type=click.Choice(["bipedalnet"]))
@click.option("--data", default="synthetic", show_default=True, help=DATA_HELP)
@click.option("--epochs", type=click.IntRange(min=1), default=None, help="Default: the experiment config's.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--out", default=None, type=click.Path(file_okay=False), help="Default: runs/reproduce-PAPER.")
@click.option("--force", is_flag=True, help="Retrain runs in --out that were made with other settings.")
@_user_errors
def reproduce(paper, data, epochs, seed, out, force):
    """Train a paper's models and print its tables beside the measured ones."""
    from gaitbnn.experiments import bipedalnet

    out = out or f"runs/reproduce-{paper}"
    text, _, _ = bipedalnet.reproduce(data=data, epochs=epochs, seed=seed, out=out, force=force)
    click.echo("\n" + text)
    click.echo(f"written: {out}/table1.csv, table1.md, table2.csv, table2.md, results.json")


@main.command()
@click.argument("source")
@click.option("--target", type=click.Choice(["arm64", "float"]), default="arm64", show_default=True)
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Folder for NAME.tflite and NAME.json.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of random inputs for a fresh model.")
@_user_errors
def export(source, target, out, seed):
    """Write a TFLite flatbuffer of SOURCE (a run directory, or a registered model name with fresh weights)."""
    import numpy as np

    from gaitbnn import data as datasets
    from gaitbnn import export as exporter
    from gaitbnn import models, runs
    from gaitbnn.training import fit

    if Path(source).is_dir():
        config, _ = runs.open_run(source)
        name, model = config["model"], fit.load_model(source)
        dataset = datasets.load(config["data"], config["input_shape"], seed=config["seed"],
                                window_seconds=config["normalization"]["window_seconds"])
        x = dataset.x_test[:200]
    else:
        name, model = source, models.build(source)
        x = np.random.default_rng(seed).normal(size=(64, *model.input_shape[1:])).astype("float32")
    report = exporter.export(model, name, target, out, x)
    p = report["parity"]
    click.echo(f"{out}/{name}.tflite: {report['size_bytes'] / 1024:.1f} KiB ({target}); ops {report['ops']}; "
               f"parity max |diff| {p['max_abs_diff']:.2e}, argmax agreement {p['argmax_agreement']:.3f} "
               f"on {p['inputs_compared']} inputs")


if __name__ == "__main__":
    sys.exit(main())
