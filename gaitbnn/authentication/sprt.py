"""SPRT decision fusion over a stream of distances (MM'19 Sec. 3.2, Eq. 2-6, Algorithm 2).

Each observation is a distance d_i (the mean distance of a new sample to k
enrolled samples). Eq. 3 models how likely d_i is "similar" as
1 - Phi((d_i - mu) / sigma^2), with (mu, sigma^2) = (m / 2, 0.25) and m the
contrastive margin; note the paper divides by sigma^2, not sigma, and so does
this code. Each observation multiplies the likelihood ratio
lambda_n = p(y | H1) / p(y | H0) (H0: the owner, H1: an impostor) by
Phi(z) / (1 - Phi(z)) (Eq. 4-5). Wald's thresholds A = (1 - beta) / alpha and
B = beta / (1 - alpha) decide: accept when lambda_n <= B, reject when
lambda_n >= A, otherwise continue (Eq. 6). The product is kept in log space.

One likelihood factor per observation is the consistent reading of Eq. 4-5. Read
literally, Eq. 5 would push an observation judged similar toward rejection, against
the paper's own text that "consecutive decisions of acceptance ... shrink
multiplicatively" the ratio toward the acceptance threshold; the factor above shrinks
lambda_n for every similar observation (d_i < mu) and grows it for every dissimilar one.
"""
from __future__ import annotations

import math
from typing import TYPE_CHECKING

from scipy.stats import norm

if TYPE_CHECKING:
    import numpy as np
    import tensorflow as tf

ACCEPT, REJECT, CONTINUE = "accept", "reject", "continue"


class SPRT:
    def __init__(self, margin=1.5, sigma2=0.25, alpha=0.01, beta=0.01):
        self.mu, self.sigma2 = margin / 2.0, sigma2
        self.upper = (1 - beta) / alpha  # A
        self.lower = beta / (1 - alpha)  # B
        self.log_ratio, self.observations = 0.0, 0

    @property
    def ratio(self) -> float:
        return math.exp(self.log_ratio)

    def decision(self) -> str:
        if self.log_ratio <= math.log(self.lower):
            return ACCEPT
        if self.log_ratio >= math.log(self.upper):
            return REJECT
        return CONTINUE

    def update(self, distance: tf.Tensor) -> str:
        """Fold in one distance (Eq. 4-5); return the decision so far (Eq. 6)."""
        z = (distance - self.mu) / self.sigma2
        self.log_ratio += float(norm.logcdf(z) - norm.logsf(z))
        self.observations += 1
        return self.decision()

    def run(self, distances: np.ndarray) -> tuple:
        """Observe ``distances`` until a decision: (decision, observations used, log-ratio trace)."""
        trace = []
        for d in distances:
            decision = self.update(d)
            trace.append(self.log_ratio)
            if decision != CONTINUE:
                break
        return self.decision(), self.observations, trace
