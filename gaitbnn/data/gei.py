"""GEI datasets for ResNet-50 / L-ResNet-50 with the paper's CASIA-B protocol (Sec. 4.1).

124 subjects; the views 0, 18, 162 and 180 degrees are excluded ("too similar",
leaving 36 to 144); per subject and view, the four normal-walking GEIs nm-01 to
nm-04 are the training set and the rest (nm-05, nm-06, bg-01, bg-02, cl-01,
cl-02) the test set, scored per view and per condition. A seeded 10% of the
training GEIs (stratified by subject) is held out for validation (best
checkpoint); no test GEI is used for it. GEIs are in [0, 1] as built.

Real archives are incomplete (subject 005 is known to be): a subject whose
nm-01..04 are not all there at a view is left out at that view (every condition),
with one warning that lists those subject-views; a subject left with no view is
left out. Only an archive with no complete subject-view is an error.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from sklearn.model_selection import train_test_split

from gaitbnn.data import casia_b, forms, synthetic_gei
from gaitbnn.data.dataset import Dataset
from gaitbnn.data.problems import Problems, collector
from gaitbnn.data.sources import is_synthetic, parse_synthetic
from gaitbnn.errors import InputError

if TYPE_CHECKING:
    from gaitbnn.data.problems import Problems

EXCLUDED_VIEWS = (0, 18, 162, 180)
TRAIN_NM = (1, 2, 3, 4)
VAL_FRACTION = 0.1


def split(records: list, source: str, problems: Problems | None = None) -> tuple:
    """(train records, test records) by the protocol; incomplete subject-views are skipped into ``problems``."""
    problems = collector(problems)
    used = [r for r in records if r.view not in EXCLUDED_VIEWS]
    if not used:
        raise InputError(f"{source}: no GEIs at views 36-144 (0, 18, 162 and 180 are excluded by the protocol)")
    views = sorted({r.view for r in used})
    subjects = sorted({r.subject for r in used})
    for condition in ("nm", "bg", "cl"):
        if not any(r.condition == condition for r in used):
            raise InputError(f"{source}: no {condition.upper()} sequences: the protocol tests NM, BG and CL")
    have = {(r.subject, r.view, r.sequence) for r in used if r.condition == "nm"}
    incomplete = set()
    for subject in subjects:
        for view in views:
            missing = [q for q in TRAIN_NM if (subject, view, q) not in have]
            if missing:
                incomplete.add((subject, view))
                problems.add("incomplete_subject_view", "CASIA-B subject-views without all of nm-01..04 (left out)",
                             f"{subject}@{view:03d} (no {', '.join(f'nm-{q:02d}' for q in missing)})")
    used = [r for r in used if (r.subject, r.view) not in incomplete]
    if not used:
        raise InputError(f"{source}: no subject has nm-01 to nm-04 at any view 36-144: the protocol trains on them")
    train = [r for r in used if r.condition == "nm" and r.sequence in TRAIN_NM]
    test = [r for r in used if not (r.condition == "nm" and r.sequence in TRAIN_NM)]
    return train, test


def _stack(records):
    return np.stack([r.image for r in records])[..., None].astype(np.float32)


def load(source: str = "synthetic", seed: int = 0, input_shape: tuple = (64, 64, 1)) -> Dataset:
    """Train / val / test GEIs of ``source`` ('synthetic[:subjects=..]' or a CASIA-B folder) at ``input_shape``."""
    source = str(source)
    forms.require(forms.GEI, source)
    problems = Problems()
    height, width = int(input_shape[0]), int(input_shape[1])
    if is_synthetic(source):
        options = parse_synthetic(source, synthetic_gei.DEFAULTS)
        options.update(height=height, width=width)
        records = synthetic_gei.records(**options)
        description = (f"SYNTHETIC GEIs ({options['subjects']} subjects, 11 views, NM x6 / BG x2 / CL x2, "
                       f"seed {options['seed']}), not CASIA-B")
        synthetic = True
    else:
        records = casia_b.records(source, height, width, problems=problems)
        description = f"CASIA-B at {source}"
        synthetic = False
    summary = {"subjects": len({r.subject for r in records}),
               "recordings": len(records), "seconds": None, "sample_rate_hz": None}  # sequences, not time series
    train, test = split(records, source, problems)
    subjects = sorted({r.subject for r in train})
    index = {s: i for i, s in enumerate(subjects)}
    test = [r for r in test if r.subject in index]
    y_all = np.array([index[r.subject] for r in train])
    fit_idx, val_idx = train_test_split(np.arange(len(train)), test_size=VAL_FRACTION, stratify=y_all,
                                        random_state=seed)
    x_all = _stack(train)
    description += (f"; {height}x{width} GEIs; train nm-01..04 at views 36-144 ({len(train)}), "
                    f"test nm-05/06, bg, cl ({len(test)})")
    return Dataset(
        x_all[fit_idx], y_all[fit_idx], x_all[val_idx], y_all[val_idx], _stack(test),
        np.array([index[r.subject] for r in test]), class_names=subjects, channel_names=["gei"],
        synthetic=synthetic, description=description, source=source,
        normalization={"range": "GEI grey levels in [0, 1]"},
        options={"height": height, "width": width},
        test_groups={"view": np.array([r.view for r in test]), "condition": np.array([r.condition for r in test])},
        summary=summary, problems=problems,
    )
