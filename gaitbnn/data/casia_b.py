"""CASIA-B silhouettes -> gait energy images (L-ResNet-50 paper, Eq. 1a), and precomputed GEIs.

Silhouette layout (the published ``GaitDatasetB-silh``, unpacked)::

    PATH/001/nm-01/090/001-nm-01-090-001.png   subject / condition-sequence / view / frames
    PATH/001/bg-01/...  PATH/001/cl-01/...

Precomputed GEI layout: PNG files named ``SSS-cc-NN-VVV.png`` (subject, condition
nm/bg/cl, sequence, view) anywhere under PATH.

A GEI is built per sequence: each frame is thresholded at half intensity, cropped
to the silhouette's bounding box, scaled to the GEI height (aspect kept), and
placed with its horizontal centroid at the centre column; the GEI is the mean of
those frames.

Real archives are incomplete (``REAL-LAYOUTS.md``; OpenGait's and GaitSet's
pretreatment, which "ignore" subject 005's incomplete data and drop frames with
``img.sum() <= 10000``): near-empty frames (grey levels summing to at most
``NEAR_EMPTY_SUM``, about 40 white pixels) are dropped; an empty view folder, a
sequence with no usable frame and an all-black precomputed GEI are skipped; each
kind is counted with the parts it names (``data.problems``), and only an archive
with nothing usable left is an error. An unreadable image is an error. Built GEIs are
cached one .npz per subject (``$GAITBNN_CACHE``, default ``~/.cache/gaitbnn``) keyed
by the files' names, sizes and times, so a second run does not rebuild them and an
interrupted build resumes at the first subject it had not finished. The
loader never writes into PATH.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from gaitbnn.atomic import atomic_path
from gaitbnn.data.folders import dataset_root
from gaitbnn.data.problems import Problems, collector
from gaitbnn.data.records import GEIRecord
from gaitbnn.errors import InputError
from gaitbnn.progress import Progress

if TYPE_CHECKING:
    from collections.abc import Callable

    from gaitbnn.data.problems import Problems

NEAR_EMPTY_SUM = 10000  # sum of 0-255 grey levels at or below which a frame is dropped (public pretreatment)
GEI_NAME = re.compile(r"^(\d{3})-(nm|bg|cl)-(\d{2})-(\d{3})$")
SEQUENCE = re.compile(r"^(nm|bg|cl)-(\d{2})$")


def read_image(path: str | Path) -> np.ndarray:
    """A PNG as a float array in [0, 1] (grey levels); unreadable files are an InputError."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            return np.asarray(image.convert("L"), dtype=np.float32) / 255.0
    except (OSError, UnidentifiedImageError, ValueError) as err:
        raise InputError(f"{path}: cannot read the image ({type(err).__name__}): replace or remove the file") from None


def normalize_silhouette(frame: np.ndarray, height: int, width: int) -> np.ndarray | None:
    """Crop to the bounding box, scale to ``height``, centre the horizontal centroid; None if empty."""
    from PIL import Image

    mask = frame > 0.5
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if not len(rows):
        return None
    crop = mask[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1].astype(np.uint8) * 255
    new_width = max(1, int(round(crop.shape[1] * height / crop.shape[0])))
    scaled = np.asarray(Image.fromarray(crop).resize((new_width, height), Image.BILINEAR), np.float32) / 255.0
    weights = scaled.sum(axis=0)
    centroid = int(round(float((weights * np.arange(new_width)).sum() / max(weights.sum(), 1e-6))))
    out = np.zeros((height, width), np.float32)
    left = width // 2 - centroid  # column of scaled[:, 0] in out
    src0, dst0 = max(0, -left), max(0, left)
    span = min(new_width - src0, width - dst0)
    if span > 0:
        out[:, dst0:dst0 + span] = scaled[:, src0:src0 + span]
    return out


def build_gei(frame_paths: list, height: int, width: int, where: str | Path,
              problems: Problems | None = None) -> np.ndarray | None:
    """The GEI of one sequence: the mean of its normalized silhouettes (Eq. 1a); None when no frame is usable."""
    problems = collector(problems)
    frames = []
    for path in frame_paths:
        image = read_image(path)
        if image.sum() * 255.0 <= NEAR_EMPTY_SUM:
            problems.add("near_empty_frames", f"near-empty silhouette frames dropped (grey sum <= {NEAR_EMPTY_SUM})",
                         str(path))
            continue
        frame = normalize_silhouette(image, height, width)
        if frame is not None:
            frames.append(frame)
    if not frames:
        return None
    return np.mean(frames, axis=0).astype(np.float32)


def _cache_path(root, subject, files, height, width):
    """The cache of one subject's GEIs, keyed by the names, sizes and times of its frames."""
    digest = hashlib.sha256(f"{root.resolve()}|{subject}|{height}x{width}".encode())
    for f in files:
        stat = f.stat()
        digest.update(f"{f.relative_to(root)}|{stat.st_size}|{stat.st_mtime_ns}".encode())
    folder = Path(os.environ.get("GAITBNN_CACHE", Path.home() / ".cache" / "gaitbnn"))
    return folder / f"casia_b-{digest.hexdigest()[:16]}.npz"


def _records_from_arrays(arrays):
    return [GEIRecord(str(s), str(c), int(q), int(v), img) for s, c, q, v, img in
            zip(arrays["subject"], arrays["condition"], arrays["sequence"], arrays["view"], arrays["image"])]


def _save_cache(path, records, problems, height, width):
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            np.savez(f, problems=np.array(json.dumps(problems.as_list())),
                     subject=np.array([r.subject for r in records], dtype=str),
                     condition=np.array([r.condition for r in records], dtype=str),
                     sequence=np.array([r.sequence for r in records], dtype=int),
                     view=np.array([r.view for r in records], dtype=int),
                     image=np.stack([r.image for r in records]) if records else np.zeros((0, height, width),
                                                                                         np.float32))


def _load_cache(path):
    with np.load(path) as arrays:
        return _records_from_arrays(arrays), Problems.from_list(json.loads(str(arrays["problems"])))


def _build_subject(view_dirs, height, width, timer, done):
    """The GEIs of one subject's view folders, and the problems met; ``timer`` counts folders from ``done``."""
    built, out = Problems(), []
    for i, folder in enumerate(view_dirs):
        timer.step(done + i + 1)
        frames = sorted(folder.glob("*.png"))
        if not frames:
            built.add("empty_view_folder", "CASIA-B view folders with no frame (skipped)", _part(folder))
            continue
        gei = build_gei(frames, height, width, folder, built)
        if gei is None:
            built.add("no_usable_frame", "CASIA-B sequences with no usable frame (skipped)", _part(folder))
            continue
        condition, sequence = SEQUENCE.match(folder.parent.name).groups()
        out.append(GEIRecord(folder.parent.parent.name, condition, int(sequence), int(folder.name), gei))
    return out, built


def built_records(root: Path, view_dirs: list, height: int, width: int, progress: Callable | None,
                  problems: Problems) -> list:
    """The GEIs of silhouette folders, cached one subject at a time: an interrupted build keeps the subjects
    it finished, and a rerun builds only the rest."""
    by_subject = {}
    for folder in view_dirs:
        by_subject.setdefault(folder.parent.parent.name, []).append(folder)
    caches = {s: _cache_path(root, s, [p for d in dirs for p in sorted(d.glob("*.png"))], height, width)
              for s, dirs in by_subject.items()}
    to_build = sum(len(dirs) for s, dirs in by_subject.items() if not caches[s].exists())
    timer = Progress(to_build, "[casia-b] building GEIs", progress)
    out, done = [], 0
    for subject, dirs in by_subject.items():
        if caches[subject].exists():
            records, found = _load_cache(caches[subject])
        else:
            records, found = _build_subject(dirs, height, width, timer, done)
            done += len(dirs)
            _save_cache(caches[subject], records, found, height, width)
        out += records
        problems.extend(found)
    return out


def _part(folder):
    """'001/bg-01/090' for a view folder."""
    return "/".join(folder.parts[-3:])


def records(path: str | Path, height: int = 64, width: int = 64, progress: Callable | None = print,
            problems: Problems | None = None) -> list:
    """Every usable GEI under ``path``: built from silhouette frames (cached), or read when precomputed."""
    problems = collector(problems)
    root = dataset_root(path, "CASIA-B silhouettes or GEIs", "001/nm-01/090/...")
    view_dirs = sorted(d for d in root.glob("*/*/*") if d.is_dir() and SEQUENCE.match(d.parent.name)
                       and d.name.isdigit())
    if view_dirs:
        out = built_records(root, view_dirs, height, width, progress, problems)
        if not out:
            raise InputError(f"{root}: no usable CASIA-B sequence (every view folder is empty or its frames are "
                             "near-empty): check the archive")
        return out
    geis = sorted(p for p in root.rglob("*.png") if GEI_NAME.match(p.stem))
    if not geis:
        raise InputError(f"{root}: no CASIA-B silhouettes (001/nm-01/090/*.png) or GEIs (001-nm-01-090.png) found")
    out = []
    for p in geis:
        subject, condition, sequence, view = GEI_NAME.match(p.stem).groups()
        image = read_image(p)
        if image.max() <= 0:
            problems.add("empty_gei", "all-black precomputed GEIs (skipped)", str(p))
            continue
        if image.shape != (height, width):
            image = normalize_gei_size(image, height, width)
        out.append(GEIRecord(subject, condition, int(sequence), int(view), image))
    if not out:
        raise InputError(f"{root}: every GEI is all black: check the files")
    return out


def normalize_gei_size(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """A precomputed GEI resized to (height, width) (bilinear)."""
    from PIL import Image

    return np.asarray(Image.fromarray((image * 255).astype(np.uint8)).resize((width, height), Image.BILINEAR),
                      np.float32) / 255.0
