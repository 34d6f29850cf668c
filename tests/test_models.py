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


def test_scaled_logits_variant_is_table1_plus_one_batchnorm():
    """bipedalnet-scaled-logits (issue 24): Table 1's layers unchanged, and a BatchNorm with scale on the logits."""
    base, variant = models.build("bipedalnet"), models.build("bipedalnet-scaled-logits")
    assert [layer.name for layer in variant.layers] == [*[layer.name for layer in base.layers][:-2], "logits_bn",
                                                       "flatten", "softmax"]
    a, b = models.count_params(base), models.count_params(variant)
    assert b["binary_params"] == a["binary_params"] == 296416
    assert b["float_params"] == a["float_params"] + 4 * 38  # gamma, beta and the two moving statistics per class


def test_scaled_logits_fold_into_the_last_binary_convolution(tmp_path):
    from gaitbnn import export, families

    reports = {}
    for name in ("bipedalnet", "bipedalnet-scaled-logits"):
        model, x = families.fresh_model(name, count=16)
        reports[name] = export.export(model, name, "arm64", tmp_path / name, x)
    base, variant = reports["bipedalnet"], reports["bipedalnet-scaled-logits"]
    assert variant["ops"] == base["ops"]  # no extra MUL / ADD: folded into LceBconv2d's output transform
    assert variant["size_bytes"] <= 48 * 1024 and abs(variant["size_bytes"] - base["size_bytes"]) < 1024
    assert variant["parity"]["argmax_agreement"] == 1.0


def test_scaled_logits_are_real_where_table1_logits_are_integers():
    import numpy as np
    import tensorflow as tf

    from gaitbnn import families

    logits = {}
    for name in ("bipedalnet", "bipedalnet-scaled-logits"):
        model, x = families.fresh_model(name, count=16)
        if "scaled" in name:  # a learned scale, as training sets it (fresh weights start at 1)
            model.get_layer("logits_bn").gamma.assign(np.full(38, 0.3))
        before_softmax = tf.keras.Model(model.input, model.get_layer("flatten").output)
        logits[name] = before_softmax.predict(x, verbose=0)
    assert np.array_equal(logits["bipedalnet"], np.round(logits["bipedalnet"]))  # integers in [-32, 32]
    assert np.abs(logits["bipedalnet"]).max() <= 32
    assert not np.array_equal(logits["bipedalnet-scaled-logits"], np.round(logits["bipedalnet-scaled-logits"]))


def test_scaled_logits_variant_learns_synthetic_gait(tmp_path):
    from conftest import TINY
    from gaitbnn import data
    from gaitbnn.training import fit

    dataset = data.load(TINY, (6, 98, 1), seed=0)
    metrics = fit.train("bipedalnet-scaled-logits", dataset, tmp_path / "run", epochs=12, batch_size=32, seed=0,
                        verbose=0)
    assert metrics["test_accuracy"] >= 3 / dataset.classes  # chance is 1 / 5


def test_float_ends_variant_is_table1_with_its_first_and_last_layers_real():
    """bipedalnet-float-ends (issue 24): conv1's 288 and dense2's 32 x 38 weights (and dense2's bias) full
    precision; the four middle layers keep Table 1's binary weights."""
    base, variant = models.build("bipedalnet"), models.build("bipedalnet-float-ends")
    assert [layer.name for layer in variant.layers] == [layer.name for layer in base.layers]
    a, b = models.count_params(base), models.count_params(variant)
    assert b["binary_params"] == a["binary_params"] - 288 - 32 * 38 == 6144 + 12288 + 276480
    assert b["float_params"] == a["float_params"] + 288 + 32 * 38 + 38
    for name in ("conv1", "dense2"):  # real weights, as float16 values; real inputs
        layer = variant.get_layer(name)
        assert layer.kernel_quantizer.precision == 16 and layer.input_quantizer is None
    assert variant.get_layer("conv2").input_quantizer is not None  # the middle stays binary


def test_float_ends_variant_exports_its_middle_binary_within_48_kib(tmp_path):
    from gaitbnn import export, families

    model, x = families.fresh_model("bipedalnet-float-ends", count=16)  # Table 1's 38 classes: the largest output
    report = export.export(model, "bipedalnet-float-ends", "arm64", tmp_path, x)
    assert report["ops"][export.BINARY_OP] == 3  # conv2, conv3, dense1; dense2 reads real values: a float op
    # dense2's weights stored as float16; conv1's carry the BatchNorm the export folds into them (rewrites), so
    # float16 cannot hold them exactly and they stay float32
    assert report["ops"]["DEQUANTIZE"] == 1 and report["rewrites"]["applied"]["pool_after_batch_norm"] == ["pool1"]
    assert report["size_bytes"] <= 48 * 1024
    assert report["parity"]["argmax_agreement"] == 1.0 and report["parity"]["max_abs_diff"] <= 1e-5


@pytest.mark.parametrize("row", TABLE1["rows"], ids=lambda r: r["keras_layer"])
def test_strided_variant_keeps_every_table1_count_with_conv1_stepping_2_instead_of_the_pool(row):
    """bipedalnet-strided (issue 27): Table 1's layers and counts, conv1 strided (2, 2) in place of the 2x2
    max-pool, so bn1 sees the same 3 x 49 x 32 map from a quarter of conv1's outputs."""
    base, variant = models.build("bipedalnet"), models.build("bipedalnet-strided")
    if row["keras_layer"] == "pool1":
        assert "pool1" not in [layer.name for layer in variant.layers]
        assert variant.get_layer("conv1").strides == (2, 2) and base.get_layer("conv1").strides == (1, 1)
        assert variant.get_layer("bn1").output_shape == base.get_layer("bn1").output_shape == (None, 3, 49, 32)
        return
    counts = layer_counts(variant, row["keras_layer"])
    assert (counts["binary_params"], counts["float_params"]) == (row["one_bit_params"], row["float_params"])


def test_strided_variant_costs_a_third_fewer_aarch64_instructions_than_table1():
    """On the kernels a phone runs (skips without the aarch64 runtime): conv1 computes a quarter of its
    outputs and nothing pools; measured 260k against 414k guest instructions per inference."""
    from gaitbnn import aarch64, export, families

    runtime = aarch64.available()
    if runtime is None:
        pytest.skip(aarch64.missing_reason())
    runs = {}
    for name in ("bipedalnet", "bipedalnet-strided"):
        model, x = families.fresh_model(name, count=2)
        runs[name] = aarch64.run(export.phone_file(model, name, "arm64"), x, runtime=runtime)
        parity = export.compare_outputs(model.predict(x, verbose=0), runs[name].outputs[0])
        assert parity["max_abs_diff"] <= 1e-5 and parity["argmax_agreement"] == 1.0, parity
    table1, strided = (runs[name].instructions_by_op_type() for name in ("bipedalnet", "bipedalnet-strided"))
    assert "LceBMaxPool2d" in table1 and not {"LceBMaxPool2d", "MAX_POOL_2D"} & set(strided)
    assert strided["DEPTHWISE_CONV_2D"] < table1["DEPTHWISE_CONV_2D"] / 3
    assert runs["bipedalnet-strided"].instructions_per_inference < 0.7 * runs["bipedalnet"].instructions_per_inference


def test_shortcuts_variant_adds_the_real_map_each_binary_convolution_read():
    """bipedalnet-shortcuts (issue 24): float-ends' layers and counts; after conv2 and conv3 the BatchNorm output
    plus the real map the convolution read, cropped one sample at each end (conv2's 32 channels repeated)."""
    import numpy as np
    import tensorflow as tf

    base, variant = models.build("bipedalnet-float-ends"), models.build("bipedalnet-shortcuts")
    assert models.count_params(variant) == models.count_params(base)
    probe = tf.keras.Model(variant.input, [variant.get_layer(n).output for n in ("bn1", "bn2", "shortcut2", "bn3",
                                                                                 "shortcut3")])
    bn1, bn2, sum2, bn3, sum3 = probe.predict(np.random.default_rng(0).normal(size=(2, 6, 98, 1)), verbose=0)
    np.testing.assert_allclose(sum2, bn2 + np.concatenate([bn1[:, :, 1:-1]] * 2, axis=-1), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(sum3, bn3 + sum2[:, :, 1:-1], rtol=1e-6, atol=1e-6)
    assert variant.get_layer("dense1").input.shape == (None, 3, 45, 64)  # dense1 signs the sums


def test_shortcuts_variant_exports_within_48_kib_with_its_middle_binary(tmp_path):
    from gaitbnn import export, families

    model, x = families.fresh_model("bipedalnet-shortcuts", count=16)
    report = export.export(model, "bipedalnet-shortcuts", "arm64", tmp_path, x)
    assert report["ops"][export.BINARY_OP] == 3 and report["ops"]["ADD"] == 2  # the shortcuts: float adds
    assert report["size_bytes"] <= 48 * 1024
    assert report["parity"]["argmax_agreement"] == 1.0 and report["parity"]["max_abs_diff"] <= 1e-5


def train_variant_beside_table1(name, tmp_path, trained_run):
    """Train variant NAME on the tiny synthetic data as ``trained_run`` trained bipedalnet; assert it learns as well."""
    from conftest import TINY
    from gaitbnn import data
    from gaitbnn.training import fit

    _, table1, _ = trained_run  # bipedalnet, same data, epochs and seed
    dataset = data.load(TINY, (6, 98, 1), seed=0)
    metrics = fit.train(name, dataset, tmp_path / "run", epochs=12, batch_size=32, seed=0, verbose=0)
    assert metrics["test_accuracy"] >= max(0.7, table1["test_accuracy"] - 0.05)
    return dataset, metrics


def test_shortcuts_variant_learns_synthetic_gait_at_least_as_well_as_table1(tmp_path, trained_run):
    train_variant_beside_table1("bipedalnet-shortcuts", tmp_path, trained_run)


def test_float_ends_variant_learns_synthetic_gait_at_least_as_well_as_table1(tmp_path, trained_run):
    from gaitbnn.training import fit

    dataset, metrics = train_variant_beside_table1("bipedalnet-float-ends", tmp_path, trained_run)
    reloaded = fit.load_model(tmp_path / "run")  # its float16 quantizer is found by name
    predicted = fit.predict_classes(reloaded, dataset, dataset.x_test, "softmax")
    assert float((predicted == dataset.y_test).mean()) == metrics["test_accuracy"]
