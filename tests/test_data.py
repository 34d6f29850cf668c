"""Loaders on written files of the Padova layout, the synthetic generator, the split."""
import hashlib

import numpy as np
import pytest

from conftest import TINY, write_walk
from gaitbnn import data
from gaitbnn.data import padova, synthetic
from gaitbnn.errors import InputError


def tree_digest(root):
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(root.rglob("*"))
            if p.is_file()}


def test_padova_loader_reads_the_layout(padova_tree):
    before = tree_digest(padova_tree)
    ds = data.load(str(padova_tree), (6, 98, 1), seed=0)
    assert ds.class_names == ["u001", "u002", "u003"]
    assert ds.x_train.shape[1:] == (6, 98, 1)
    # 2 walks of 30 s (3000 samples at 100 Hz) per user -> 2 x 15 windows of 2 s
    assert len(ds.y_train) + len(ds.y_val) + len(ds.y_test) == 3 * 2 * 15
    assert set(np.unique(ds.y_test)) == {0, 1, 2}
    assert not ds.synthetic and str(padova_tree) in ds.description
    assert tree_digest(padova_tree) == before  # the loader never writes into the dataset


def test_split_shares_no_window_and_normalizes_with_train_only(padova_tree):
    ds = data.load(str(padova_tree), (6, 98, 1), seed=3)
    keys = [{x.tobytes() for x in part} for part in (ds.x_train, ds.x_val, ds.x_test)]
    assert not (keys[0] & keys[1]) and not (keys[0] & keys[2]) and not (keys[1] & keys[2])
    assert np.allclose(ds.x_train.mean(axis=(0, 2, 3)), 0, atol=1e-4)
    assert np.allclose(ds.x_train.std(axis=(0, 2, 3)), 1, atol=1e-3)
    assert abs(len(ds.y_test) / (len(ds.y_test) + len(ds.y_train) + len(ds.y_val)) - 0.2) < 0.05


def test_split_is_seeded(padova_tree):
    a = data.load(str(padova_tree), (6, 98, 1), seed=1)
    b = data.load(str(padova_tree), (6, 98, 1), seed=1)
    c = data.load(str(padova_tree), (6, 98, 1), seed=2)
    assert np.array_equal(a.x_test, b.x_test)
    assert not np.array_equal(a.x_test, c.x_test)


def test_windows_resample_to_the_model_input(tmp_path):
    for rate, unit in ((50.0, 1e3), (200.0, 1.0)):  # 50 Hz in ms, 200 Hz in s
        root = tmp_path / f"r{int(rate)}"
        for user in (1, 2):
            write_walk(root, user, 1, seconds=21, rate=rate, unit=unit, sep=",", header=False)
        for samples in (98, 200):
            ds = data.load(str(root), (6, samples, 1))
            assert ds.x_train.shape[1:] == (6, samples, 1)
            assert len(ds.y_train) + len(ds.y_val) + len(ds.y_test) == 2 * 10


def test_synthetic_is_deterministic_and_user_specific():
    a, b = synthetic.recordings(users=3, seconds=10), synthetic.recordings(users=3, seconds=10)
    assert all(np.array_equal(x.signal, y.signal) for x, y in zip(a, b))
    spectra = [np.abs(np.fft.rfft(r.signal[:, 2])) for r in a[::2]]
    assert np.argmax(spectra[0][5:]) != np.argmax(spectra[1][5:]) or not np.allclose(spectra[0], spectra[1])
    ds = data.load(TINY, (6, 98, 1))
    assert ds.synthetic and "SYNTHETIC" in ds.description and ds.classes == 5


@pytest.mark.parametrize("spec, message", [
    ("synthetic:users=0", "users must be positive"),
    ("synthetic:color=3", "unknown synthetic option 'color=3'"),
    ("synthetic:users=x", "'x' is not a number"),
])
def test_bad_synthetic_specs(spec, message):
    with pytest.raises(InputError, match=message):
        data.load(spec)


def test_missing_path(tmp_path):
    with pytest.raises(InputError, match="no such dataset folder"):
        data.load(str(tmp_path / "absent"))


def test_empty_folder(tmp_path):
    with pytest.raises(InputError, match=r"no walk folders \(uUUU_wWWW\)"):
        data.load(str(tmp_path))


def test_user_with_too_few_samples(padova_tree):
    write_walk(padova_tree, 4, 1, seconds=5)
    with pytest.raises(InputError, match=r"user u004 has 2 windows .* needs at least 5 .*u004_w001"):
        data.load(str(padova_tree))


def _replace_line(path, number, text):
    lines = path.read_text().splitlines()
    lines[number - 1] = text
    path.write_text("\n".join(lines) + "\n")


@pytest.mark.parametrize("walk, sensor, line, row, message", [
    ("u002_w001", "gyroscope", 7, "123\tabc\t0.1\t0.2", "not a number"),
    ("u001_w002", "accelerometer", 12, "1000000110000000\tnan\t0.1\t0.2", "NaN or infinite"),
    ("u003_w001", "accelerometer", 5, "1000000040000000\t0.1\t0.2", "3 columns, expected 4"),  # wrong channel count
])
def test_bad_row_names_file_and_line(padova_tree, walk, sensor, line, row, message):
    _replace_line(padova_tree / walk / f"{walk}_{sensor}.log", line, row)
    with pytest.raises(InputError, match=rf"{walk}_{sensor}.log, line {line}: {message}"):
        data.load(str(padova_tree))


def test_missing_sensor_log(padova_tree):
    (padova_tree / "u001_w001" / "u001_w001_gyroscope.log").unlink()
    with pytest.raises(InputError, match="missing u001_w001_gyroscope.log"):
        data.load(str(padova_tree))


def test_truncated_log(padova_tree):
    (padova_tree / "u002_w002" / "u002_w002_accelerometer.log").write_text("accelerometer_timestamp\tx\ty\tz\n")
    with pytest.raises(InputError, match="empty or truncated"):
        data.load(str(padova_tree))


def test_wrong_model_rows():
    with pytest.raises(InputError, match="model input has 3 rows"):
        data.load("synthetic", (3, 98, 1))


def test_read_log_infers_the_timestamp_unit(tmp_path):
    folder = write_walk(tmp_path, 1, 1, seconds=3, rate=100.0, unit=1e9)
    times, readings = padova.read_log(folder / "u001_w001_accelerometer.log")
    assert readings.shape == (300, 3)
    assert times[-1] == pytest.approx(2.99, abs=1e-6)
