"""The ``gaitbnn`` command: a thin click layer over experiments, training and export.

Bad input ends in one line on stderr and a non-zero exit (click's usage errors
exit 2, input errors exit 1), never in a traceback.
"""
from __future__ import annotations

import functools
import json
import sys
from pathlib import Path

import click

from gaitbnn import data as datasets
from gaitbnn import experiments, families, inspection, models, runs
from gaitbnn import flatbuffer as tflite_file
from gaitbnn.data import dataset, lara
from gaitbnn.errors import InputError
from gaitbnn.models import recipes
from gaitbnn.training import settings as train_settings


def _user_errors(command):
    """Turn ``InputError`` into click's one-line error."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except InputError as err:
            raise click.ClickException(str(err)) from None

    return wrapper


SPLITS = dataset.SPLITS
LARA_PROTOCOLS = lara.PROTOCOLS
GAIT_RECIPES = recipes.GAIT_RECIPES
TARGETS = families.TARGETS
PROTOCOLS = ("test", "verification")

DATA_HELP = ("'synthetic' (default; options as synthetic:users=8,seconds=40), the Padova dataset root (gait models), "
             "a LARa folder or a .npz file of windows (tcnn / btcnn models), a CASIA-B folder (resnet50 / lresnet50).")


@click.group()
@click.version_option(package_name="gaitbnn")
def main() -> None:
    """Binarized neural networks for on-device gait recognition (Keras + Larq, LCE export)."""


@main.command("models")
@click.argument("names", nargs=-1)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list instead of a table.")
@_user_errors
def models_command(names: tuple, as_json: bool) -> None:
    """List the registered models (or NAMES) with their parameter counts, memory and multiply-accumulates."""
    rows = [models.describe(name) for name in names or models.names()]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    click.echo(f"{'name':<20}{'params':>12}{'binary':>12}{'float':>12}{'memory KiB':>12}  input shape   paper")
    for r in rows:
        click.echo(f"{r['name']:<20}{r['params']:>12,}{r['binary_params']:>12,}{r['float_params']:>12,}"
                   f"{r['memory_bytes'] / 1024:>12.1f}  {str(tuple(r['input_shape'])):<13} {r['paper']}")


@main.command("data")
@click.argument("source")
@click.option("--family", type=click.Choice(datasets.FAMILY_NAMES), default=None,
              help="Which models' data to read it as (default: from the source's form or folder layout; "
                   "'synthetic' is gait).")
@click.option("--split", type=click.Choice(SPLITS), default=None, help="Gait data: count windows for this split.")
@click.option("--keep-duplicates", is_flag=True, default=None, help="Gait data: keep recordings under two users.")
@click.option("--lara-protocol", type=click.Choice(LARA_PROTOCOLS), default=None, help="LARa: labelling protocol.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of a summary.")
@_user_errors
def data_command(source: str, family: str | None, split: str | None, keep_duplicates: bool | None,
                 lara_protocol: str | None, seed: int, as_json: bool) -> None:
    """Read SOURCE with the loader a training would use and report what it found, before any training.

    SOURCE: 'synthetic[...]', a Padova/IDNet folder, a LARa folder, a .npz file, a CASIA-B folder, or
    mcgill:/idnet:/zju:/ouisir:PATH. Reports subjects, recordings, seconds, sample rates, windows per split
    and every quirk the loader handled. Writes nothing.
    """
    options = {k: v for k, v in dict(split=split, keep_duplicates=keep_duplicates, protocol=lara_protocol).items()
               if v is not None}
    report = inspection.inspect(source, family, seed, options)
    click.echo(json.dumps(report, indent=2) if as_json else inspection.text(report))


@main.command()
@click.argument("name")
@_user_errors
def summary(name: str) -> None:
    """Print the Larq summary (layers, bits, memory) of model NAME."""
    import larq  # lazy: TensorFlow loads only for the commands that build a model

    larq.models.summary(models.build(name), print_fn=click.echo)


@main.command()
@click.argument("name", required=False)
@click.option("--data", default=None, help=DATA_HELP + "  [default: synthetic]")
@click.option("--epochs", type=click.IntRange(min=1), default=None, help="[default: 30; tcnn/btcnn: 10]")
@click.option("--batch-size", type=click.IntRange(min=1), default=None,
              help="Global batch, split across replicas under --distribute.  [default: 64; tcnn/btcnn: 400]")
@click.option("--learning-rate", type=click.FloatRange(min=0, min_open=True), default=None,
              help="[default: 1e-3 (Adam); tcnn/btcnn: 1e-4 (RMSProp)]")
@click.option("--window", type=click.IntRange(min=5), default=None,
              help="tcnn/btcnn: window length T in time steps.  [default: 100 mbientlab, 200 MoCap]")
@click.option("--stride", type=click.IntRange(min=1), default=None, help="tcnn/btcnn: window stride.  [default: 25]")
@click.option("--split", type=click.Choice(SPLITS), default=None,
              help="Gait and siamese models: 'windows' splits windows (segments) 80/20 at random (the papers'); "
                   "'walks' holds out whole walks per person.  [default: windows]")
@click.option("--keep-duplicates", is_flag=True, default=None,
              help="Gait models: keep a recording that the dataset files under two users (left out by default).")
@click.option("--lara-protocol", type=click.Choice(LARA_PROTOCOLS), default=None,
              help="tcnn/btcnn on LARa: 'authors' deletes class 'none' rows and ORs a window's attributes; "
                   "'majority' keeps every row.  [default: authors]")
@click.option("--recipe", type=click.Choice(list(GAIT_RECIPES)), default=None,
              help=recipes.RECIPE_HELP + "  [default: paper]")
@click.option("--seed", type=int, default=None, help="[default: 0]")
@click.option("--distribute", type=click.Choice(["none", "mirrored", "multiworker"]), default=None,
              help="none: one device; mirrored: all local GPUs; multiworker: machines set up by TF_CONFIG.")
@click.option("--config", "config_file", type=click.Path(dir_okay=False), default=None,
              help="Rerun with the settings of a run's config.json; options given here override them.")
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Run directory to write.")
@click.option("--force", is_flag=True, help="Replace a complete run in --out, or restart an interrupted one.")
@_user_errors
def train(name: str | None, data: str | tuple | None, epochs: int | None, batch_size: int | None,
          learning_rate: float | None, window: int | None, stride: int | None, split: str | None,
          keep_duplicates: bool | None, lara_protocol: str | None, recipe: str | None, seed: int | None,
          distribute: str | None,
          config_file: str | None, out: str, force: bool) -> dict:
    """Train model NAME; the run directory gets the model, config, history, curves and metrics.json.

    Started again with the same command after an interruption (Ctrl-C, kill -9), it resumes from the last
    completed epoch.
    """
    chosen = train_settings.resolve(
        name, dict(data=data, epochs=epochs, batch_size=batch_size, learning_rate=learning_rate, seed=seed,
                   distribute=distribute, recipe=recipe),
        dict(window=window, stride=stride, protocol=lara_protocol, split=split, keep_duplicates=keep_duplicates),
        config_file)
    runs.refuse_complete_run(out, force)
    _, line = families.of(chosen.name).train(chosen.name, chosen.settings, chosen.data_options, out, force)
    click.echo(line)


@main.command()
@click.argument("run_dir", type=click.Path())
@click.option("--data", default=None, help="Evaluate on this data instead of the run's own (normalized with the "
                                           "run's stored statistics). " + DATA_HELP)
@click.option("--protocol", type=click.Choice(PROTOCOLS), default=None,
              help="'verification': enrol each person of --data on one recording, probe with the others, report EER "
                   "and rank-1 (embedding runs; people need not be the training people; the default for them). "
                   "'test': the run's own test measure (accuracy, pair accuracy).")
@click.option("--json", "as_json", is_flag=True, help="With --protocol verification: print one JSON object.")
@_user_errors
def evaluate(run_dir: str, data: str | None, protocol: str | None, as_json: bool) -> None:
    """Reload RUN_DIR's model and measure its test accuracy again, or verify people with it."""
    config, metrics = runs.open_run(run_dir)
    family = config.get("family", "gait")
    protocol = protocol or ("verification" if family == datasets.VERIFY else "test")
    if protocol == "verification":
        result, dataset = families.evaluate_verification(run_dir, config, data)
        if as_json:
            click.echo(json.dumps({"run": str(run_dir), "model": config["model"], "data": dataset.source,
                                   "synthetic": dataset.synthetic, "description": dataset.description, **result},
                                  indent=2))
        else:
            click.echo(f"{config['model']}: {families.verification_line(result)} on {dataset.description}")
        return
    if as_json:
        raise InputError("--json: evaluate prints JSON with --protocol verification only")
    if family == datasets.VERIFY:
        raise InputError(f"{run_dir}: an embedding run for verification; use --protocol verification")
    click.echo(families.REGISTRY[family].evaluate(run_dir, config, metrics, data))


def _names(ctx, param, value):
    return [v.strip() for v in value.split(",") if v.strip()] if value else None


def _parsed(parse):
    """A click callback from an option's ``parse`` (text -> value, ValueError on bad text)."""

    def callback(ctx, param, value):
        if value is None:
            return None
        try:
            return parse(value)
        except ValueError as err:
            raise click.BadParameter(str(err)) from None

    return callback


def _click_option(option) -> click.Option:
    """The click option of an experiment's ``experiments.options.Option``."""
    settings = dict(help=option.help, default=option.default, show_default=option.default is not None)
    if option.flag:
        settings.update(is_flag=True, default=None, show_default=False)
    elif option.choices:
        settings["type"] = click.Choice(list(option.choices))
    elif option.minimum is not None:
        settings["type"] = click.IntRange(min=option.minimum)
    if option.parse:
        settings["callback"] = _parsed(option.parse)
    return click.Option([option.flag_name], **settings)


def _reproduce_command(experiment):
    """``gaitbnn reproduce NAME``, generated from an ``experiments.Experiment``."""
    data_option = click.Option(["--data"], multiple=experiment.many_sources,
                               default=("synthetic",) if experiment.many_sources else "synthetic", show_default=True,
                               help=DATA_HELP + (" Give --data once per source." if experiment.many_sources else ""))
    params = [
        data_option,
        click.Option(["--epochs"], type=click.IntRange(min=1), default=None, help="Default: the experiment config's."),
        click.Option(["--models"], callback=_names, default=None,
                     help="Comma-separated subset of the experiment's models (default: all)."),
        *(_click_option(option) for option in experiment.options),
        click.Option(["--seed"], type=int, default=0, show_default=True),
        click.Option(["--out"], type=click.Path(file_okay=False), default=f"runs/reproduce-{experiment.name}",
                     show_default=True),
        click.Option(["--force"], is_flag=True,
                     help="Retrain what --out holds; without it, runs with the same settings are reused and runs "
                          "with other settings refused."),
    ]

    @_user_errors
    def run(**given):
        report = experiment.reproduce(given)
        click.echo("\n" + report.text)
        click.echo(f"written in {given['out']}: {', '.join(report.files)}")

    return click.Command(experiment.name, callback=run, params=params, help=f"Reproduce {experiment.paper}.",
                         short_help=experiment.paper)


@main.group()
def reproduce() -> None:
    """Train a paper's models and print its tables beside the measured ones (one command per paper)."""


for _experiment in experiments.REGISTRY.values():
    reproduce.add_command(_reproduce_command(_experiment))


@main.command()
@click.argument("source")
@click.option("--target", type=click.Choice(TARGETS), default="arm64", show_default=True,
              help="arm64: LCE-optimized flatbuffer for ARM64 Android; float: plain float32 TFLite baseline; "
                   "train: an embedding network (lenet4, vgg8, mobilenetv2) with train / infer / save / "
                   "restore signatures for on-device training.")
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Folder for NAME.tflite and NAME.json.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of random inputs for a fresh model.")
@_user_errors
def export(source: str, target: str, out: str, seed: int) -> None:
    """Write a TFLite flatbuffer of SOURCE (a run directory, or a registered model name with fresh weights).

    The report NAME.json gives the size, the 1-bit limit, the ops, the share of weights in binary ops and the
    Keras-vs-flatbuffer parity; the export fails, writing nothing, if parity is off.
    """
    name, model, x, config = families.model_and_inputs(source, seed)
    family = families.of(name)
    if target not in family.targets:
        raise InputError(f"--target {target} is not for {name}: its targets are {', '.join(family.targets)}")
    click.echo(family.export(model, name, target, Path(out), x, config))


@main.command()
@click.argument("model_path", metavar="MODEL")
@click.option("--data", required=True, help="The recordings to predict: " + DATA_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of lines.")
@_user_errors
def predict(model_path: str, data: str, as_json: bool) -> None:
    """Predict every window of --data with MODEL: a run directory, or an exported NAME.tflite (its NAME.json
    beside it) run in LCE's interpreter as on the phone. Per recording: the class most windows voted for, their
    share and, where --data has labels, the truth; then window and recording accuracy."""
    from gaitbnn import predict as predicting  # lazy: TensorFlow and LCE load only for the commands that run a model

    result = predicting.predict(model_path, data)
    if as_json:
        click.echo(json.dumps(result, indent=1))
        return
    for r in result["recordings"]:
        truth = "" if r["true"] is None else f", true {r['true']}" + (" (ok)" if r["true"] == r["predicted"] else "")
        click.echo(f"{r['path']}: {r['predicted']} ({100 * r['share']:.0f}% of {r['windows']} windows){truth}")

    def percent(value):
        return "- (no labels)" if value is None else f"{100 * value:.2f}%"

    click.echo(f"{result['model']} via {result['ran']} on {result['data_description']}: {result['windows']} windows, "
               f"window accuracy {percent(result['window_accuracy'])}, recording accuracy "
               f"{percent(result['recording_accuracy'])} ({len(result['recordings'])} recordings)")


def _timing_options(command):
    """--threads and --runs, for every command that times flatbuffers."""
    command = click.option("--runs", "runs_count", type=click.IntRange(min=1), default=200, show_default=True)(command)
    return click.option("--threads", type=click.IntRange(min=1), default=1, show_default=True)(command)


@main.command()
@click.argument("flatbuffer", required=False, type=click.Path())
@click.option("--compare", "compare_source", default=None,
              help="Export this model name or run directory for arm64 and float, and time both in the same run.")
@click.option("--aarch64", "on_aarch64", is_flag=True,
              help="Run FLATBUFFER (any LCE flatbuffer) on LCE's aarch64 kernels under qemu ('make aarch64'): "
                   "instructions per inference, total and per op type, and lce_benchmark_model's op profile.")
@click.option("--json", "as_json", is_flag=True, help="With --aarch64: print one JSON object.")
@_timing_options
@_user_errors
def benchmark(flatbuffer: str | None, compare_source: str | None, on_aarch64: bool, as_json: bool, threads: int,
              runs_count: int) -> None:
    """Time FLATBUFFER (.tflite) in the interpreter on this machine: median and p90 latency per inference, or, for
    a trainable NAME_train.tflite, seconds per epoch of its train signature (400 pairs at batch 20, MM'19).
    With --aarch64: its cost on LCE's aarch64 kernels (the kernels a phone runs) instead."""
    from gaitbnn import benchmark as bench_module  # lazy: TensorFlow and LCE load only for the commands that time

    if bool(flatbuffer) == bool(compare_source):
        raise InputError("give either FLATBUFFER.tflite or --compare NAME (not both, not neither)")
    if on_aarch64:
        if not flatbuffer:
            raise InputError("--aarch64 takes a FLATBUFFER.tflite; for every model: 'gaitbnn bench --aarch64'")
        click.echo(_aarch64_file_lines(flatbuffer, threads, runs_count, as_json))
        return
    if flatbuffer:
        data = tflite_file.read(flatbuffer)
        if "train" in tflite_file.signature_names(data):  # on-device training (MM'19): seconds per epoch
            t = bench_module.time_training_epochs(data)
            click.echo(f"{flatbuffer}: train signature, {t['seconds_per_epoch']:.2f} s per epoch of {t['pairs']} "
                       f"pairs at batch {t['batch_size']} (median of {t['epochs_timed']} epochs) on {t['machine']}; "
                       "MM'19 reports under 5 s per epoch for LeNet4 on a Pixel 2")
            return
        timing = bench_module.time_flatbuffers({"model": data}, threads, runs_count)
        t = timing["model"]
        click.echo(f"{flatbuffer}: median {t['median_us']:.1f} us, p90 {t['p90_us']:.1f} us per inference "
                   f"({runs_count} runs, {threads} thread(s), {bench_module.machine()}; x86 figures say nothing "
                   "about a phone: add --aarch64 for its ARM64 cost)")
        return
    name, model, x, _ = families.model_and_inputs(compare_source, 0)
    row = bench_module.compare(model, name, x[:64], threads=threads, runs_count=runs_count)
    for target in ("arm64", "float"):
        t = row[target]["latency"]
        click.echo(f"{name} {target:>5}: {row[target]['size_bytes'] / 1024:8.1f} KiB, median {t['median_us']:8.1f} us, "
                   f"p90 {t['p90_us']:8.1f} us")
    ratio = row["arm64"]["latency"]["median_us"] / row["float"]["latency"]["median_us"]
    click.echo(f"latency ratio arm64 / float: {ratio:.2f} on {bench_module.machine()} "
               "(LCE's binary kernels are optimized for ARM64: 'gaitbnn bench --aarch64' gives their ARM64 cost)")


def _aarch64_file_lines(flatbuffer: str, threads: int, runs_count: int, as_json: bool) -> str:
    from gaitbnn import aarch64_bench  # lazy: TensorFlow and LCE load only for the commands that run a model

    result = aarch64_bench.describe_file(flatbuffer, threads=threads, runs_count=min(runs_count, 20))
    if as_json:
        return json.dumps(result, indent=1)
    total = result["instructions_per_inference"]
    lines = [f"{flatbuffer}: {total:,} {result['cost_figure']}, {threads} thread(s)",
             "instructions per inference by op type:"]
    lines += [f"  {op:<16}{count:>14,}  {100 * count / total:5.1f}%"
              for op, count in result["instructions_by_op_type"].items()]
    lines += ["lce_benchmark_model under qemu (emulated time: not a speed figure): average "
              f"{result['lce_benchmark_model_average_us']} us; its op profile:",
              result["lce_benchmark_model_op_profile"],
              f"qemu wall time of the counted run: {result['qemu_seconds']} s (not a speed figure)"]
    return "\n".join(lines)


@main.command()
@click.option("--out", default="runs/bench", show_default=True, type=click.Path(file_okay=False))
@click.option("--models", "names", default=None,
              help="Comma-separated model names (default: every registered model, the 20M-parameter tCNNs too).")
@click.option("--aarch64", "on_aarch64", is_flag=True,
              help="On LCE's aarch64 kernels under qemu ('make aarch64'): instructions per inference of both targets, "
                   "aarch64 parity; writes bench_aarch64.{json,csv,md,png}.")
@_timing_options
@_user_errors
def bench(out: str, names: str | None, on_aarch64: bool, threads: int, runs_count: int) -> None:
    """Both targets of every registered model, side by side: sizes, latencies (x86) or instructions (--aarch64),
    ratios, parity (CSV + markdown)."""
    chosen = [n.strip() for n in names.split(",") if n.strip()] if names else None
    for name in chosen or []:
        models.get_spec(name)  # a clear error for an unknown name
    if on_aarch64:
        from gaitbnn import aarch64_bench  # lazy: TensorFlow and LCE load only for the commands that run a model

        text, _ = aarch64_bench.bench(out, names=chosen, threads=threads)
        click.echo("\n" + text)
        click.echo(f"written: {out}/bench_aarch64.json, .csv, .md, .png")
        return
    from gaitbnn import benchmark as bench_module  # lazy: TensorFlow and LCE load only for the commands that time

    text, _ = bench_module.bench(out, names=chosen, threads=threads, runs_count=runs_count)
    click.echo("\n" + text)
    click.echo(f"written: {out}/bench.csv, bench.md, bench.json")


if __name__ == "__main__":
    sys.exit(main())
