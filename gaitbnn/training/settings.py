"""The settings of a ``gaitbnn train`` run: what was given, a saved ``config.json``, and the model's recipe.

Precedence, highest first: the options given on the command line, the run config passed as ``--config``
(a rerun), the model's training recipe (``ModelSpec.training``, ``models.recipes``), then ``DEFAULTS``. The
data options a model's family does not take are refused by their flag names.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from gaitbnn import data as datasets
from gaitbnn import models, runs
from gaitbnn.errors import InputError

# The run settings every family takes (None: from the model's recipe).
DEFAULTS = dict(data="synthetic", epochs=None, batch_size=None, learning_rate=None, seed=0, distribute="none",
                recipe=None)
# A data option's command-line flag, where it is not the option's name.
FLAGS = {"protocol": "--lara-protocol"}


@dataclass
class TrainSettings:
    """What ``train`` runs: the model, its run settings and its data loader's options."""

    name: str
    settings: dict = field(default_factory=dict)
    data_options: dict = field(default_factory=dict)


def flag(option: str) -> str:
    """The command-line flag of data option ``option``."""
    return FLAGS.get(option, "--" + option.replace("_", "-"))


def resolve(name: str | None, given: dict, data_options: dict, config_file: str | Path | None = None) -> TrainSettings:
    """The settings of model ``name`` from the ``given`` run settings and ``data_options`` (None: not given)
    and an optional run ``config_file`` to rerun."""
    settings, chosen = dict(DEFAULTS), {}
    if config_file:
        saved = runs.read_json(config_file, "run config")
        missing = [k for k in ("model", *DEFAULTS) if k not in saved and k != "distribute"]
        if missing:
            raise InputError(f"{config_file}: not a gaitbnn run config (no {', '.join(missing)}): pass RUN/config.json")
        settings.update({k: saved[k] for k in DEFAULTS if k in saved})
        chosen = dict(saved.get("data_options") or {})
        name = name or saved["model"]
    unknown = [k for k in given if k not in DEFAULTS]
    if unknown:
        raise ValueError(f"not run settings: {unknown}")  # a programming error, not the user's
    settings.update({k: v for k, v in given.items() if v is not None})
    if not name:
        raise InputError("give a model NAME (see 'gaitbnn models') or --config RUN/config.json")
    spec = models.get_spec(name)
    settings.update({k: v for k, v in spec.training.items() if settings.get(k) is None})
    options = {k: v for k, v in data_options.items() if v is not None}
    accepted = datasets.OPTIONS[spec.family]
    refused = [k for k in options if k not in accepted]
    if refused:
        raise InputError(f"{', '.join(map(flag, refused))}: not an option of the {spec.family} data {name} trains on "
                         f"(its options: {', '.join(accepted) or 'none'})")
    chosen.update(options)
    return TrainSettings(name, settings, chosen)
