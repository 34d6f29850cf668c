"""Loaders on files written in the real datasets' layouts and quirks (REAL-LAYOUTS.md), and on real recordings.

Every quirk a real archive shows is handled, counted in ``problems`` and reported, not fatal: OU-ISIR's header
lines and units, LARa's label headers, folder level, datetime column, ragged rows and protocol, CASIA-B's
incomplete archives and near-empty frames, IDNet's gaps, bad timestamps and duplicated walks.
"""
import json
import shutil

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from conftest import shared_data, silhouette, write_casia_sequence, write_lara, write_ouisir, write_png, write_walk
from gaitbnn import inspection
from gaitbnn.cli import main
from gaitbnn.data import activity, auth, casia_b, dataset, gei, lara, ou_isir, padova
from gaitbnn.data.problems import Problems
from gaitbnn.data.windows import sliding
from gaitbnn.errors import InputError

IMU_SUBJECTS = [f"S{i:02d}" for i in range(7, 15)]


def kinds(problems):
    return {p.kind: p.count for p in problems}


# --- OU-ISIR ----------------------------------------------------------------------------------------------------

def test_ouisir_reads_the_two_header_lines_and_converts_g_to_m_per_s2(tmp_path):
    path = write_ouisir(tmp_path / "IMUZCenter" / "T0_ID000104_Walk1.csv", 600)
    table = np.loadtxt(path, delimiter=",", skiprows=2)
    (rec,) = ou_isir.recordings(tmp_path)
    assert rec.user == "ID000104" and rec.signal.shape == (600, 3)
    np.testing.assert_allclose(rec.signal, table[:, 3:] * 9.80665, rtol=1e-9)
    assert rec.signal[:, 1].mean() == pytest.approx(-9.80665, abs=0.05)  # -1 g at rest on one axis
    assert rec.times[1] == pytest.approx(0.01)


def test_ouisir_counts_short_walks_zero_gyroscopes_and_header_mismatches(tmp_path):
    root = tmp_path / "IMUZCenter"
    for person in (1, 2, 3):
        write_ouisir(root / f"T0_ID{person:06d}_Walk1.csv", 700, seed=person)
        write_ouisir(root / f"T0_ID{person:06d}_Walk2.csv", 300, seed=person + 10)  # 3 s: under one 5.12 s segment
    write_ouisir(root / "T0_ID000004_Walk1.csv", 700, gyro_zero=True)
    write_ouisir(root / "T0_ID000005_Walk1.csv", 700, header_rows=650)
    data = auth.load(f"ouisir:{root}", split=False)
    problems = kinds(data.problems)
    assert problems == {"gyroscope_all_zero": 1, "row_count_differs": 1, "shorter_than_a_segment": 3}
    assert data.summary["subjects"] == 5 and data.summary["recordings"] == 8
    assert len(data.y) == 5  # one segment from each 7 s walk, none from the short ones
    assert data.problems.get("shorter_than_a_segment").examples[0].endswith("T0_ID000001_Walk2.csv")


def test_ouisir_bad_header_is_one_line(tmp_path):
    path = write_ouisir(tmp_path / "T0_ID000001_Walk1.csv", 100)
    path.write_text(path.read_text().replace("cols: 6", "cols: 9"))
    with pytest.raises(InputError, match="header says cols: 9"):
        ou_isir.recordings(tmp_path)


# --- LARa -------------------------------------------------------------------------------------------------------

def test_lara_accepts_lowercase_class_nested_imu_data_and_datetime_time(tmp_path):
    root = write_lara(tmp_path / "IMU data" / "IMU data", "mbientlab", IMU_SUBJECTS)
    for subject in IMU_SUBJECTS:
        data_file = root / subject / f"L01_{subject}_R01.csv"
        frame = pd.read_csv(data_file)
        frame["Time"] = pd.date_range("2019-05-03 10:00:00", periods=len(frame), freq="10ms").strftime(
            "%Y-%m-%d %H:%M:%S.%f")
        frame.to_csv(data_file, index=False)
        labels_file = root / subject / f"L01_{subject}_R01_labels.csv"
        pd.read_csv(labels_file).rename(columns={"Class": "class"}).to_csv(labels_file, index=False)
    problems = Problems()
    sensors, recs = lara.recordings(tmp_path / "IMU data", problems)
    assert sensors == "mbientlab" and len(recs) == 8 and recs[0].signal.shape[1] == 30
    assert kinds(problems) == {"nested_folder": 1}
    assert problems.get("nested_folder").examples == [str(root)]


def test_lara_ragged_rows_are_read_as_the_authors_reader_does(tmp_path):
    root = write_lara(tmp_path / "imu", "mbientlab", IMU_SUBJECTS)
    path = root / "S07" / "L01_S07_R01.csv"
    lines = path.read_text().splitlines()
    original = pd.read_csv(path)
    lines[5] = "999," + lines[5]  # an extra leading field: read without it
    lines[9] = lines[9] + ",1,2"  # two fields too many: dropped
    path.write_text("\n".join(lines) + "\n")
    labels = root / "S07" / "L01_S07_R01_labels.csv"
    label_lines = labels.read_text().splitlines()
    del label_lines[9]  # the dropped row's label goes too, so that rows and labels still pair
    labels.write_text("\n".join(label_lines) + "\n")
    problems = Problems()
    _, rec = lara.read_recording(path, problems)
    assert kinds(problems) == {"extra_leading_field": 1, "ragged_row_dropped": 1}
    np.testing.assert_allclose(rec.signal[4], original[lara.MBIENTLAB_CHANNELS].to_numpy()[4])
    assert len(rec.signal) == len(original) - 1


def test_authors_protocol_deletes_none_rows_and_ors_attributes():
    signal = np.arange(12, dtype=float)[:, None]
    classes = np.array([1, 1, 7, 7, 1, 1, 2, 2, 2, 1, 1, 1])
    attributes = np.zeros((12, 3))
    attributes[0, 0] = attributes[7, 2] = 1
    rec = lara.ActivityRecording("S07", signal, classes, attributes, "here")
    problems = Problems()
    (kept,) = activity.apply_protocol([rec], "authors", problems)
    assert list(kept.classes) == [1, 1, 1, 1, 2, 2, 2, 1, 1, 1] and kinds(problems) == {"none_rows_deleted": 2}
    x, y, a = sliding(kept.signal, kept.classes, kept.attributes, 4, 4, rule="or")
    assert list(x[:, 0, 0]) == [0, 6] and list(y) == [1, 2]  # windows over the remaining rows
    assert a.tolist() == [[1, 0, 0], [0, 0, 1]]  # OR over samples, whatever their class
    assert activity.apply_protocol([rec], "majority", Problems())[0] is rec


def test_reproduce_btcnn_default_protocol_is_the_authors_and_is_recorded(tmp_path):
    root = write_lara(tmp_path / "imu", "mbientlab", IMU_SUBJECTS, seconds=5.0)  # classes 0..7 for 50 rows each
    authors = activity.load(str(root))
    majority = activity.load(str(root), protocol="majority")
    assert authors.options["protocol"] == "authors" and majority.options["protocol"] == "majority"
    assert lara.NONE_CLASS not in set(authors.y_train) and lara.NONE_CLASS in set(majority.y_train)
    assert kinds(authors.problems)["none_rows_deleted"] == 8 * 50
    result = CliRunner().invoke(main, ["train", "btcnn-conv1", "--data", str(root), "--window", "24", "--stride", "12",
                                       "--epochs", "1", "--batch-size", "64", "--out", str(tmp_path / "run")])
    assert result.exit_code == 0, result.output
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["data_options"]["protocol"] == "authors"
    assert config["data_problems"][0]["kind"] == "none_rows_deleted"


# --- CASIA-B ----------------------------------------------------------------------------------------------------

def casia_tree(root, subjects=("001", "002", "005"), views=(54, 72, 90)):
    for subject in subjects:
        for view in views:
            for condition in ("nm-01", "nm-02", "nm-03", "nm-04", "nm-05", "bg-01", "cl-01"):
                write_casia_sequence(root, subject, condition, view)
    return root


def test_casia_b_skips_incomplete_parts_with_one_warning_and_drops_near_empty_frames(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("GAITBNN_CACHE", str(tmp_path / "cache"))
    root = casia_tree(tmp_path / "CASIA-B")
    shutil.rmtree(root / "005" / "nm-03" / "090")  # subject 005 incomplete, as in the real archive
    (root / "002" / "bg-02" / "054").mkdir(parents=True)  # an empty view folder
    noise = np.zeros((30, 40))
    noise[3, 3:30] = 1  # 27 white pixels: a near-empty frame
    write_png(root / "001" / "cl-01" / "090" / "001-cl-01-090-009.png", noise)
    write_png(root / "002" / "cl-01" / "054" / "001-cl-01-054-009.png", noise)
    for frame in (root / "002" / "cl-01" / "054").glob("*-00[12].png"):
        frame.unlink()  # a sequence left with near-empty frames only
    data = gei.load(str(root), input_shape=(16, 16, 1))
    problems = kinds(data.problems)
    assert problems == {"empty_view_folder": 1, "near_empty_frames": 2, "no_usable_frame": 1,
                        "incomplete_subject_view": 1}
    assert data.problems.get("incomplete_subject_view").examples == ["005@090 (no nm-03)"]
    assert data.problems.get("no_usable_frame").examples == ["002/cl-01/054"]
    assert data.summary["subjects"] == 3 and data.classes == 3
    # 3 subjects x 3 views x 4 nm, less 005@090: 32 training GEIs
    assert len(data.y_train) + len(data.y_val) == 32
    # the warning is printed once, listing the parts, when a command loads it
    from gaitbnn import data as datasets

    datasets.load_family("gei", str(root), 0, (16, 16, 1))
    err = capsys.readouterr().err
    assert err.count("warning:") == 4 and "005@090 (no nm-03)" in err
    # a second read comes from the cache with the same problems
    assert kinds(gei.load(str(root), input_shape=(16, 16, 1)).problems) == problems


def test_casia_b_with_nothing_usable_is_an_error(tmp_path, monkeypatch):
    monkeypatch.setenv("GAITBNN_CACHE", str(tmp_path / "cache"))
    folder = tmp_path / "casia" / "001" / "nm-01" / "090"
    noise = np.zeros((30, 40))
    noise[3, 3:10] = 1
    write_png(folder / "a.png", noise)
    (tmp_path / "casia" / "001" / "nm-02" / "090").mkdir(parents=True)
    with pytest.raises(InputError, match="no usable CASIA-B sequence"):
        casia_b.records(tmp_path / "casia", progress=None)


def test_near_empty_threshold_is_the_public_pretreatments():
    frame = silhouette(pixels_high=6)  # 36 white pixels: 9180 <= 10000
    assert frame.sum() * 255 <= casia_b.NEAR_EMPTY_SUM < silhouette(pixels_high=7).sum() * 255


# --- IDNet / Padova ---------------------------------------------------------------------------------------------

def shift_times_after(path, row, seconds):
    """Move every sample from ``row`` on ``seconds`` later in a log with ns timestamps (a gap)."""
    frame = pd.read_csv(path, sep="\t")
    frame.iloc[row:, 0] += seconds * 1e9
    frame.to_csv(path, sep="\t", index=False, float_format="%.6f")


def padova_tree(root, users=(1, 2, 3), walks=(1, 2, 3), seconds=12):
    for user in users:
        for walk in walks:
            write_walk(root, user, walk, seconds=seconds, seed=10 * user + walk)
    return root


def test_a_gap_splits_the_walk_instead_of_being_interpolated(tmp_path):
    root = padova_tree(tmp_path / "idnet")
    for sensor in ("accelerometer", "gyroscope"):  # 200 s without samples after 5 s, as in u012_w001
        shift_times_after(root / "u001_w001" / f"u001_w001_{sensor}.log", 500, 200.0)
    problems = Problems()
    recs = [r for r in padova.recordings(root, problems) if (r.user, r.session) == ("u001", "w001")]
    assert len(recs) == 2 and kinds(problems) == {"gap_split": 1}  # one gap, though seen in both sensors' logs
    assert recs[0].times[-1] < 5.0 and recs[1].times[0] > 200.0
    data = dataset.load(str(root), (6, 98, 1))
    assert data.summary["recordings"] == 9  # the pieces stay one walk
    total = len(data.y_train) + len(data.y_val) + len(data.y_test)
    assert total == 8 * 6 + 2 + 3  # 5 s -> 2 windows, 7 s -> 3 windows; none across the gap


def test_repeated_and_backwards_timestamps_are_dropped_and_counted(tmp_path):
    root = padova_tree(tmp_path / "idnet")
    path = root / "u002_w003" / "u002_w003_gyroscope.log"
    lines = path.read_text().splitlines()
    lines[40] = lines[39]  # a repeated sample
    stamp, *rest = lines[60].split("\t")
    lines[60] = "\t".join([str(float(stamp) - 5e8)] + rest)  # half a second back
    path.write_text("\n".join(lines) + "\n")
    problems = Problems()
    times, readings = padova.read_log(path, problems)
    assert kinds(problems) == {"timestamps_dropped": 2} and np.all(np.diff(times) > 0)
    assert len(times) == len(lines) - 1 - 2


def test_the_same_walk_under_two_users_is_left_out_of_both(tmp_path):
    root = padova_tree(tmp_path / "idnet")
    copy = root / "u003_w004"
    copy.mkdir()
    for sensor in ("accelerometer", "gyroscope"):
        shutil.copy(root / "u002_w001" / f"u002_w001_{sensor}.log", copy / f"u003_w004_{sensor}.log")
    problems = Problems()
    walks = {(r.user, r.session) for r in padova.recordings(root, problems)}
    assert ("u002", "w001") not in walks and ("u003", "w004") not in walks and len(walks) == 8
    assert problems.get("duplicate_across_users").examples == ["u002_w001 = u003_w004"]
    kept = {(r.user, r.session) for r in padova.recordings(root, keep_duplicates=True)}
    assert ("u002", "w001") in kept and ("u003", "w004") in kept


def test_walk_split_holds_out_whole_walks_for_every_user_and_is_seeded(tmp_path):
    root = padova_tree(tmp_path / "idnet", walks=(1, 2, 3, 4, 5), seconds=8)
    x, y, walks, users, _ = dataset.windows_by_user(padova.recordings(root), 98, 2.0, 5)
    train, val, test = dataset.walk_split(y, walks, seed=4)
    assert not (set(walks[train]) | set(walks[val])) & set(walks[test])
    assert not set(walks[train]) & set(walks[val])
    assert {int(v) for v in y[test]} == {0, 1, 2} and {int(v) for v in y[val]} == {0, 1, 2}
    again = dataset.walk_split(y, walks, seed=4)
    assert all(np.array_equal(a, b) for a, b in zip((train, val, test), again))
    assert not np.array_equal(dataset.walk_split(y, walks, seed=5)[2], test)
    data = dataset.load(str(root), (6, 98, 1), seed=4, split="walks")
    assert data.options["split"] == "walks" and "whole walks held out" in data.description
    test_walks = data.test_groups["walk"]  # each test window's walk, for the walk vote
    assert len(test_walks) == len(data.y_test) and set(test_walks) == set(walks[test])
    assert all(name.split("/")[0] == data.class_names[label] for name, label in zip(test_walks, data.y_test))


def test_siamese_walk_split_holds_out_whole_sessions():
    data = auth.load("synthetic:users=4,sessions=3,seconds=30", seed=2, split="walks")
    for person in range(4):
        train = set(data.sessions[data.train][data.y[data.train] == person])
        test = set(data.sessions[data.test][data.y[data.test] == person])
        assert test and train and not train & test and len(train | test) == 3
    assert data.options == {"split": "walks"} and "whole walks held out" in data.description
    paper = auth.load("synthetic:users=4,sessions=3,seconds=30", seed=2)
    assert paper.options == {"split": "windows"} and len(paper.test) == pytest.approx(0.2 * len(paper.y), abs=4)


def test_walk_split_needs_two_walks_per_user(tmp_path):
    root = padova_tree(tmp_path / "idnet", walks=(1,), seconds=30)
    with pytest.raises(InputError, match="user u001 has 1 walk .*needs at least 2 per user"):
        dataset.load(str(root), (6, 98, 1), split="walks")


# --- gaitbnn data -----------------------------------------------------------------------------------------------

KEYS = {"subjects", "recordings", "seconds", "sample_rate_hz", "windows", "problems"}


def _data_json(*argv):
    result = CliRunner().invoke(main, ["data", *map(str, argv), "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_data_reports_a_padova_folder_with_its_problems(tmp_path):
    root = padova_tree(tmp_path / "idnet")
    shutil.copytree(root / "u001_w001", root / "u002_w009")
    for p in (root / "u002_w009").iterdir():
        p.rename(p.with_name(p.name.replace("u001_w001", "u002_w009")))
    report = _data_json(root, "--split", "walks")
    assert KEYS <= set(report) and report["family"] == "gait" and not report["synthetic"]
    assert (report["subjects"], report["recordings"]) == (3, 8)
    assert report["sample_rate_hz"] == {"min": 100.0, "median": 100.0, "max": 100.0}
    assert sum(report["windows"].values()) == 8 * 6 and report["options"]["split"] == "walks"
    (problem,) = report["problems"]
    assert problem["kind"] == "duplicate_across_users" and problem["count"] == 1
    assert problem["example"] == "u001_w001 = u002_w009"


def test_data_reports_every_other_family(tmp_path, monkeypatch):
    monkeypatch.setenv("GAITBNN_CACHE", str(tmp_path / "cache"))
    synthetic = _data_json("synthetic:users=4,seconds=20")
    assert synthetic["synthetic"] and synthetic["subjects"] == 4 and synthetic["family"] == "gait"
    lara_root = write_lara(tmp_path / "imu", "mbientlab", IMU_SUBJECTS, seconds=5.0)
    report = _data_json(lara_root)
    assert report["family"] == "activity" and report["subjects"] == 8 and report["seconds"] == 8 * 5.0
    assert report["options"]["protocol"] == "authors" and report["problems"][0]["kind"] == "none_rows_deleted"
    casia = _data_json(casia_tree(tmp_path / "casia", subjects=("001", "002")))
    assert casia["family"] == "gei" and casia["subjects"] == 2 and casia["recordings"] == 2 * 3 * 7
    for person in (1, 2):
        write_ouisir(tmp_path / "ou" / f"T0_ID{person:06d}_Walk1.csv", 1100, seed=person)
    ouisir = _data_json(f"ouisir:{tmp_path / 'ou'}")
    assert ouisir["family"] == "auth" and ouisir["subjects"] == 2 and ouisir["windows"]["test"] == 4
    x = np.random.default_rng(0).normal(size=(60, 20, 3)).astype(np.float32)
    np.savez(tmp_path / "mine.npz", x=x, y=np.arange(60) % 3)
    npz = _data_json(tmp_path / "mine.npz")
    assert npz["family"] == "activity" and npz["recordings"] is None and sum(npz["windows"].values()) == 60


def test_data_text_summary_and_bad_sources(tmp_path):
    result = CliRunner().invoke(main, ["data", "synthetic:users=3,seconds=20"])
    assert result.exit_code == 0 and "subjects:    3" in result.output and "SYNTHETIC" in result.output
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "x.txt").write_text("x")
    for source, fragment in ((tmp_path / "absent", "no such dataset folder or file"),
                             (tmp_path / "other", "not a known dataset layout"),
                             ("zju:", "name the source")):
        result = CliRunner().invoke(main, ["data", str(source)])
        assert result.exit_code == 1 and result.output.count("\n") == 1 and fragment in result.output, result.output


# --- real recordings (../shared/data) ---------------------------------------------------------------------------

def test_real_ouisir_inertial_database_reads_496_subjects():
    root = shared_data("ou-isir-inertial", "ManualExtractionData1", "IMUZCenter")
    report = inspection.inspect(f"ouisir:{root}")
    assert (report["subjects"], report["recordings"]) == (496, 992)
    assert report["sample_rate_hz"]["median"] == 100.0
    short = {p["kind"]: p["count"] for p in report["problems"]}["shorter_than_a_segment"]
    assert 0 < short < 992 and report["windows"]["test"] > 0


def test_real_phone_gait_15_reads_15_subjects_and_675_walks():
    root = shared_data("phone-gait-15")
    report = inspection.inspect(str(root), options={"split": "walks"})
    assert (report["subjects"], report["recordings"]) == (15, 675)
    assert report["sample_rate_hz"]["median"] == pytest.approx(50.0)
    assert report["windows"]["test"] > 0 and report["problems"] == []


@pytest.mark.parametrize("folder, source, family", [
    ("lara-imu", "{path}", "activity"),
    ("lara-mocap", "{path}", "activity"),
    ("casia-b", "{path}", "gei"),
    ("zju-gaitacc", "zju:{path}", "auth"),
    ("mcgill", "mcgill:{path}", "auth"),
    ("idnet", "{path}", "gait"),
])
def test_real_dataset_if_present_reads_without_error(folder, source, family):
    """Any real dataset placed in ../shared/data/<folder> is read end to end (none of these is there today)."""
    path = shared_data(folder)
    report = inspection.inspect(source.format(path=path), family)
    assert report["subjects"] and sum(report["windows"].values()) > 0
