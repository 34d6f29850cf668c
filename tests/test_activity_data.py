"""Activity data: windows and majority labels, attribute decoding, the LARa loader, the .npz format."""
import numpy as np
import pandas as pd
import pytest

from conftest import write_lara
from gaitbnn.data import activity, lara, npz
from gaitbnn.data.windows import majority, sliding
from gaitbnn.errors import InputError
from gaitbnn.training.scoring import decode_attributes, scores


def test_sliding_windows_stride_and_majority_label():
    signal = np.arange(20, dtype=float)[:, None] * [1, 10]
    classes = np.array([0] * 7 + [2] * 9 + [1] * 4)
    attributes = np.zeros((20, 3))
    attributes[7:12, 0] = 1  # class 2 with two attribute vectors: [1,0,0] x5 and [0,0,0] x4
    x, y, a = sliding(signal, classes, attributes, steps=8, stride=4)
    assert x.shape == (4, 8, 2)  # starts 0, 4, 8, 12; a window never crosses the end
    assert list(x[:, 0, 0]) == [0, 4, 8, 12]
    # 0..7: seven 0s; 4..11: three 0s, five 2s; 8..15: all 2s; 12..19: four 2s, four 1s (tie: the smaller)
    assert list(y) == [0, 2, 2, 1]
    assert list(a[1]) == [1, 0, 0]  # most frequent attribute vector of the majority class
    assert list(a[2]) == [0, 0, 0]  # samples 8..15 of class 2: [1,0,0] x4, [0,0,0] x4: tie, the first sorted
    assert list(a[3]) == [0, 0, 0]
    assert sliding(signal[:5], classes[:5], None, 8, 4)[0].shape == (0, 8, 2)


def test_majority_ties_go_to_the_smaller_class():
    assert majority([3, 3, 1, 1, 2]) == 1


def test_nearest_attribute_vector_decoding_on_a_hand_made_table():
    table = np.array([[1, 0, 0, 1], [0, 1, 0, 1], [0, 1, 1, 0], [0, 0, 0, 0]], np.float32)
    classes = np.array([5, 2, 2, 7])
    predicted = np.array([[0.9, 0.1, 0.2, 0.8],   # row 0 -> class 5
                          [0.2, 0.7, 0.6, 0.3],   # row 2 -> class 2
                          [0.1, 0.2, 0.1, 0.1],   # row 3 -> class 7
                          [0.4, 0.6, 0.1, 0.9]])  # row 1 -> class 2
    assert list(decode_attributes(predicted, table, classes)) == [5, 2, 7, 2]


def test_scores_match_the_thesis_definitions():
    y, p = np.array([0, 0, 0, 1]), np.array([0, 0, 1, 1])
    s = scores(y, p)
    assert s["accuracy"] == 0.75
    f1 = {0: 2 * 1 * (2 / 3) / (1 + 2 / 3), 1: 2 * 0.5 * 1 / 1.5}
    assert s["mean_f1"] == pytest.approx((f1[0] + f1[1]) / 2)
    assert s["weighted_f1"] == pytest.approx(0.75 * f1[0] + 0.25 * f1[1])


# --- the LARa layout -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("sensors, subjects, channels", [
    ("mbientlab", [f"S{i:02d}" for i in range(7, 15)], 30),
    ("mocap", [f"S{i:02d}" for i in range(1, 15)], 126),
])
def test_lara_loader_reads_both_sensor_sets_and_splits_by_subject(tmp_path, sensors, subjects, channels):
    root = write_lara(tmp_path / sensors, sensors, subjects)
    kind, recs = lara.recordings(root)
    assert kind == sensors and len(recs) == len(subjects)
    assert recs[0].signal.shape[1] == channels and recs[0].attributes.shape[1] == 19
    window = lara.SENSORS[sensors]["window"]
    data = activity.load(str(root))
    assert data.input_shape == (window, channels)
    assert 0.0 <= data.x_train.min() and data.x_train.max() <= 1.0
    split = lara.SPLITS[lara.SENSORS[sensors]["split"]]
    assert (len(split["train"]), len(split["val"]), len(split["test"])) == \
        ((4, 2, 2) if sensors == "mbientlab" else (8, 3, 3))
    per_subject = len(data.y_test) // len(split["test"])
    assert len(data.y_train) == per_subject * len(split["train"])  # every subject in exactly one split
    assert set(np.unique(data.attribute_table_classes)) <= set(range(8))


def test_lara_normalization_uses_training_subjects_only(tmp_path):
    root = write_lara(tmp_path / "imu", "mbientlab", [f"S{i:02d}" for i in range(7, 15)])
    test_file = root / "S14" / "L01_S14_R01.csv"
    frame = pd.read_csv(test_file)
    frame[lara.MBIENTLAB_CHANNELS] += 1000.0  # a test subject far off: must not move the training range
    frame.to_csv(test_file, index=False)
    data = activity.load(str(root))
    low = np.array(data.normalization["low"])
    assert np.all(low < 10)
    assert np.all(data.x_test[-1] == 1.0)  # clipped at the top of the training range


@pytest.mark.parametrize("damage, message", [
    (lambda r: (r / "S07" / "L01_S07_R01_labels.csv").unlink(), "no labels file"),
    (lambda r: _drop_rows(r / "S08" / "L01_S08_R01_labels.csv", 5), "label rows for"),
    (lambda r: _set(r / "S09" / "L01_S09_R01.csv", 3, "LA_GyroscopeY", "nan"), "row 5: sensor column LA_GyroscopeY"),
    (lambda r: _set(r / "S09" / "L01_S09_R01_labels.csv", 2, "Class", 9), "class 9 is not one of 0-7"),
    (lambda r: _set(r / "S10" / "L01_S10_R01_labels.csv", 1, "IV-D_Cart", 3), "attributes must be 0 or 1"),
    (lambda r: _drop_column(r / "S11" / "L01_S11_R01.csv", "RL_GyroscopeZ"), "channel columns missing"),
    (lambda r: _drop_column(r / "S11" / "L01_S11_R01_labels.csv", "VI-A_Error"), "attribute columns missing"),
    (lambda r: [p.unlink() for p in (r / "S13").glob("*.csv")] and
     [p.unlink() for p in (r / "S14").glob("*.csv")], "no windows of the test subjects"),
    (lambda r: (r / "S12" / "L01_S12_R01.csv").write_text(""), "cannot read the sensor data"),
])
def test_lara_bad_files_are_one_line_errors(tmp_path, damage, message):
    root = write_lara(tmp_path / "imu", "mbientlab", [f"S{i:02d}" for i in range(7, 15)])
    damage(root)
    with pytest.raises(InputError, match=message) as err:
        activity.load(str(root))
    assert "\n" not in str(err.value)


def _drop_rows(path, count):
    frame = pd.read_csv(path)
    frame.iloc[:-count].to_csv(path, index=False)


def _set(path, row, column, value):
    frame = pd.read_csv(path).astype({column: object})
    frame.loc[row, column] = value
    frame.to_csv(path, index=False)


def _drop_column(path, column):
    pd.read_csv(path).drop(columns=[column]).to_csv(path, index=False)


def test_lara_folder_errors(tmp_path):
    with pytest.raises(InputError, match="no such dataset folder"):
        lara.recordings(tmp_path / "absent")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="no LARa subject folders"):
        lara.recordings(tmp_path / "empty")
    (tmp_path / "empty" / "S07").mkdir()
    with pytest.raises(InputError, match="no LARa recordings"):
        lara.recordings(tmp_path / "empty")


# --- bring your own .npz ---------------------------------------------------------------------------------------

def separable(n=240, steps=20, channels=4, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, classes, n)
    x = rng.normal(size=(n, steps, channels)).astype(np.float32)
    x[np.arange(n), :, y % channels] += 3.0
    return x, y


def test_npz_with_subjects_is_split_subject_wise(tmp_path):
    x, y = separable()
    subject = np.repeat(np.arange(6), 40)
    np.savez(tmp_path / "mine.npz", x=x, y=y * 10 + 5, subject=subject)
    data = activity.load(str(tmp_path / "mine.npz"), seed=3)
    assert data.class_names == ["5", "15", "25"] and data.input_shape == (20, 4)
    assert len(data.y_train) + len(data.y_val) + len(data.y_test) == 240
    assert len(data.y_val) % 40 == 0 and len(data.y_test) % 40 == 0 and len(data.y_val) >= 40
    # one-hot class codes stand in for attributes
    assert data.attribute_table.shape == (3, 3)


def test_npz_split_array_is_used_as_given(tmp_path):
    x, y = separable(n=30)
    split = np.array(["train"] * 20 + ["val"] * 5 + ["test"] * 5)
    np.savez(tmp_path / "mine.npz", x=x, y=y, split=split)
    data = activity.load(str(tmp_path / "mine.npz"))
    assert (len(data.y_train), len(data.y_val), len(data.y_test)) == (20, 5, 5)


def test_npz_without_subjects_is_stratified(tmp_path):
    x, y = separable(n=300)
    np.savez(tmp_path / "mine.npz", x=x, y=y)
    data = activity.load(str(tmp_path / "mine.npz"))
    assert len(data.y_train) == 180 and set(data.y_test) == {0, 1, 2}


def _arrays(**change):
    x, y = separable(n=30)
    arrays = {"x": x, "y": y}
    arrays.update(change)
    return {k: v for k, v in arrays.items() if v is not None}


@pytest.mark.parametrize("arrays, message", [
    (_arrays(x=None), "missing array 'x'"),
    (_arrays(y=None), "missing array 'y'"),
    (_arrays(y=np.zeros(29, int)), "x has 30 windows but y has 29 labels"),
    (_arrays(x=np.full((30, 20, 4), np.nan, np.float32)), "NaN or infinite"),
    (_arrays(x=np.full((30, 20, 4), np.inf, np.float32)), "NaN or infinite"),
    (_arrays(x=np.zeros((30, 20), np.float32)), "x has rank 2"),
    (_arrays(y=np.zeros(30, int)), "a single class"),
    (_arrays(y=np.linspace(0, 1, 30)), "not integer labels"),
    (_arrays(y=np.array(["a", "b"] * 15)), "not integer labels"),
    (_arrays(subject=np.arange(10)), "subject has 10 entries for 30 windows"),
    (_arrays(split=np.array(["train"] * 30)), "no val or test windows"),
    (_arrays(split=np.array(["train", "dev", "test"] * 10)), "split holds dev"),
    (_arrays(attributes=np.full((30, 5), 2)), "attributes must be an"),
])
def test_npz_bad_files_are_one_line_errors(tmp_path, arrays, message):
    path = tmp_path / "bad.npz"
    np.savez(path, **arrays)
    with pytest.raises(InputError, match=message) as err:
        activity.load(str(path))
    assert "\n" not in str(err.value) and str(path) in str(err.value)


def test_npz_that_is_not_an_npz(tmp_path):
    path = tmp_path / "bad.npz"
    path.write_text("not a zip")
    with pytest.raises(InputError, match="cannot read the .npz"):
        npz.read(path)


def test_synthetic_default_is_lara_shaped_and_marked():
    data = activity.load("synthetic:seconds=8", seed=0)
    assert data.synthetic and "SYNTHETIC" in data.description
    assert data.input_shape == (100, 30) and data.classes == 8 and len(data.attribute_names) == 19
    with pytest.raises(InputError, match="sensors must be one of"):
        activity.load("synthetic:sensors=kinect")
