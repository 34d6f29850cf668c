"""Models: exact Table 1 counts, IDNet near Table 2's 335k, the registry."""
import json
from pathlib import Path

import pytest

from gaitbnn import models
from gaitbnn.errors import InputError

TABLE1 = json.loads((Path(__file__).parents[1] / "experiments" / "bipedalnet_table1.json").read_text())


def layer_counts(model, layer_name):
    return models.count_layer_params([model.get_layer(layer_name)])


@pytest.mark.parametrize("row", TABLE1["rows"], ids=lambda r: r["keras_layer"])
def test_bipedalnet_matches_table1_row(row):
    counts = layer_counts(models.build("bipedalnet"), row["keras_layer"])
    assert counts["binary_params"] == row["one_bit_params"]
    assert counts["float_params"] == row["float_params"]


def test_bipedalnet_totals():
    counts = models.count_params(models.build("bipedalnet"))
    assert counts["binary_params"] == 288 + 6144 + 12288 + 276480 + 1216 == 296416
    assert counts["float_params"] == 96 + 192 + 192 + 96
    assert counts["memory_bytes"] == 296416 // 8 + 4 * 576


def test_bipedalnet_flattens_to_8640_from_the_derived_input():
    model = models.build("bipedalnet")
    assert model.input_shape == (None, 6, 98, 1)
    bn3 = model.get_layer("bn3").output_shape
    assert bn3[1] * bn3[2] * bn3[3] == 8640
    assert model.output_shape == (None, 38)


@pytest.mark.parametrize("name", ["idnet", "idnet-binary"])
def test_idnet_parameter_count_within_5_percent_of_table2(name):
    counts = models.count_params(models.build(name))
    assert abs(counts["params"] - 335_000) / 335_000 < 0.05


def test_idnet_memory_float_vs_binary():
    mib = 2**20
    assert round(models.count_params(models.build("idnet"))["memory_bytes"] / mib, 2) == pytest.approx(1.28, abs=0.02)
    assert models.count_params(models.build("idnet"))["binary_params"] == 0
    assert round(models.count_params(models.build("idnet-binary"))["memory_bytes"] / mib, 2) == 0.04


def test_unknown_model_is_an_input_error():
    with pytest.raises(InputError, match="unknown model 'nope'"):
        models.build("nope")
