"""The forms a ``--data`` source takes, and which model family reads each.

A source is ``synthetic[:options]``, a folder in a dataset's published layout, a ``.npz`` file of windows, or
``PREFIX:PATH`` for the siamese models' accelerometer sources. Every family's loader checks the form first, so
a source of another family is refused by saying which family reads it and which forms this family takes,
before any file is opened.
"""
from __future__ import annotations

import re
from pathlib import Path

from gaitbnn.data import lara
from gaitbnn.errors import InputError

GAIT, ACTIVITY, GEI, AUTH, VERIFY = "gait", "activity", "gei", "auth", "verification"
AUTH_PREFIXES = ("mcgill", "idnet", "zju", "ouisir")
# form -> how a user writes it
FORMS = {
    "synthetic": "synthetic[:options]",
    "padova": "a Padova (IDNet) folder of uUUU_wWWW/ walks",
    "lara": "a LARa folder of Sxx/ recordings",
    "npz": "a .npz file of windows",
    "casia-b": "a CASIA-B folder (001/nm-01/090/ frames or GEI .png files)",
    **{prefix: f"{prefix}:PATH" for prefix in AUTH_PREFIXES},
}
FAMILY_FORMS = {GAIT: ("synthetic", "padova"), ACTIVITY: ("synthetic", "lara", "npz"), GEI: ("synthetic", "casia-b"),
                AUTH: ("synthetic", *AUTH_PREFIXES), VERIFY: ("synthetic", "padova", "ouisir")}
FAMILY_MODELS = {GAIT: "gait models (bipedalnet, idnet)", ACTIVITY: "activity models (tcnn, btcnn)",
                 GEI: "GEI models (resnet50, lresnet50)", AUTH: "siamese models (lenet4, vgg8, mobilenetv2)",
                 VERIFY: "gait embeddings (bipedalnet-embedding, idnet-embedding)"}
ONE_MODEL = {GAIT: "a gait model", ACTIVITY: "an activity model", GEI: "a GEI model", AUTH: "a siamese model",
             VERIFY: "a gait embedding"}


def form_of(source: str) -> str | None:
    """The form of ``source``, or None for a path that does not exist or has no known layout."""
    source = str(source)
    prefix = source.split(":")[0]
    if prefix == "synthetic" or prefix in AUTH_PREFIXES:
        return prefix
    path = Path(source)
    if source.endswith(".npz"):
        return "npz"
    if not path.is_dir():  # another file is for its loader to refuse
        return None
    children = [p for p in path.iterdir() if p.is_dir()]
    if any(re.match(r"^u\d+_w\d+$", p.name) for p in children):
        return "padova"
    if any(re.match(r"^\d{3}$", p.name) for p in children) or any(path.rglob("[0-9][0-9][0-9]-*-[0-9][0-9]-*.png")):
        return "casia-b"
    if lara.subject_root(path) is not None:
        return "lara"
    return None


def family_of_form(form: str | None) -> str | None:
    """The family that reads ``form`` (gait for synthetic, every family's generator)."""
    return next((family for family, forms in FAMILY_FORMS.items() if form in forms), None)


def require(family: str, source: str) -> None:
    """An input error when ``source`` is a form that ``family``'s loader does not read."""
    form = form_of(source)
    if form is None or form in FAMILY_FORMS[family]:
        return
    owner = family_of_form(form)
    accepted = FAMILY_FORMS[family]
    listed = ", ".join(FORMS[f] for f in accepted[:-1]) + f" or {FORMS[accepted[-1]]}"
    hint = f"pass idnet:{source} to read its accelerometer" if family == AUTH and form == "padova" else \
        f"pass one of those, or this source to {ONE_MODEL[owner]} (gaitbnn data: --family {owner})"
    raise InputError(f"--data {source}: {FORMS[form]} is data of the {FAMILY_MODELS[owner]}, not of the "
                     f"{FAMILY_MODELS[family]}, which read {listed}: {hint}")
