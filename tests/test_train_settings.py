"""``gaitbnn train``'s settings (``training.settings``): precedence, reruns from config.json, refused options."""
import json

import pytest

from gaitbnn.errors import InputError
from gaitbnn.models import recipes
from gaitbnn.training import settings

NOTHING = dict.fromkeys(settings.DEFAULTS)


def given(**values):
    return {**NOTHING, **values}


def test_the_model_recipe_fills_what_is_not_given():
    chosen = settings.resolve("bipedalnet", given(epochs=3), {})
    assert chosen.name == "bipedalnet" and chosen.data_options == {}
    assert chosen.settings["epochs"] == 3 and chosen.settings["data"] == "synthetic" and chosen.settings["seed"] == 0
    assert chosen.settings["batch_size"] == recipes.BIPEDALNET["batch_size"]
    assert chosen.settings["learning_rate"] == recipes.BIPEDALNET["learning_rate"]
    activity = settings.resolve("tcnn", given(), dict(window=24, stride=None))
    assert activity.settings["batch_size"] == recipes.BTCNN["batch_size"] and activity.data_options == {"window": 24}


def test_a_rerun_takes_the_config_and_the_options_given_override_it(tmp_path):
    config = tmp_path / "config.json"
    config.write_text(json.dumps(dict(model="idnet", data="synthetic:users=3", epochs=7, batch_size=16,
                                      learning_rate=0.01, seed=4, recipe="best", data_options={"split": "walks"})))
    chosen = settings.resolve(None, given(epochs=2), dict(keep_duplicates=True), config)
    assert chosen.name == "idnet"
    assert {k: chosen.settings[k] for k in ("data", "epochs", "batch_size", "learning_rate", "seed", "recipe")} == \
        dict(data="synthetic:users=3", epochs=2, batch_size=16, learning_rate=0.01, seed=4, recipe="best")
    assert chosen.data_options == {"split": "walks", "keep_duplicates": True}
    assert settings.resolve("bipedalnet", given(), {}, config).name == "bipedalnet"  # NAME beats the config's


def test_a_data_option_of_another_family_is_refused_by_its_flag():
    with pytest.raises(InputError, match=r"^--lara-protocol, --window: not an option of the gait data bipedalnet"):
        settings.resolve("bipedalnet", given(), dict(protocol="authors", window=24))
    with pytest.raises(InputError, match="--split: not an option of the activity data"):
        settings.resolve("tcnn", given(), dict(split="walks"))


def test_bad_settings_are_one_clear_error(tmp_path):
    with pytest.raises(InputError, match="give a model NAME"):
        settings.resolve(None, given(), {})
    with pytest.raises(InputError, match="unknown model 'nonet'"):
        settings.resolve("nonet", given(), {})
    not_a_run = tmp_path / "other.json"
    not_a_run.write_text(json.dumps({"model": "idnet"}))
    with pytest.raises(InputError, match=r"other.json: not a gaitbnn run config \(no data, epochs"):
        settings.resolve(None, given(), {}, not_a_run)
    with pytest.raises(ValueError, match="not run settings"):
        settings.resolve("idnet", dict(epoch=3), {})
