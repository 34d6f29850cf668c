"""What a ``--data`` source names: the synthetic generator (with options) or a dataset path."""
from __future__ import annotations

from gaitbnn.data import synthetic
from gaitbnn.errors import InputError


def is_synthetic(source: str) -> bool:
    """True for 'synthetic' and 'synthetic:options' (every family's generator)."""
    return str(source).split(":")[0] == "synthetic"


def gait_defaults() -> dict:
    return synthetic.DEFAULTS


def parse_synthetic(source: str, defaults: dict | None = None, choices: dict | None = None) -> dict:
    """'synthetic' or 'synthetic:users=8,seconds=40' -> generator keyword arguments.

    ``defaults`` (the gait generator's by default) sets the known options and their types;
    ``choices`` maps a text option to its allowed values. Counts must be positive.
    """
    options = dict(gait_defaults() if defaults is None else defaults)
    choices = choices or {}
    _, _, rest = source.partition(":")
    for item in filter(None, rest.split(",")):
        key, _, value = item.partition("=")
        if key not in options or not value:
            raise InputError(
                f"--data {source}: unknown synthetic option '{item}': use synthetic[:{'=..,'.join(options)}=..]"
            )
        if key in choices:
            if value not in choices[key]:
                raise InputError(f"--data {source}: {key} must be one of {', '.join(choices[key])}")
            options[key] = value
            continue
        try:
            options[key] = type(options[key])(value)
        except ValueError:
            raise InputError(f"--data {source}: '{value}' is not a number for {key}") from None
        if options[key] <= 0 and key not in ("noise", "drift", "seed"):
            raise InputError(f"--data {source}: {key} must be positive")
    return options
