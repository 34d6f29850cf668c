"""The bad-input matrix: every input the CLI takes, broken one way at a time.

Each case must end with a non-zero exit, exactly one error line that names the
input and says what to do, no traceback, and nothing written.
"""
import json
import shutil

import numpy as np
import pytest
from click.testing import CliRunner

from conftest import TINY, write_lara, write_ouisir, write_png, write_walk
from gaitbnn.cli import main


def padova(tmp, users=(1, 2, 3)):
    root = tmp / "padova"
    for user in users:
        for walk in (1, 2):
            write_walk(root, user, walk, seconds=20, seed=user * 10 + walk)
    return root


def edit_row(root, walk, sensor, line, row):
    path = root / walk / f"{walk}_{sensor}.log"
    lines = path.read_text().splitlines()
    lines[line - 1] = row
    path.write_text("\n".join(lines) + "\n")
    return root


def train_on(data):
    return ["train", "bipedalnet", "--data", str(data), "--epochs", 1, "--out", "{tmp}/out"]


def broken_run(tmp, trained, damage):
    run_dir = tmp / "run"
    shutil.copytree(trained, run_dir)
    damage(run_dir)
    return run_dir


# (case id, setup(tmp, trained_run_dir) -> argv, fragment of the error line, exit code)
CASES = [
    # dataset paths and layouts
    ("data-missing", lambda t, r: train_on(t / "absent"), "no such dataset folder", 1),
    ("data-is-a-file", lambda t, r: train_on(t / "file"), "not a folder", 1),
    ("data-empty-folder", lambda t, r: train_on(t / "empty"), "no walk folders", 1),
    ("data-truncated-log", lambda t, r: train_on(
        _write(padova(t) / "u002_w001" / "u002_w001_gyroscope.log", "gyroscope_timestamp\tx\ty\tz\n")),
     "empty or truncated", 1),
    ("data-wrong-columns", lambda t, r: train_on(edit_row(padova(t), "u001_w001", "accelerometer", 9, "1\t2\t3")),
     "3 columns, expected 4", 1),
    ("data-nan", lambda t, r: train_on(edit_row(padova(t), "u003_w002", "gyroscope", 4, "1\tnan\t0\t0")),
     "NaN or infinite", 1),
    ("data-inf", lambda t, r: train_on(edit_row(padova(t), "u003_w002", "accelerometer", 6, "1\t0\tinf\t0")),
     "NaN or infinite", 1),
    ("data-not-a-number", lambda t, r: train_on(edit_row(padova(t), "u002_w002", "gyroscope", 3, "1\t0\t?\t0")),
     "not a number", 1),
    ("data-one-walk-split-walks", lambda t, r: train_on(_one_walk_user(padova(t))) + ["--split", "walks"],
     "needs at least 2 per user", 1),
    ("data-duplicates-only", lambda t, r: train_on(_all_duplicates(t)), "pass --keep-duplicates", 1),
    ("inspect-missing", lambda t, r: ["data", t / "absent"], "no such dataset folder or file", 1),
    ("inspect-unknown-layout", lambda t, r: ["data", t / "empty"], "not a known dataset layout", 1),
    ("inspect-unknown-family", lambda t, r: ["data", "synthetic", "--family", "eeg"], "'--family'", 2),
    ("inspect-ouisir-bad-header", lambda t, r: ["data", f"ouisir:{_ouisir_cols(t, 9)}"], "header says cols: 9", 1),
    ("inspect-casia-nothing-usable", lambda t, r: ["data", _casia_near_empty(t)], "no usable CASIA-B sequence", 1),
    ("inspect-lara-no-class", lambda t, r: ["data", _lara_without_class(t)], "no 'Class' (or 'class') column", 1),
    ("split-unknown", lambda t, r: ["train", "bipedalnet", "--split", "people", "--out", "{tmp}/out"], "'--split'", 2),
    ("split-on-activity-model", lambda t, r: ["train", "tcnn", "--split", "walks", "--out", "{tmp}/out"],
     "--split: not an option of the activity data", 1),
    ("keep-duplicates-on-siamese-model", lambda t, r: ["train", "lenet4", "--keep-duplicates", "--out", "{tmp}/out"],
     "--keep-duplicates: not an option of the auth data", 1),
    ("lara-protocol-on-gait-model", lambda t, r: ["train", "bipedalnet", "--lara-protocol", "majority", "--out",
                                                  "{tmp}/out"], "--lara-protocol: not an option of the gait data", 1),
    ("reproduce-split-other-paper", lambda t, r: ["reproduce", "btcnn", "--split", "walks", "--out", "{tmp}/out"],
     "No such option '--split'", 2),
    ("data-too-few-samples", lambda t, r: train_on(_short_user(padova(t))), "needs at least 5", 1),
    ("data-missing-sensor", lambda t, r: train_on(_unlink(padova(t) / "u001_w002" / "u001_w002_gyroscope.log")),
     "missing u001_w002_gyroscope.log", 1),
    ("data-one-user", lambda t, r: train_on(padova(t, users=(1,))), "needs at least 2 users", 1),
    ("synthetic-unknown-option", lambda t, r: train_on("synthetic:colour=2"), "unknown synthetic option", 1),
    ("synthetic-not-a-number", lambda t, r: train_on("synthetic:users=many"), "is not a number", 1),
    ("synthetic-zero-users", lambda t, r: train_on("synthetic:users=0"), "must be positive", 1),
    # run directories
    ("run-missing", lambda t, r: ["evaluate", t / "absent"], "no such run directory", 1),
    ("run-incomplete", lambda t, r: ["evaluate", broken_run(t, r, lambda d: (d / "metrics.json").unlink())],
     "incomplete run", 1),
    ("run-corrupt-model", lambda t, r: ["evaluate", broken_run(t, r, lambda d: _write(d / "model.h5", "x"))],
     "cannot load the model", 1),
    ("run-corrupt-metrics", lambda t, r: ["evaluate", broken_run(t, r, lambda d: _write(d / "metrics.json", "{"))],
     "cannot read run metrics", 1),
    ("run-without-model", lambda t, r: ["export", broken_run(t, r, lambda d: (d / "model.h5").unlink()),
                                        "--out", "{tmp}/out"], "has no model.h5", 1),
    ("run-complete-no-force", lambda t, r: ["train", "bipedalnet", "--data", TINY, "--out", r],
     "complete run already", 1),
    ("config-missing", lambda t, r: ["train", "--config", t / "absent.json", "--out", "{tmp}/out"],
     "missing run config", 1),
    ("config-not-a-run", lambda t, r: ["train", "--config", _write(t / "c.json", "{}"), "--out", "{tmp}/out"],
     "not a gaitbnn run config", 1),
    # model names and export targets
    ("model-unknown-train", lambda t, r: ["train", "resnet", "--out", "{tmp}/out"], "unknown model 'resnet'", 1),
    ("model-missing-train", lambda t, r: ["train", "--out", "{tmp}/out"], "give a model NAME", 1),
    ("model-unknown-summary", lambda t, r: ["summary", "resnet"], "unknown model 'resnet'", 1),
    ("model-unknown-export", lambda t, r: ["export", "resnet", "--out", "{tmp}/out"], "unknown model 'resnet'", 1),
    ("target-unknown", lambda t, r: ["export", "bipedalnet", "--target", "gpu", "--out", "{tmp}/out"],
     "'--target'", 2),
    ("flatbuffer-not-tflite", lambda t, r: ["benchmark", t / "file"], "not a TFLite flatbuffer", 1),
    ("flatbuffer-missing", lambda t, r: ["benchmark", t / "absent.tflite"], "cannot read", 1),
    ("benchmark-nothing", lambda t, r: ["benchmark"], "either FLATBUFFER.tflite or --compare", 1),
    # numeric options out of range
    ("epochs-zero", lambda t, r: ["train", "bipedalnet", "--epochs", 0, "--out", "{tmp}/out"], "'--epochs'", 2),
    ("epochs-negative", lambda t, r: ["train", "bipedalnet", "--epochs", -3, "--out", "{tmp}/out"], "'--epochs'", 2),
    ("epochs-not-a-number", lambda t, r: ["train", "bipedalnet", "--epochs", "ten", "--out", "{tmp}/out"],
     "'--epochs'", 2),
    ("batch-size-zero", lambda t, r: ["train", "bipedalnet", "--batch-size", 0, "--out", "{tmp}/out"],
     "'--batch-size'", 2),
    ("learning-rate-zero", lambda t, r: ["train", "bipedalnet", "--learning-rate", 0, "--out", "{tmp}/out"],
     "'--learning-rate'", 2),
    ("learning-rate-negative", lambda t, r: ["train", "bipedalnet", "--learning-rate", -1e-3, "--out", "{tmp}/out"],
     "'--learning-rate'", 2),
    ("benchmark-runs-zero", lambda t, r: ["benchmark", "--compare", "bipedalnet", "--runs", 0], "'--runs'", 2),
    ("benchmark-threads-zero", lambda t, r: ["benchmark", "--compare", "bipedalnet", "--threads", 0],
     "'--threads'", 2),
    ("distribute-unknown", lambda t, r: ["train", "bipedalnet", "--distribute", "tpu", "--out", "{tmp}/out"],
     "'--distribute'", 2),
    # a source of another family's form (issue 25): who reads it, which forms this family takes
    ("data-another-familys-prefix", lambda t, r: train_on(f"ouisir:{t / 'ou'}"), "is data of the siamese models", 1),
    ("data-another-familys-npz", lambda t, r: train_on(t / "windows.npz"), "is data of the activity models", 1),
    ("data-padova-folder-for-siamese", lambda t, r: ["train", "lenet4", "--data", padova(t), "--out", "{tmp}/out"],
     "to read its accelerometer", 1),
    ("data-command-another-family", lambda t, r: ["data", f"zju:{t}", "--family", "gei"], "not of the GEI models", 1),
    # flatbuffers on the aarch64 runtime
    ("aarch64-missing-flatbuffer", lambda t, r: ["benchmark", t / "absent.tflite", "--aarch64"], "cannot read", 1),
    ("aarch64-not-a-flatbuffer", lambda t, r: ["benchmark", t / "file", "--aarch64"], "not a TFLite flatbuffer", 1),
    ("aarch64-no-flatbuffer", lambda t, r: ["benchmark", "--aarch64"], "give either FLATBUFFER.tflite", 1),
    # interrupted reproductions
    ("reproduce-steps-of-other-settings", lambda t, r: ["reproduce", "siamese", "--out", _steps_of(t, {"seed": 9})],
     "holds steps of a reproduction with other settings", 1),
    # open-set verification (issue 28)
    ("verify-one-recording-per-person", lambda t, r: ["train", "bipedalnet-embedding", "--data",
                                                      f"ouisir:{_ouisir_people(t, 6, walks=1)}", "--epochs", 1,
                                                      "--out", "{tmp}/out"], "every person has one recording", 1),
    ("verify-too-few-people", lambda t, r: ["train", "bipedalnet-embedding", "--data",
                                            f"ouisir:{_ouisir_people(t, 3)}", "--epochs", 1, "--out", "{tmp}/out"],
     "the protocol needs at least 4", 1),
    ("verify-a-classifier-run", lambda t, r: ["evaluate", r, "--protocol", "verification"],
     "the verification protocol needs an embedding run", 1),
    ("verify-share-out-of-range", lambda t, r: ["reproduce", "verification", "--train-share", "1.5", "--out",
                                                "{tmp}/out"], "between 0 and 1", 2),
    # output folders that cannot be written
    ("out-under-a-file", lambda t, r: ["train", "bipedalnet", "--data", TINY, "--epochs", 1, "--out", t / "file" / "o"],
     "cannot write the output folder", 1),
    ("export-out-under-a-file", lambda t, r: ["export", "bipedalnet", "--out", t / "file" / "o"],
     "cannot write the output folder", 1),
]


def _write(path, text):
    path.write_text(text)
    return path.parents[1] if path.suffix == ".log" else path


def _unlink(path):
    path.unlink()
    return path.parents[1]


def _one_walk_user(root):
    write_walk(root, 9, 1, seconds=20)
    return root


def _all_duplicates(tmp):
    root = tmp / "dups"
    first = write_walk(root, 1, 1, seconds=20)
    copy = root / "u002_w001"  # the same recording filed under a second user
    copy.mkdir()
    for log in first.iterdir():
        (copy / log.name.replace("u001_w001", "u002_w001")).write_bytes(log.read_bytes())
    return root


def _ouisir_cols(tmp, cols):
    path = write_ouisir(tmp / "ou" / "T0_ID000001_Walk1.csv", 600)
    path.write_text(path.read_text().replace("cols: 6", f"cols: {cols}"))
    return path.parent


def _ouisir_people(tmp, people, walks=2):
    for p in range(1, people + 1):
        for w in range(1, walks + 1):
            write_ouisir(tmp / "ou" / f"T0_ID{p:06d}_Walk{w}.csv", 520, seed=10 * p + w)
    return tmp / "ou"


def _casia_near_empty(tmp):
    noise = np.zeros((30, 40))
    noise[3, 3:10] = 1
    write_png(tmp / "casia" / "001" / "nm-01" / "090" / "001-nm-01-090-001.png", noise)
    return tmp / "casia"


def _lara_without_class(tmp):
    root = write_lara(tmp / "imu", "mbientlab", ["S07", "S08"], seconds=1.0)
    labels = root / "S07" / "L01_S07_R01_labels.csv"
    labels.write_text(labels.read_text().replace("Class,", "Label,", 1))
    return root


def _steps_of(tmp, setting):
    """An output folder of an interrupted siamese reproduction made with ``setting``."""
    (tmp / "interrupted" / "steps").mkdir(parents=True)
    (tmp / "interrupted" / "steps" / "setting.json").write_text(json.dumps(setting))
    return tmp / "interrupted"


def _short_user(root):
    write_walk(root, 9, 1, seconds=5)
    return root


def snapshot(folder):
    return {str(p.relative_to(folder)): p.stat().st_mtime_ns for p in folder.rglob("*")}


@pytest.mark.parametrize("case, setup, fragment, code", CASES, ids=[c[0] for c in CASES])
def test_bad_input(case, setup, fragment, code, tmp_path, trained_run):
    (tmp_path / "file").write_text("a plain file")
    (tmp_path / "empty").mkdir()
    argv = [str(a).replace("{tmp}", str(tmp_path)) for a in setup(tmp_path, trained_run[0])]
    before_run, before_tmp = snapshot(trained_run[0]), snapshot(tmp_path)
    result = CliRunner().invoke(main, argv)
    assert result.exit_code == code, (case, result.output)
    assert "Traceback" not in result.output and not isinstance(result.exception, (AssertionError, TypeError))
    errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and fragment in errors[0], result.output
    if code == 1:
        assert len(result.output.strip().splitlines()) == 1, result.output  # the one line and nothing else
    assert not (tmp_path / "out").exists()  # nothing half-written
    assert snapshot(trained_run[0]) == before_run  # a complete run is left as it was
    assert snapshot(tmp_path) == before_tmp  # inputs untouched
