"""Every (family, source form) pair: a family refuses another family's source in one line that says who reads
it and which forms this family takes (issue 25); its own forms get past the check."""
import numpy as np
import pytest
from click.testing import CliRunner

from conftest import write_casia_sequence, write_lara, write_walk
from gaitbnn.cli import main
from gaitbnn.data import forms


@pytest.fixture(scope="module")
def sources(tmp_path_factory):
    """One source of every form, in its real layout (a prefix form's path need not exist for the check)."""
    root = tmp_path_factory.mktemp("forms")
    write_walk(root / "padova", 1, 1, seconds=10)
    write_lara(root / "lara", "mbientlab", ["S07"])
    np.savez(root / "windows.npz", x=np.zeros((4, 10, 3), np.float32), y=np.array([0, 1, 0, 1]))
    write_casia_sequence(root / "casia", "001", "nm-01", 90)
    paths = {"synthetic": "synthetic", "padova": str(root / "padova"), "lara": str(root / "lara"),
             "npz": str(root / "windows.npz"), "casia-b": str(root / "casia")}
    paths.update({prefix: f"{prefix}:{root / prefix}" for prefix in forms.AUTH_PREFIXES})
    assert {forms.form_of(s) for s in paths.values()} == set(forms.FORMS)
    return paths


PAIRS = [(family, form) for family in forms.FAMILY_FORMS for form in forms.FORMS]


@pytest.mark.parametrize("family, form", PAIRS)
def test_each_family_refuses_the_forms_of_another(sources, family, form):
    if form in forms.FAMILY_FORMS[family]:
        forms.require(family, sources[form])  # its own form: no error (reading it is the loaders' tests)
        return
    result = CliRunner().invoke(main, ["data", sources[form], "--family", family])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1, result.output
    line = result.output
    owner = forms.family_of_form(form)
    assert f"{forms.FORMS[form]} is data of the {forms.FAMILY_MODELS[owner]}" in line
    assert f"not of the {forms.FAMILY_MODELS[family]}" in line
    assert all(forms.FORMS[f] in line for f in forms.FAMILY_FORMS[family]), line


def test_a_model_refuses_another_familys_source_before_training(sources, tmp_path):
    result = CliRunner().invoke(main, ["train", "bipedalnet", "--data", sources["ouisir"], "--out", tmp_path / "o"])
    assert result.exit_code == 1 and "ouisir:PATH is data of the siamese models" in result.output
    assert not (tmp_path / "o").exists()
    padova = CliRunner().invoke(main, ["data", sources["padova"], "--family", "auth"])
    assert f"pass idnet:{sources['padova']} to read its accelerometer" in padova.output
