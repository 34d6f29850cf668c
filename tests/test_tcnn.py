"""tCNN / BtCNN: layer structure, which layers are binary per configuration, export to binary ops."""
import numpy as np
import pytest

from gaitbnn import models
from gaitbnn.models import tcnn

CONFIGS = {"tcnn": 0, "btcnn-conv1": 1, "btcnn-conv1-2": 2, "btcnn-conv1-3": 3, "btcnn-conv1-4": 4}
SMALL = (24, 6)


def is_binary(layer):
    """Sign weights and sign inputs: what LCE turns into LceBconv2d."""
    kq, iq = getattr(layer, "kernel_quantizer", None), getattr(layer, "input_quantizer", None)
    return getattr(kq, "precision", 32) == 1 and getattr(iq, "precision", 32) == 1


@pytest.mark.parametrize("name, binary", CONFIGS.items())
@pytest.mark.parametrize("head", ["", "-attr"])
def test_first_j_convolutions_are_binary_the_rest_float(name, binary, head):
    model = models.build(name + head, SMALL)
    for i in range(1, 5):
        conv = model.get_layer(f"conv{i}")
        assert conv.kernel_size == (5, 1) and conv.filters == 64 and conv.padding == "valid"
        assert is_binary(conv) == (i <= binary)
        assert conv.use_bias == (i > binary)  # binary layers: BatchNorm instead of a bias
    for fc, units in (("fc1", 128), ("fc2", 128), ("fc3", 19 if head else 8)):
        assert model.get_layer(fc).units == units and not is_binary(model.get_layer(fc))
    assert [layer.rate for layer in model.layers if "dropout" in layer.name] == [0.5, 0.5]
    assert model.layers[-1].name == ("sigmoid" if head else "softmax")
    assert ("thermometer" in [layer.name for layer in model.layers]) == (binary > 0)


def test_no_pooling_and_each_channel_convolved_separately():
    model = models.build("tcnn", SMALL)
    assert not [layer for layer in model.layers if "pool" in layer.name]
    # valid 5x1 kernels shorten time by 4 per layer and keep every channel as its own column
    assert model.get_layer("conv4").output_shape == (None, 24 - 16, 6, 64)
    assert model.get_layer("fc1").kernel.shape == ((24 - 16) * 6 * 64, 128)


def test_parameter_counts_at_the_lara_mbientlab_input():
    counts = models.count_params(models.build("tcnn"))
    convs = (5 * 64 + 64) + 3 * (5 * 64 * 64 + 64)
    fcs = (84 * 30 * 64 * 128 + 128) + (128 * 128 + 128) + (128 * 8 + 8)
    assert counts["params"] == convs + fcs == 20_723_528
    binary = models.count_params(models.build("btcnn-conv1-4"))
    assert binary["binary_params"] == 5 * 32 * 64 + 3 * 5 * 64 * 64  # thermometer code: 32 input channels


def test_sign_of_a_normalized_input_is_constant_but_the_thermometer_keeps_amplitude():
    x = np.linspace(0, 1, 11, dtype=np.float32).reshape(1, 11, 1, 1)
    assert set(np.sign(x).ravel()) <= {0.0, 1.0}  # why conv1 cannot just take sign(x)
    code = np.asarray(tcnn.Thermometer(4)(x))[0, :, 0, :]
    assert code.shape == (11, 4) and set(code.ravel()) == {-1.0, 1.0}
    levels = (code > 0).sum(axis=1)  # how many thresholds k/5 each value reaches
    assert list(levels) == [int(np.floor(v * 5 + 1e-6)) if v < 1 else 4 for v in np.linspace(0, 1, 11)]


def test_fully_binary_btcnn_is_six_binary_convolutions_in_at_most_3_mib(tmp_path):
    """btcnn-binary at the mbientlab default (100 x 30): conv1-4 and fc1-2 land in LceBconv2d, nothing else
    holds weights but the small float output layer (and the thermometer's thresholds), and the flatbuffer is at
    most 3 MiB (the tCNN's ~79 MiB)."""
    from gaitbnn import export, families

    model, x = families.fresh_model("btcnn-binary", seed=0, count=8)
    report = export.export(model, "btcnn-binary", "arm64", tmp_path, x)
    assert report["ops"]["LceBconv2d"] == 6
    # float convolutions: the 1x1 output layer (128 x 8) and the thermometer as a 1x1 threshold convolution
    assert report["rewrites"]["applied"] == {"thermometer_as_threshold_conv": ["thermometer"],
                                             "deep_binary_conv_writes_floats": ["fc1_bn"]}  # depth 161,280
    assert report["ops"].get("CONV_2D", 0) == 2
    assert "FULLY_CONNECTED" not in report["ops"]
    assert report["size_bytes"] <= 3 * 2**20
    assert report["parity"]["argmax_agreement"] == 1.0
    counts = models.count_params(model)
    assert counts["binary_params"] == 5 * 32 * 64 + 3 * 5 * 64 * 64 + 84 * 30 * 64 * 128 + 128 * 128
    assert counts["float_params"] == 4 * 3 * 64 + 2 * 3 * 128 + (128 * 8 + 8)  # BatchNorms, output layer
