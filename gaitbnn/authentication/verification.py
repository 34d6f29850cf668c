"""Open-set verification scores (issue 28): enrol each test person on one recording, probe with the others.

Every probe is scored against every enrolled person. A window's score for a person is its mean distance to
that person's enrolment windows (MM'19 Sec. 3.2's spatial fusion over all of them); a probe walk's score is
the mean of its windows' scores (``walk``). Distances are Euclidean (``euclidean``, for contrastive training,
whose margin sets the scale) or cosine (``cosine``: 1 - cos, for an additive-margin softmax).

Reported, per window and per walk: the equal error rate (EER, where false accepts and false rejects are equal),
the false-accept rate at 1% false rejects, the false-reject rate at 1% false accepts, and rank-1 identification
among the test people (the gallery: their enrolment windows). With Euclidean distances the walk is also decided by
MM'19's SPRT (``authentication.sprt``) over its windows' scores, in order; a walk the test leaves undecided is
decided by the sign of its final log-ratio.
"""
from __future__ import annotations

import numpy as np
from sklearn.metrics import roc_curve

from gaitbnn.atomic import atomic_path
from gaitbnn.authentication.sprt import ACCEPT, REJECT, SPRT

EUCLIDEAN, COSINE = "euclidean", "cosine"
METRICS = (EUCLIDEAN, COSINE)
AT = 0.01  # the 1% operating points


def error_rates(genuine: np.ndarray, impostor: np.ndarray) -> dict:
    """EER and the 1% operating points of distance scores (lower: more alike), as fractions.

    ``eer`` is the mean of the false-accept and false-reject rates at the threshold where they are closest
    (scikit-learn's ROC over every threshold); ``far_at_frr1``: the lowest false-accept rate with at most 1%
    false rejects; ``frr_at_far1``: the lowest false-reject rate with at most 1% false accepts.
    """
    genuine, impostor = np.asarray(genuine, float), np.asarray(impostor, float)
    labels = np.concatenate([np.ones(len(genuine)), np.zeros(len(impostor))])
    far, tar, thresholds = roc_curve(labels, -np.concatenate([genuine, impostor]), drop_intermediate=False)
    frr = 1 - tar
    best = int(np.argmin(np.abs(far - frr)))
    return {"eer": float((far[best] + frr[best]) / 2), "threshold": float(-thresholds[best]),
            "far_at_frr1": float(far[frr <= AT + 1e-12].min()), "frr_at_far1": float(frr[far <= AT + 1e-12].min()),
            "genuine": int(len(genuine)), "impostor": int(len(impostor))}


def distances(a: np.ndarray, b: np.ndarray, metric: str) -> np.ndarray:
    """(len(a), len(b)) distances between embeddings."""
    if metric == COSINE:
        a = a / (np.linalg.norm(a, axis=1, keepdims=True) + 1e-12)
        b = b / (np.linalg.norm(b, axis=1, keepdims=True) + 1e-12)
        return 1.0 - a @ b.T
    squared = (a ** 2).sum(1)[:, None] + (b ** 2).sum(1)[None, :] - 2 * a @ b.T
    return np.sqrt(np.maximum(squared, 0.0))


def window_scores(embeddings: np.ndarray, person: np.ndarray, enrolment: np.ndarray, metric: str) -> np.ndarray:
    """(probe windows, people) scores: each probe window's mean distance to each person's enrolment windows.

    ``person`` indexes the people 0..P-1; only windows with ``enrolment`` True are enrolled, the others probe.
    """
    enrolled, probes = embeddings[enrolment], embeddings[~enrolment]
    d = distances(probes, enrolled, metric)
    owners = person[enrolment]
    people = int(person.max()) + 1
    return np.stack([d[:, owners == p].mean(axis=1) for p in range(people)], axis=1)


def rank1(scores: np.ndarray, truth: np.ndarray) -> float:
    """Fraction of probes whose closest enrolled person is their own."""
    return float(np.mean(np.argmin(scores, axis=1) == truth))


def sprt_decisions(walk_window_scores: list, truth: np.ndarray, margin: float) -> dict:
    """MM'19's SPRT over each probe walk's window scores against every enrolled person: false accepts and
    false rejects of its decisions, the share it left undecided, and the windows it read on average."""
    accepted, genuine, used, undecided = [], [], [], 0
    for scores, owner in zip(walk_window_scores, truth):
        for p in range(scores.shape[1]):
            test = SPRT(margin=margin)
            decision, observations, _ = test.run(scores[:, p])
            if decision not in (ACCEPT, REJECT):
                undecided += 1
                decision = ACCEPT if test.log_ratio < 0 else REJECT
            accepted.append(decision == ACCEPT)
            genuine.append(p == owner)
            used.append(observations)
    accepted, genuine = np.array(accepted), np.array(genuine)
    return {"far": float(accepted[~genuine].mean()), "frr": float(1 - accepted[genuine].mean()),
            "undecided": undecided / len(accepted), "mean_windows": float(np.mean(used)), "margin": margin}


def evaluate(embeddings: np.ndarray, person: np.ndarray, walk: np.ndarray, enrolment: np.ndarray,
             metric: str = COSINE, margin: float | None = None) -> dict:
    """The protocol's figures for test windows' ``embeddings`` (see the module docstring), and the scores the
    DET curves are drawn from (``genuine``/``impostor`` counts are those of single windows).

    ``walk``: each window's recording; ``margin``: the contrastive margin, for the SPRT (Euclidean only).
    """
    scores = window_scores(embeddings, person, enrolment, metric)
    truth = person[~enrolment]
    probe_walks = walk[~enrolment]
    names = sorted(set(probe_walks))
    by_walk = [scores[probe_walks == name] for name in names]
    walk_scores = np.stack([s.mean(axis=0) for s in by_walk])
    walk_truth = np.array([truth[probe_walks == name][0] for name in names])
    result = {}
    for key, s, t in (("window", scores, truth), ("walk", walk_scores, walk_truth)):
        own = np.zeros_like(s, dtype=bool)
        own[np.arange(len(t)), t] = True
        rates = error_rates(s[own], s[~own])
        suffix = "" if key == "window" else "_walk"
        result.update({f"eer{suffix}": rates["eer"], f"far_at_frr1{suffix}": rates["far_at_frr1"],
                       f"frr_at_far1{suffix}": rates["frr_at_far1"], f"rank1{suffix}": rank1(s, t),
                       f"genuine{suffix}": rates["genuine"], f"impostor{suffix}": rates["impostor"]})
        result.setdefault("curves", {})[key] = {"genuine": s[own], "impostor": s[~own]}
    result.update({"people": int(scores.shape[1]), "probe_walks": len(names), "probe_windows": int(len(truth)),
                   "enrolment_windows": int(enrolment.sum()), "metric": metric})
    if metric == EUCLIDEAN and margin:
        result["sprt"] = sprt_decisions(by_walk, walk_truth, margin)
    return result


def det_plot(curves: dict, path: str, title: str) -> None:
    """DET curves (false rejects against false accepts, probit axes) of ``{label: {"genuine", "impostor"}}``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from scipy.stats import norm
    from sklearn.metrics import det_curve

    figure, axis = plt.subplots(figsize=(5.5, 5))
    for label, c in curves.items():
        labels = np.concatenate([np.ones(len(c["genuine"])), np.zeros(len(c["impostor"]))])
        far, frr, _ = det_curve(labels, -np.concatenate([c["genuine"], c["impostor"]]))
        axis.plot(norm.ppf(np.clip(far, 1e-4, 1 - 1e-4)), norm.ppf(np.clip(frr, 1e-4, 1 - 1e-4)), label=label)
    ticks = np.array([0.001, 0.01, 0.05, 0.2, 0.5, 0.8])
    axis.set_xticks(norm.ppf(ticks), [f"{100 * t:g}%" for t in ticks])
    axis.set_yticks(norm.ppf(ticks), [f"{100 * t:g}%" for t in ticks])
    axis.plot(norm.ppf([1e-3, 0.8]), norm.ppf([1e-3, 0.8]), color="grey", lw=0.5, ls=":")
    axis.set_xlabel("false accepts")
    axis.set_ylabel("false rejects")
    axis.set_title(title, fontsize=9)
    axis.legend(fontsize=7)
    figure.tight_layout()
    with atomic_path(path) as tmp:
        figure.savefig(tmp, format="png", dpi=110)
    plt.close(figure)


def save_curves(curves: dict, path: str) -> None:
    """``evaluate``'s ``curves`` (genuine and impostor scores per window and per walk) as one ``.npz``."""
    arrays = {f"{key}_{side}": np.asarray(c[side]) for key, c in curves.items() for side in ("genuine", "impostor")}
    with atomic_path(path) as tmp, open(tmp, "wb") as handle:
        np.savez_compressed(handle, **arrays)


def load_curves(path: str) -> dict:
    """The curves ``save_curves`` wrote: ``{key: {"genuine", "impostor"}}``."""
    with np.load(path) as arrays:
        keys = sorted({name.rsplit("_", 1)[0] for name in arrays.files})
        return {key: {side: arrays[f"{key}_{side}"] for side in ("genuine", "impostor")} for key in keys}
