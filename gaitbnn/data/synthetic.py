"""Synthetic gait: subject-specific inertial signals, the default data of every command.

Each user has a gait signature: a cadence (steps per second), the amplitudes and
phases of the first harmonics of the gait cycle on each of six latent motion
components, and a mixing of those components onto the phone's axes (how the
phone sits in the pocket). Each walk (session) drifts from the signature: the
cadence by a few percent, the axis mix by a small rotation, the gain; the cycle
length wanders within a walk and sensor noise is added. A model can learn the
users, and a broken model cannot.
"""
from __future__ import annotations

import numpy as np

from gaitbnn.data.recordings import Recording

DEFAULTS = dict(users=38, sessions=2, seconds=60.0, rate=100.0, noise=0.6, drift=0.15, seed=1234)


def _rotation(rng, scale):
    """A random rotation of about ``scale`` radians (Rodrigues' formula)."""
    axis = rng.normal(size=3)
    axis /= np.linalg.norm(axis)
    angle = rng.normal(scale=scale)
    k = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    return np.eye(3) + np.sin(angle) * k + (1 - np.cos(angle)) * k @ k


def recordings(users: int = 38, sessions: int = 2, seconds: float = 60.0, rate: float = 100.0, noise: float = 0.6,
               drift: float = 0.15, seed: int = 1234, harmonics: int = 4) -> list:
    """``users`` x ``sessions`` recordings of ``seconds`` each at ``rate`` Hz.

    ``drift``: how far each walk turns the phone from the user's usual placement (radians, about);
    larger values make sessions of one person differ more (a change of pocket or behaviour).
    """
    rng = np.random.default_rng(seed)
    out = []
    for u in range(users):
        cadence = rng.uniform(0.8, 1.15)  # gait cycles per second
        amplitude = rng.gamma(2.0, 0.5, size=(harmonics, 6)) / np.arange(1, harmonics + 1)[:, None]
        phase = rng.uniform(0, 2 * np.pi, size=(harmonics, 6))
        mix_acc, mix_gyro = _rotation(rng, 1.0), _rotation(rng, 1.0)
        for s in range(sessions):
            n = int(seconds * rate)
            t = np.arange(n) / rate
            session_cadence = cadence * (1 + rng.normal(scale=0.03))
            jitter = np.cumsum(rng.normal(scale=0.02, size=n)) / np.sqrt(rate)  # wandering cycle phase
            cycle = 2 * np.pi * (session_cadence * t + jitter)
            latent = np.zeros((n, 6))
            for h in range(harmonics):
                latent += amplitude[h] * np.sin((h + 1) * cycle[:, None] + phase[h])
            rot_acc = mix_acc @ _rotation(rng, drift)
            rot_gyro = mix_gyro @ _rotation(rng, drift)
            signal = np.concatenate([latent[:, :3] @ rot_acc.T, latent[:, 3:] @ rot_gyro.T], axis=1)
            signal *= 1 + rng.normal(scale=0.05)
            signal[:, :3] += rot_acc @ np.array([0.0, 0.0, 9.81]) / 9.81  # gravity, in g
            signal += rng.normal(scale=noise, size=signal.shape)
            out.append(Recording(f"user{u:03d}", f"walk{s + 1}", t, signal, f"synthetic user {u} walk {s + 1}"))
    return out
