"""Synthetic LARa-shaped activity recordings: the default data of the tCNN / BtCNN commands.

14 subjects (S01-S14, so the LARa subject split applies) each perform a random
sequence of the 8 activity classes in segments of 2-6 s. Each class has a motion
signature over the sensor channels: a cadence, per-channel amplitudes of its
first harmonics and a posture offset; a segment's variant (which hand, which
item) changes the arm channels and the attributes, as in LARa, where a class
comes with several attribute vectors. Each subject scales amplitudes and
cadence in its own way, and sensor noise is added. The sensor set sets the
channel count and rate (mbientlab: 30 channels at 100 Hz; MoCap: 126 at 200 Hz).
"""
from __future__ import annotations

import numpy as np

from gaitbnn.data.lara import ATTRIBUTE_NAMES, CLASS_NAMES, SENSORS, ActivityRecording

DEFAULTS = dict(sensors="mbientlab", subjects=14, seconds=30.0, noise=0.3, seed=1234)

# Attributes per class (LARa Table 5.1.2 semantics); two variants: (first, second).
_A = {name: i for i, name in enumerate(ATTRIBUTE_NAMES)}
_PROTOTYPES = {
    0: (["I-C_StandingStill", "II-D_NoIntentionalMotion", "III-C_NoArms", "IV-F_NoItem"],
        ["I-C_StandingStill", "II-B_Centred", "III-C_NoArms", "IV-F_NoItem"]),
    1: (["I-A_GaitCycle", "II-B_Centred", "III-C_NoArms", "IV-F_NoItem"],
        ["I-A_GaitCycle", "II-B_Centred", "III-A_Right", "IV-B_HandyUnit"]),
    2: (["I-A_GaitCycle", "II-B_Centred", "III-A_Right", "III-B_Left", "IV-D_Cart"],
        ["I-A_GaitCycle", "II-B_Centred", "III-A_Right", "IV-D_Cart"]),
    3: (["I-C_StandingStill", "II-A_Upwards", "III-A_Right", "IV-B_HandyUnit"],
        ["I-C_StandingStill", "II-A_Upwards", "III-B_Left", "IV-A_BulkyUnit"]),
    4: (["I-B_Step", "II-B_Centred", "III-A_Right", "IV-B_HandyUnit"],
        ["I-B_Step", "II-B_Centred", "III-B_Left", "IV-E_Computer"]),
    5: (["I-C_StandingStill", "II-C_Downwards", "III-A_Right", "IV-A_BulkyUnit"],
        ["I-B_Step", "II-C_Downwards", "III-B_Left", "IV-B_HandyUnit"]),
    6: (["I-C_StandingStill", "II-A_Upwards", "III-A_Right", "III-B_Left", "IV-F_NoItem"],
        ["I-C_StandingStill", "II-A_Upwards", "III-A_Right", "III-B_Left", "IV-F_NoItem"]),
    7: (["V-A_None"], ["V-A_None", "VI-A_Error"]),
}
_CADENCE = [0.3, 1.8, 1.5, 0.7, 1.0, 0.6, 0.4, 1.2]  # Hz, per class


def attribute_vector(label: int, variant: int) -> np.ndarray:
    vector = np.zeros(len(ATTRIBUTE_NAMES), np.float32)
    vector[[_A[a] for a in _PROTOTYPES[label][variant]]] = 1
    return vector


def recordings(sensors: str = "mbientlab", subjects: int = 14, seconds: float = 30.0, noise: float = 0.3,
               seed: int = 1234, harmonics: int = 3) -> list:
    """One recording of ``seconds`` per subject, named S01, S02, ..."""
    info = SENSORS[sensors]
    channels, rate = len(info["channels"]), info["rate"]
    rng = np.random.default_rng(seed)
    classes = len(CLASS_NAMES)
    amplitude = rng.gamma(2.0, 0.5, size=(classes, harmonics, channels)) / np.arange(1, harmonics + 1)[:, None]
    phase = rng.uniform(0, 2 * np.pi, size=(classes, harmonics, channels))
    posture = rng.normal(scale=1.0, size=(classes, channels))
    arm = rng.random(channels) < 0.4  # the channels a hand variant moves
    out = []
    for s in range(subjects):
        gain = rng.uniform(0.8, 1.25, size=channels)
        tempo = rng.uniform(0.9, 1.1)
        n = int(seconds * rate)
        signal = np.zeros((n, channels))
        labels = np.zeros(n, np.int64)
        attributes = np.zeros((n, len(ATTRIBUTE_NAMES)), np.float32)
        start = 0
        while start < n:
            length = int(rng.uniform(2.0, 6.0) * rate)
            stop = min(n, start + length)
            label, variant = int(rng.integers(classes)), int(rng.integers(2))
            t = np.arange(stop - start) / rate
            cycle = 2 * np.pi * _CADENCE[label] * tempo * t + rng.uniform(0, 2 * np.pi)
            segment = np.zeros((stop - start, channels)) + posture[label]
            for h in range(harmonics):
                segment += amplitude[label, h] * np.sin((h + 1) * cycle[:, None] + phase[label, h])
            if variant:
                segment[:, arm] *= -0.6
            signal[start:stop] = segment * gain
            labels[start:stop] = label
            attributes[start:stop] = attribute_vector(label, variant)
            start = stop
        signal += rng.normal(scale=noise, size=signal.shape)
        out.append(ActivityRecording(f"S{s + 1:02d}", signal, labels, attributes, f"synthetic subject S{s + 1:02d}"))
    return out
