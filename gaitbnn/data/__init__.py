"""Data sources (one module per dataset, plus synthetic) and the ``Dataset`` they feed."""
from gaitbnn.data.dataset import Dataset, is_synthetic, load  # noqa: F401

FAMILIES = ("gait", "activity", "gei", "auth")


def load_family(family, spec="synthetic", seed=0, input_shape=None, options=None):
    """The dataset a model family trains on: gait walks (Padova), activity windows (LARa, .npz), GEIs (CASIA-B)
    or accelerometer spectrograms (McGill, IDNet, ZJU-GaitAcc, OU-ISIR).

    ``options``: ``window_seconds`` for gait; ``window`` and ``stride`` (time steps) for activity.
    """
    options = {k: v for k, v in (options or {}).items() if v is not None}
    if family == "auth":  # spectrograms for the siamese networks (an AuthData, with x_test and input_shape)
        from gaitbnn.data import auth

        return auth.load(spec, seed=seed)
    if family == "gei":
        from gaitbnn.data import gei

        return gei.load(spec, seed=seed, input_shape=input_shape)
    if family == "activity":
        from gaitbnn.data import activity

        return activity.load(spec, seed=seed, window=options.get("window"), stride=options.get("stride"))
    return load(spec, input_shape, seed=seed, **{k: v for k, v in options.items() if k == "window_seconds"})
