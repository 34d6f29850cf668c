"""Paper reproductions: one module per paper, and the registry the CLI and the tests iterate over.

Every experiment module exposes ``reproduce(settings: dict) -> Report``: the settings
(one ``merge_settings`` of the paper's table config, the synthetic reduced setting and
the user's options) go in; the tables, the files written and the results come out.
``gaitbnn reproduce NAME`` is generated from ``REGISTRY`` (its options from
``Experiment.options``), and ``make reproduce-NAME`` calls it. The papers' own numbers
live as data in the repository's ``experiments/`` folder, one JSON file per table,
each row citing its table and row.

Adding a paper: a module here with ``reproduce``, an ``Experiment`` entry below, its
table config in ``experiments/``, its models in ``models/`` and their ``ModelSpec``s.
"""
from __future__ import annotations

import importlib
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from gaitbnn import runs
from gaitbnn.data.lara import PROTOCOLS as LARA_PROTOCOLS
from gaitbnn.errors import InputError, lookup
from gaitbnn.experiments.options import GAIT, RECIPE, Option, learning_rates, owners, share

_CANDIDATES = (
    Path(__file__).resolve().parents[2] / "experiments",  # a source checkout (pip install -e .)
    Path(sys.prefix) / "share" / "gaitbnn" / "experiments",  # a regular install (setup.cfg data_files)
)


@dataclass(frozen=True)
class Experiment:
    """One paper's reproduction: where its code and paper numbers are, and what the CLI offers for it."""

    name: str  # gaitbnn reproduce NAME, make reproduce-NAME
    paper: str  # what it reproduces, for --help
    module: str  # a module with reproduce(settings) -> Report
    config: str  # experiments/CONFIG.json: the paper's tables and its training setting
    models: tuple[str, ...]  # the registered models it trains (``--models`` picks a subset)
    options: tuple[Option, ...] = ()  # options beyond --data/--epochs/--models/--seed/--out/--force
    many_sources: bool = False  # --data may be given once per source (e.g. one per LARa sensor set)
    tiny: tuple[str, ...] = ()  # CLI arguments of a run small enough for the test suite

    def reproduce(self, settings: dict) -> Report:
        """Run it: ``settings`` holds the options given (None: not given) and ``out``."""
        unknown = [m for m in settings.get("models") or () if m not in self.models]
        if unknown:
            raise InputError(f"--models {','.join(unknown)}: not in '{self.name}'; its models are "
                             f"{', '.join(self.models)}")
        return importlib.import_module(self.module).reproduce(settings)


@dataclass
class Report:
    """What a reproduction printed and wrote."""

    text: str
    files: list[str]
    results: dict = field(default_factory=dict)


REGISTRY: dict[str, Experiment] = {e.name: e for e in [
    Experiment("bipedalnet", "BiPedalNet Tables 1-2: IDNet, binarized IDNet, BiPedalNet on Padova gait",
               "gaitbnn.experiments.bipedalnet", "bipedalnet_table2",
               ("idnet", "idnet-offtheshelf", "idnet-binary", "bipedalnet", "bipedalnet-scaled-logits",
                "bipedalnet-float-ends", "bipedalnet-shortcuts", "bipedalnet-strided"),
               (*GAIT, RECIPE),
               tiny=("--data", "synthetic:users=4,seconds=40", "--epochs", "1")),
    Experiment("bipedalnet-ablation", "BiPedalNet's gap to float IDNet, ingredients added in turn",
               "gaitbnn.experiments.bipedalnet_ablation", "bipedalnet_table2",
               ("idnet", "bipedalnet", "bipedalnet-scaled-logits", "bipedalnet-float-ends", "bipedalnet-shortcuts"),
               GAIT,
               tiny=("--data", "synthetic:users=3,seconds=20", "--epochs", "1")),
    Experiment("btcnn", "BtCNN thesis Tables 5.3.2-5.3.7: tCNN and Conv[1]..Conv[1-4] on LARa",
               "gaitbnn.experiments.btcnn", "btcnn_tables",
               tuple(f"{m}{h}" for h in ("", "-attr") for m in ("tcnn", "btcnn-conv1", "btcnn-conv1-2", "btcnn-conv1-3",
                                                                "btcnn-conv1-4", "btcnn-binary")),
               (Option("batch_size", "Default: the experiment config's.", minimum=1),
                Option("learning_rates", "Comma-separated, e.g. 1e-4,1e-5,1e-6 (the thesis'; default on real data).",
                       parse=learning_rates),
                Option("window", "Window length T in time steps (default: the sensor set's).", minimum=5),
                Option("lara_protocol", "How LARa windows are labelled (see 'train --help').", choices=LARA_PROTOCOLS,
                       default="authors"),
                Option("init", "'tcnn': each BtCNN starts from the trained float tCNN of its head and learning rate "
                       "(the thesis' reading); 'scratch': from random weights.", choices=("scratch", "tcnn"),
                       default="scratch")),
               many_sources=True,
               tiny=("--data", "synthetic:seconds=3", "--epochs", "1", "--batch-size", "32",
                     "--window", "24", "--learning-rates", "1e-4", "--models", "tcnn,btcnn-conv1-4")),
    Experiment("lresnet", "L-ResNet-50 Tables 1-4: ResNet-50 vs Ghost-module L-ResNet-50 on CASIA-B GEIs",
               "gaitbnn.experiments.lresnet", "lresnet_tables",
               ("resnet50", "resnet50-zero-gamma", "lresnet50", "lresnet50-binary"),
               tiny=("--data", "synthetic:subjects=2", "--epochs", "1", "--models", "lresnet50")),
    Experiment("siamese", "On-device siamese authentication (MM'19) Tables 1-3, SPRT, continuous update",
               "gaitbnn.experiments.siamese", "siamese_tables", ("lenet4", "vgg8", "mobilenetv2"),
               (Option("owners", "'all' (the paper: a model per person) or how many people, sampled with the seed, "
                       "are trained as owners and averaged over.  Default: the experiment config's ('all' on real "
                       "data).", parse=owners),
                Option("pairs", "Training pairs per class of pair in the multi-class setting.  Default: the "
                       "experiment config's.", minimum=2),
                Option("attackers", "The attackers' database (ouisir:PATH). Default: a synthetic population."),
                Option("transfer_from", "Another dataset to transfer features from (Table 2). Default: a synthetic "
                       "one.")),
               tiny=("--data", "synthetic:users=5,seconds=30", "--epochs", "1", "--models", "lenet4", "--owners", "1",
                     "--pairs", "100",
                     "--attackers", "synthetic:users=3,sessions=1,seconds=11", "--transfer-from",
                     "synthetic:users=3,seconds=30")),
    Experiment("verification", "Open-set verification of unseen people (OU-ISIR): binary and float gait embeddings",
               "gaitbnn.experiments.verification", "verification_tables",
               ("bipedalnet-embedding", "bipedalnet-float-ends-embedding", "idnet-embedding", "lenet4"),
               (Option("train_share", "Share of the people trained on (subject-disjoint, seeded); the rest are "
                       "verified.  Default: both 0.7 and 0.2 (the published settings).", parse=share),),
               tiny=("--data", "synthetic:users=10,seconds=8", "--epochs", "1", "--train-share", "0.6",
                     "--models", "bipedalnet-embedding")),
]}


def names() -> list[str]:
    return list(REGISTRY)


def get(name: str) -> Experiment:
    return lookup(REGISTRY, name, "experiment")


def load_config(name: str) -> dict:
    """The paper table ``experiments/NAME.json``."""
    for folder in _CANDIDATES:
        path = folder / f"{name}.json"
        if path.is_file():
            return json.loads(path.read_text())
    raise InputError(f"experiment config {name}.json not found in {', '.join(map(str, _CANDIDATES))}: "
                     "reinstall gaitbnn")


def merge_settings(config: dict, data: str, given: dict | None, recipe: dict) -> dict:
    """The one settings merge: the paper's training ``recipe`` (``models.recipes``) and the config's protocol
    ``setting``, then, for the plain synthetic default, its reduced ``synthetic_setting``, then every option
    the user gave (None means not given)."""
    setting = dict(recipe, **config.get("setting", {}), data=str(data))
    reduced = str(data) == "synthetic" and "synthetic_setting" in config
    if reduced:
        setting.update(config["synthetic_setting"])
    setting.update({k: v for k, v in (given or {}).items() if v is not None and k != "data"})
    setting["reduced"] = reduced
    return setting


def reusable_run(run_dir: str | Path, **expected) -> dict | None:
    """The metrics of the complete run in ``run_dir`` if its config matches ``expected``, else None."""
    if not (Path(run_dir) / runs.METRICS_FILE).exists():
        return None
    config, metrics = runs.open_run(run_dir)
    options = config.get("data_options") or {}
    return metrics if all(config.get(k, options.get(k)) == v for k, v in expected.items()) else None


def train_or_reuse(run_dir: str | Path, expected: dict, train: Callable[[], dict], force: bool = False,
                   label: str = "") -> dict:
    """The one "train or reuse" of every reproduction, with one meaning of ``--force``.

    A complete run in ``run_dir`` made with the ``expected`` settings is reused; one made with other settings
    is refused unless ``force``; with ``force``, or when there is none, ``train()`` makes it.
    """
    label = label or Path(run_dir).name
    if not force:
        metrics = reusable_run(run_dir, **expected)
        if metrics:
            print(f"[{label}] reusing the complete run in {run_dir}", flush=True)
            return metrics
        if (Path(run_dir) / runs.METRICS_FILE).exists():
            raise InputError(f"{run_dir}: holds a run with other settings: pass --force to retrain, or another --out")
    return train()
