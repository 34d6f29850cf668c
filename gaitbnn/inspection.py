"""``gaitbnn data SOURCE``: what the loaders read from a source, before any training.

The source is read by exactly the loader a training run would use (``data.load_family``)
with the input of the family's default model, and the report gives ``subjects``,
``recordings``, total ``seconds``, ``sample_rate_hz`` (min / median / max), the
``windows`` of each split and every quirk handled (``problems``: kind, count, example).
"""
from __future__ import annotations

from gaitbnn import data as datasets
from gaitbnn import models

DEFAULT_MODEL = {datasets.GAIT: "bipedalnet", datasets.ACTIVITY: "tcnn", datasets.GEI: "lresnet50",
                 datasets.AUTH: "lenet4", datasets.VERIFY: "bipedalnet-embedding"}
ATTACKER_SOURCES = ("ouisir",)  # read as the attackers' database (MM'19 Table 3): every sample is a test sample


def inspect(source: str, family: str | None = None, seed: int = 0, options: dict | None = None) -> dict:
    """The report of ``source`` as one JSON-ready dict (see the module docstring)."""
    source = str(source)
    family = datasets.family_of(source, family)
    model = DEFAULT_MODEL[family]
    role = "training"
    if family == datasets.AUTH and source.split(":")[0] in ATTACKER_SOURCES:
        from gaitbnn.data import auth  # lazy: scipy.signal loads only when spectrograms are read

        dataset = auth.load(source, seed=seed, split=False)
        role = "attackers (MM'19 Table 3: every sample is an attack)"
    else:
        dataset = datasets.load_family(family, source, seed, models.get_spec(model).input_shape, options, warn=False)
    if family == datasets.VERIFY:
        windows = {"train": int(len(dataset.y_train)), "enrolment": int(dataset.enrolment.sum()),
                   "probe": int((~dataset.enrolment).sum())}
    elif family == datasets.AUTH:
        windows = {"train": int(len(dataset.train)), "val": 0, "test": int(len(dataset.test))}
    else:
        windows = {part: int(len(getattr(dataset, f"y_{part}"))) for part in ("train", "val", "test")}
    return {
        "source": source,
        "family": family,
        "synthetic": bool(dataset.synthetic),
        "description": dataset.description,
        **dataset.summary,
        "default_model": model,
        "window_shape": list(dataset.input_shape),
        "windows": windows,
        "role": role,
        "options": dict(getattr(dataset, "options", {}) or {}),
        "problems": dataset.problems.as_list(),
    }


def text(report: dict) -> str:
    """The report for people: one fact a line, then the problems."""
    rates = report["sample_rate_hz"]
    rate_text = f"{rates['min']:g} / {rates['median']:g} / {rates['max']:g} Hz" if rates else "n/a"
    lines = [
        f"source:      {report['source']}" + ("  (SYNTHETIC)" if report["synthetic"] else ""),
        f"family:      {report['family']} (windows for {report['default_model']}, shape "
        f"{tuple(report['window_shape'])}; {report['role']})",
        f"read as:     {report['description']}",
        f"subjects:    {_value(report['subjects'])}",
        f"recordings:  {_value(report['recordings'])}",
        f"seconds:     {_value(report['seconds'])}",
        f"sample rate: {rate_text} (min / median / max)",
        "windows:     " + ", ".join(f"{k} {v}" for k, v in report["windows"].items()),
    ]
    if report["problems"]:
        lines.append(f"problems handled ({len(report['problems'])} kinds):")
        for p in report["problems"]:
            lines.append(f"  - {p['message']}: {p['count']}" + (f" (e.g. {p['example']})" if p["example"] else ""))
    else:
        lines.append("problems handled: none")
    return "\n".join(lines)


def _value(value):
    return "n/a" if value is None else f"{value:,}" if isinstance(value, int) else f"{value:,.1f}"
