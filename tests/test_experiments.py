"""Every registered experiment runs through the CLI on its tiny settings, writes what it reports, and is reused."""
import pytest
from click.testing import CliRunner

from gaitbnn import experiments
from gaitbnn.cli import main

# Text each experiment's tables must show: the paper's own numbers beside the measured ones.
PAPER_NUMBERS = {
    "bipedalnet": ("98.05", "41.45", "95.91", "1.28", "296416 / 296416", "SYNTHETIC", "| split | recipe | data |",
                   "Binarized IDNet, BNN-style (ours, not in the paper)"),
    "bipedalnet-ablation": ("paper recipe (Sec. 2.3)", "+ overlapping training windows", "(measured, not kept)",
                            "Float IDNet", "(best recipe)", "SYNTHETIC", "arm64 KiB", "walk vote %",
                            "aarch64 instructions", "bipedalnet-float-ends"),
    "btcnn": ("Tables 5.3.8 / 5.3.9", "0.755 / ", "Tables 5.3.2-5.3.7 (the thesis' TRAINING results)", "SYNTHETIC"),
    "lresnet": ("Table 4", "25.6", "13.0", "SYNTHETIC GEIs"),
    "siamese": ("Table 3", "2.36%", "SYNTHETIC"),
    "verification": ("11.48", "7.55", "94.8", "744", "EER walk %", "SYNTHETIC", "arm64 KiB", "aarch64 instructions"),
}


def test_every_experiment_has_paper_numbers_to_show():
    assert set(PAPER_NUMBERS) == set(experiments.names())


@pytest.mark.parametrize("name", experiments.names())
def test_experiment_runs_through_the_cli_and_is_reused(name, tmp_path):
    experiment = experiments.get(name)
    out = tmp_path / name
    argv = ["reproduce", name, *experiment.tiny, "--out", str(out)]
    result = CliRunner().invoke(main, argv)
    assert result.exit_code == 0, result.output
    for text in PAPER_NUMBERS[name]:
        assert text in result.output, text
    written = result.output.strip().splitlines()[-1]
    assert written.startswith(f"written in {out}: ")
    for file in written.split(": ", 1)[1].split(", "):
        assert (out / file).exists(), file
    assert "results.json" in written
    again = CliRunner().invoke(main, argv)
    assert again.exit_code == 0 and "reusing the complete" in again.output, again.output
    other = CliRunner().invoke(main, [*argv[:2], *experiment.tiny, "--seed", "7", "--out", str(out)])
    assert other.exit_code == 1 and "other settings: pass --force" in other.output, other.output


def test_unknown_model_of_an_experiment_is_one_line(tmp_path):
    result = CliRunner().invoke(main, ["reproduce", "bipedalnet", "--models", "vgg8", "--out", str(tmp_path / "o")])
    assert result.exit_code == 1 and "not in 'bipedalnet'" in result.output
    assert not (tmp_path / "o").exists()
