"""The options a reproduction takes beyond the common ones, declared as data by each experiment.

``Experiment.options`` (``experiments.REGISTRY``) holds ``Option`` values; the CLI turns each into a click
option of ``gaitbnn reproduce NAME``, so a paper with an option of its own changes no CLI code. The gait
options below are shared by the BiPedalNet reproduction and its ablation.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from gaitbnn.data.dataset import SPLITS
from gaitbnn.models.recipes import GAIT_RECIPES, RECIPE_HELP


@dataclass(frozen=True)
class Option:
    """One option: ``--NAME`` (underscores as dashes) sets ``settings[name]``; None means not given."""

    name: str
    help: str
    choices: tuple[str, ...] = ()  # the value is one of these
    minimum: int | None = None  # the value is an integer at least this
    flag: bool = False  # given or not
    parse: Callable[[str], object] | None = None  # text -> value; a ValueError's text is the user's error
    default: object = None  # shown in --help when not None

    @property
    def flag_name(self) -> str:
        return "--" + self.name.replace("_", "-")


def learning_rates(text: str) -> list[float]:
    """'1e-4,1e-5' -> [1e-4, 1e-5]: one or more positive numbers."""
    try:
        rates = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise ValueError(f"'{text}' is not a comma-separated list of numbers (e.g. 1e-4,1e-5,1e-6)") from None
    if not rates or any(r <= 0 for r in rates):
        raise ValueError(f"'{text}': give one or more positive learning rates (e.g. 1e-4,1e-5,1e-6)")
    return rates


def owners(text: str) -> str | int:
    """'all' or a number of people (1 or more)."""
    if text == "all":
        return text
    if not text.isdigit() or int(text) < 1:
        raise ValueError(f"'{text}': give 'all' or a number of people (1 or more)")
    return int(text)


def share(text: str) -> float:
    """'0.7' -> 0.7: a share of the people strictly between 0 and 1."""
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"'{text}' is not a number: give a share of the people such as 0.7") from None
    if not 0 < value < 1:
        raise ValueError(f"'{text}': give a share of the people between 0 and 1, such as 0.7")
    return value


SPLIT = Option("split", "'windows' (the paper's 80/20 of windows) or 'walks' (whole walks held out per person).",
               choices=SPLITS, default="windows")
KEEP_DUPLICATES = Option("keep_duplicates", "Keep recordings the dataset files under two users.", flag=True)
RECIPE = Option("recipe", RECIPE_HELP, choices=tuple(GAIT_RECIPES), default="paper")
GAIT = (SPLIT, KEEP_DUPLICATES)
