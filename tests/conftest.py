"""Shared fixtures: tiny synthetic data, a Padova-layout tree written on disk, one trained run."""
import gaitbnn  # noqa: F401  (TF_USE_LEGACY_KERAS before TensorFlow)
import numpy as np
import pytest

TINY = "synthetic:users=5,seconds=60,noise=0.5"


def write_walk(root, user, walk, seconds=30.0, rate=100.0, seed=0, header=True, sep="\t", unit=1e9):
    """One walk folder of the Padova layout: accelerometer and gyroscope logs, timestamps in ``unit`` per s."""
    rng = np.random.default_rng(seed)
    folder = root / f"u{user:03d}_w{walk:03d}"
    folder.mkdir(parents=True, exist_ok=True)
    for sensor, offset in (("accelerometer", 0.0), ("gyroscope", 0.003)):
        n = int(seconds * rate)
        t = np.arange(n) / rate + offset
        cadence = 0.8 + 0.1 * user
        xyz = np.stack([np.sin(2 * np.pi * cadence * (k + 1) * t + user) for k in range(3)], axis=1)
        xyz += rng.normal(scale=0.1, size=xyz.shape)
        lines = []
        if header:
            lines.append(sep.join([f"{sensor}_timestamp", f"{sensor}_x_data", f"{sensor}_y_data", f"{sensor}_z_data"]))
        stamps = (1_000_000 + t) * unit
        lines += [sep.join([f"{s:.6f}"] + [f"{v:.6f}" for v in row]) for s, row in zip(stamps, xyz)]
        (folder / f"{folder.name}_{sensor}.log").write_text("\n".join(lines) + "\n")
    return folder


@pytest.fixture
def padova_tree(tmp_path):
    """3 users x 2 walks of 30 s in the Padova layout."""
    root = tmp_path / "padova"
    for user in (1, 2, 3):
        for walk in (1, 2):
            write_walk(root, user, walk, seed=10 * user + walk)
    return root


@pytest.fixture(scope="session")
def trained_run(tmp_path_factory):
    """A BiPedalNet run on tiny synthetic data, trained once for the session."""
    from gaitbnn import data
    from gaitbnn.training import fit

    out = tmp_path_factory.mktemp("runs") / "bipedalnet"
    dataset = data.load(TINY, (6, 98, 1), seed=0)
    metrics = fit.train("bipedalnet", dataset, out, epochs=12, batch_size=32, seed=0, verbose=0)
    return out, metrics, dataset
