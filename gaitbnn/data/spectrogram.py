"""Accelerometer spectrograms, the siamese paper's input representation (MM'19 Sec. 4.1).

"We convert the tri-axial accelerometer signal into spectrograms and stack them
vertically." The paper gives no window, hop or rate; this project's choice:

* the accelerometer is resampled to ``RATE_HZ`` = 50 Hz (every dataset alike);
* a sample is a segment of ``SEGMENT`` = 256 samples (5.12 s, about five gait
  cycles); segments do not overlap, so no reading is shared by two samples;
* each axis gets a short-time Fourier transform (``scipy.signal.spectrogram``)
  with a Hann window of ``NPERSEG`` = 64 samples (1.28 s, 0.78 Hz per bin) and a
  hop of ``HOP`` = 8 samples (0.16 s): 33 frequency bins (0 to 25 Hz) by 25 frames;
* the power is log-compressed (``log(1 + power)``) and the three axes are stacked
  vertically, x on top: one (99, 25, 1) image per segment.

The sliding-window baseline ("softmax(sw)", the paper's time-domain column) sees
the same 256-sample segments as (3, 256, 1) raw signals.
"""
from __future__ import annotations

import numpy as np
from scipy import signal as scipy_signal

from gaitbnn.data.recordings import cut, resample

RATE_HZ = 50.0
SEGMENT = 256
SEGMENT_SECONDS = SEGMENT / RATE_HZ
NPERSEG = 64
HOP = 8
BINS = NPERSEG // 2 + 1
FRAMES = (SEGMENT - NPERSEG) // HOP + 1
SHAPE = (3 * BINS, FRAMES, 1)
SW_SHAPE = (3, SEGMENT, 1)


def frequencies(rate: float = RATE_HZ) -> np.ndarray:
    """The centre frequency (Hz) of each of the ``BINS`` rows of one axis."""
    return np.fft.rfftfreq(NPERSEG, d=1.0 / rate)


def spectrogram(segment: np.ndarray, rate: float = RATE_HZ, nperseg: int = NPERSEG, hop: int = HOP) -> np.ndarray:
    """(SEGMENT, 3) accelerometer readings -> (3 * BINS, FRAMES) log-power image, axes stacked vertically.

    ``nperseg`` and ``hop``: another Hann window and hop for shorter segments (the verification protocol's 2 s
    windows, ``data.verification``); the image is then (3 * (nperseg // 2 + 1), (len - nperseg) // hop + 1)."""
    segment = np.asarray(segment, dtype=np.float64)
    _, _, power = scipy_signal.spectrogram(segment, fs=rate, window="hann", nperseg=nperseg,
                                           noverlap=nperseg - hop, axis=0, mode="psd", detrend="constant")
    # scipy puts the frequency axis where the time axis was: (BINS, 3, FRAMES) -> stack the axes vertically
    return np.log1p(np.concatenate([power[:, axis, :] for axis in range(3)], axis=0)).astype(np.float32)


def segments(times: np.ndarray, acc: np.ndarray, rate: float = RATE_HZ) -> np.ndarray:
    """Non-overlapping (k, SEGMENT, 3) segments of one recording, resampled to ``rate`` Hz."""
    _, uniform = resample(times, acc, rate)
    return np.ascontiguousarray(cut(uniform, SEGMENT))


def images(segs: np.ndarray) -> np.ndarray:
    """(k, SEGMENT, 3) segments -> (k, 3 * BINS, FRAMES, 1) spectrogram images."""
    return np.stack([spectrogram(s) for s in segs])[..., None] if len(segs) else np.zeros((0, *SHAPE), np.float32)


def sliding_windows(segs: np.ndarray) -> np.ndarray:
    """(k, SEGMENT, 3) segments -> (k, 3, SEGMENT, 1): the time-domain baseline's input."""
    return np.ascontiguousarray(np.transpose(segs, (0, 2, 1))[..., None], dtype=np.float32)
