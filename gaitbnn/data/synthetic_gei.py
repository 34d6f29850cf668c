"""Synthetic gait energy images: the default data of the ResNet-50 / L-ResNet-50 commands.

Each subject has a body: head size, shoulder and hip width, torso and leg length,
stride and arm swing. A GEI at a view averages silhouettes over one gait cycle:
ellipses for head and torso, swinging legs and arms, their widths foreshortened
by the view (the body seen from the side at 90 degrees, from the front at 0 and
180). Carrying a bag (BG) adds a pack on the back, a coat (CL) widens and
lengthens the torso; each sequence jitters the pose and adds noise.
"""
from __future__ import annotations

import numpy as np

from gaitbnn.data.casia_b import GEIRecord

DEFAULTS = dict(subjects=20, height=64, width=64, seed=1234)
VIEWS = tuple(range(0, 181, 18))
SEQUENCES = {"nm": 6, "bg": 2, "cl": 2}


def _ellipse(yy, xx, cy, cx, ry, rx):
    return ((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2 <= 1.0


def gei(body: dict, view: int, condition: str, rng: np.random.Generator, height: int, width: int,
        phases: int = 8) -> np.ndarray:
    """One GEI of ``body`` (a dict of proportions in units of the height) at ``view`` degrees."""
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    side = abs(np.sin(np.radians(view)))  # how much of the stride is seen
    facing = abs(np.cos(np.radians(view)))  # how much of the shoulder width is seen
    cx = width / 2 + rng.normal(scale=0.5)
    frames = []
    for phase in np.linspace(0, 2 * np.pi, phases, endpoint=False):
        frame = np.zeros((height, width), bool)
        h = height * body["scale"]
        top = (height - h) / 2
        torso_w = h * (body["shoulders"] * facing + body["depth"] * (1 - facing))
        torso_len = h * body["torso"] * (1.1 if condition == "cl" else 1.0)
        if condition == "cl":
            torso_w *= 1.25
        head_r = h * body["head"]
        frame |= _ellipse(yy, xx, top + head_r, cx, head_r, head_r * 0.85)
        torso_cy = top + 2 * head_r + torso_len / 2
        frame |= _ellipse(yy, xx, torso_cy, cx, torso_len / 2, torso_w / 2)
        if condition == "bg":
            frame |= _ellipse(yy, xx, torso_cy - torso_len * 0.1, cx - side * torso_w * 0.7, torso_len * 0.3,
                              torso_w * (0.25 + 0.35 * side))
        hip = top + 2 * head_r + torso_len
        leg = h - (hip - top)
        for sign in (-1, 1):
            swing = sign * np.sin(phase) * body["stride"] * side * h
            for t in np.linspace(0, 1, 12):
                frame |= _ellipse(yy, xx, hip + t * leg, cx + t * swing + sign * (1 - side) * torso_w * 0.2,
                                  leg / 12, h * 0.05)
            arm = -sign * np.sin(phase) * body["swing"] * side * h
            for t in np.linspace(0, 1, 8):
                frame |= _ellipse(yy, xx, top + 2.3 * head_r + t * torso_len * 0.8,
                                  cx + t * arm + sign * torso_w * 0.5 * facing, torso_len * 0.08, h * 0.035)
        frames.append(frame)
    image = np.mean(frames, axis=0) + rng.normal(scale=0.03, size=(height, width))
    return np.clip(image, 0, 1).astype(np.float32)


def records(subjects: int = 20, height: int = 64, width: int = 64, seed: int = 1234) -> list:
    """Every subject x condition x sequence x view, as CASIA-B has them (11 views, NM 6, BG 2, CL 2)."""
    rng = np.random.default_rng(seed)
    out = []
    for s in range(subjects):
        body = dict(scale=rng.uniform(0.7, 0.98), head=rng.uniform(0.045, 0.09), shoulders=rng.uniform(0.14, 0.36),
                    depth=rng.uniform(0.08, 0.2), torso=rng.uniform(0.22, 0.38), stride=rng.uniform(0.1, 0.4),
                    swing=rng.uniform(0.03, 0.25))
        for condition, count in SEQUENCES.items():
            for sequence in range(1, count + 1):
                jitter = {k: v * (1 + rng.normal(scale=0.02)) for k, v in body.items()}
                for view in VIEWS:
                    out.append(GEIRecord(f"{s + 1:03d}", condition, sequence, view,
                                         gei(jitter, view, condition, rng, height, width)))
    return out
