"""Data sources (one module per dataset, plus synthetic) and the ``Dataset`` they feed."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from gaitbnn.data import forms
from gaitbnn.data.dataset import Dataset, load  # noqa: F401
from gaitbnn.data.sources import is_synthetic  # noqa: F401
from gaitbnn.errors import InputError

if TYPE_CHECKING:
    from gaitbnn.data.auth import AuthData
    from gaitbnn.data.dataset import Dataset

GAIT, ACTIVITY, GEI, AUTH, VERIFY = forms.GAIT, forms.ACTIVITY, forms.GEI, forms.AUTH, forms.VERIFY
FAMILY_NAMES = (GAIT, ACTIVITY, GEI, AUTH, VERIFY)
AUTH_PREFIXES = forms.AUTH_PREFIXES
# The options each family's loader takes (``load_family``), as they are stored in a run's config.json.
OPTIONS = {GAIT: ("window_seconds", "split", "keep_duplicates", "train_stride_seconds"),
           ACTIVITY: ("window", "stride", "protocol"),
           GEI: (), AUTH: ("split",),
           VERIFY: ("train_share", "window_seconds", "train_stride_seconds", "test_stride_seconds", "representation")}


def load_family(family: str | None, source: str = "synthetic", seed: int = 0, input_shape: tuple = None,
                options: dict | None = None, warn: bool = True,
                normalization: dict | None = None) -> Dataset | AuthData:
    """The dataset a model family trains on: gait walks (Padova), activity windows (LARa, .npz), GEIs (CASIA-B)
    or accelerometer spectrograms (McGill, IDNet, ZJU-GaitAcc, OU-ISIR), or the verification protocol's windows
    (OU-ISIR, Padova, synthetic: ``data.verification``).

    ``options`` (``OPTIONS``): ``window_seconds``, ``split`` and ``keep_duplicates`` for gait; ``window``,
    ``stride`` and ``protocol`` for activity; ``split`` for the siamese spectrograms. With ``warn``, each quirk
    the loader handled is printed as one ``warning:`` line on stderr (``data.problems``). ``normalization``: the
    statistics a trained model expects (its run's ``config.json``), used instead of this data's own.
    """
    options = {k: v for k, v in (options or {}).items() if v is not None and k in OPTIONS.get(family, ())}
    if family == AUTH:  # spectrograms for the siamese networks (an AuthData, with x_test and input_shape)
        from gaitbnn.data import auth  # lazy: scipy.signal and each family's loader load only when it is read

        dataset = auth.load(source, seed=seed, split=options.get("split", "windows"), normalization=normalization)
    elif family == VERIFY:
        from gaitbnn.data import verification  # lazy: as below

        dataset = verification.load(source, seed=seed, input_shape=input_shape, normalization=normalization,
                                    **options)
    elif family == GEI:
        from gaitbnn.data import gei  # lazy: as above

        dataset = gei.load(source, seed=seed, input_shape=input_shape)
    elif family == ACTIVITY:
        from gaitbnn.data import activity  # lazy: as above

        dataset = activity.load(source, seed=seed, normalization=normalization, **options)
    else:
        dataset = load(source, input_shape, seed=seed, normalization=normalization, **options)
    if warn and dataset.problems:
        dataset.problems.warn()
    return dataset


def detect_family(source: str) -> str | None:
    """The family a ``--data`` source belongs to, from its form or its folder layout; None if unknown (a file
    is read as a bring-your-own .npz of windows)."""
    if Path(str(source)).is_file():
        return ACTIVITY
    return forms.family_of_form(forms.form_of(source))


def family_of(source: str, family: str | None = None) -> str:
    """``family`` if given, else the detected family of ``source``; an InputError when neither is known."""
    if family:
        if family not in FAMILY_NAMES:
            raise InputError(f"--family {family}: use one of {', '.join(FAMILY_NAMES)}")
        return family
    found = detect_family(source)
    if found is None:
        if not is_synthetic(source) and not Path(str(source)).exists():
            raise InputError(f"{source}: no such dataset folder or file: pass a dataset folder, a .npz file, "
                             f"{':PATH, '.join(AUTH_PREFIXES)}:PATH or 'synthetic'")
        raise InputError(f"{source}: not a known dataset layout (Padova uUUU_wWWW/, LARa Sxx/, CASIA-B 001/nm-01/090/ "
                         "or .npz): see docs/data.md for the layouts, or pass --family")
    return found
