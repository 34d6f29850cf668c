"""Rewrites at export (issue 27): each one leaves the trained function unchanged, gives the ops it claims, and
applies only where it is exact. Parity is against the model as trained, on x86 and (when built) on aarch64."""
import larq as lq
import numpy as np
import pytest
import tensorflow as tf

from gaitbnn import aarch64, export, families, rewrites
from gaitbnn import flatbuffer as tflite_file
from gaitbnn.models.blocks import BINARY, BINARY_WEIGHTS, OFF_THE_SHELF, Thermometer, batch_norm


def trained_statistics(model, x, seed=0):
    """BatchNorm statistics and offsets of a trained model: estimated on ``x``, offsets and scales drawn."""
    rng = np.random.default_rng(seed)
    for _ in range(5):
        model(x, training=True)
    for layer in model.layers:
        if isinstance(layer, tf.keras.layers.BatchNormalization):
            layer.beta.assign(rng.normal(0, 0.3, layer.beta.shape).astype(np.float32))
            if layer.scale:
                layer.gamma.assign(rng.normal(0, 1, layer.gamma.shape).astype(np.float32))  # both signs
    return model


def pooled_bn_net(scale=False):
    inputs = tf.keras.Input((6, 24, 1))
    x = lq.layers.QuantConv2D(32, 3, padding="same", name="conv1", **BINARY_WEIGHTS)(inputs)
    x = tf.keras.layers.MaxPooling2D(2, name="pool1")(x)
    x = (tf.keras.layers.BatchNormalization(name="bn1") if scale else batch_norm("bn1"))(x)
    x = lq.layers.QuantConv2D(32, (1, 3), name="conv2", **BINARY)(x)
    x = batch_norm("bn2")(x)
    x = tf.keras.layers.Flatten()(x)
    return tf.keras.Model(inputs, tf.keras.layers.Dense(5, activation="softmax")(x))


def thermometer_net(consumer=BINARY):
    inputs = tf.keras.Input((20, 6))
    x = tf.keras.layers.Reshape((20, 6, 1))(inputs)
    x = Thermometer(8, name="thermometer")(x)
    x = lq.layers.QuantConv2D(32, (3, 1), name="conv1", **consumer)(x)
    x = batch_norm("bn1")(x)
    x = tf.keras.layers.Flatten()(x)
    return tf.keras.Model(inputs, tf.keras.layers.Dense(5, activation="softmax")(x))


def narrow_net(channels=20, binary_first=False, shared=False):
    """A float (or binary) convolution with ``channels`` filters, its BatchNorm and max-pool, then a binary
    convolution with one-padding, as in lenet4-binary (20) and idnet-binary. ``shared``: the convolution's
    output is read by the dense layer too (so it cannot write the filling channels itself)."""
    inputs_ = tf.keras.Input((12, 16, 1))
    x = inputs_
    if binary_first:
        x = lq.layers.QuantConv2D(32, 3, padding="same", name="conv0", **BINARY_WEIGHTS)(x)
    x = lq.layers.QuantConv2D(channels, 3, padding="same", name="conv1",
                              **(BINARY if binary_first else dict(kernel_initializer="he_normal")))(x)
    conv1 = x
    x = batch_norm("bn1")(x)
    x = tf.keras.layers.MaxPooling2D(2, name="pool1")(x)
    x = lq.layers.QuantConv2D(24, 3, padding="same", pad_values=1.0, name="conv2", **BINARY)(x)
    x = batch_norm("bn2")(x)
    x = tf.keras.layers.Flatten()(x)
    if shared:
        x = tf.keras.layers.Concatenate()([x, tf.keras.layers.GlobalAveragePooling2D(name="mean")(conv1)])
    return tf.keras.Model(inputs_, tf.keras.layers.Dense(5, activation="softmax")(x))


def inputs(shape, count=48, seed=1):
    return (np.round(np.random.default_rng(seed).normal(size=(count, *shape)) * 8) / 8).astype(np.float32)


def check_exact(model, x, rewrite):
    """The rewritten model's outputs equal the original's, in Keras and in its arm64 flatbuffer."""
    rewritten = rewrites.for_phone(model, (rewrite,))
    expected = model.predict(x, verbose=0)
    assert np.array_equal(rewritten.predict(x, verbose=0), expected)
    flatbuffer = export.convert(rewritten, "arm64")
    parity = export.compare_outputs(expected, export.run_flatbuffer(flatbuffer, x))
    assert parity["max_abs_diff"] <= 1e-5 and parity["argmax_agreement"] == 1.0, parity
    return tflite_file.op_counts(flatbuffer), tflite_file.op_counts(export.convert(model, "arm64"))


def on_aarch64(model, rewritten, x, **options):
    """Both models' files on the aarch64 runtime (skips without it): their runs, outputs within 1e-5."""
    runtime = aarch64.available()
    if runtime is None:
        pytest.skip(aarch64.missing_reason())
    plain, after = (aarch64.run(export.convert(m, "arm64"), x, runtime=runtime, **options) for m in (model, rewritten))
    parity = export.compare_outputs(plain.outputs[0], after.outputs[0])  # LCE's float output transform can
    assert parity["max_abs_diff"] <= 1e-5 and parity["argmax_agreement"] == 1.0, parity  # round a last bit
    return plain, after


def test_pool_after_batch_norm_pools_bitpacked_words_with_outputs_unchanged():
    x = inputs((6, 24, 1))
    model = trained_statistics(pooled_bn_net(), x)
    assert rewrites.applied(model)["pool_after_batch_norm"] == ["pool1"]
    after, before = check_exact(model, x, "pool_after_batch_norm")
    assert before.get("MAX_POOL_2D") == 1 and before.get("MUL") == 1 and "LceBMaxPool2d" not in before
    assert after.get("LceBMaxPool2d") == 1 and not {"MAX_POOL_2D", "MUL", "ADD"} & set(after)  # BatchNorm folded


def test_a_batch_norm_with_a_negative_scale_is_not_moved():
    """max(bn(x)) is bn(max(x)) only where bn is non-decreasing: a negative scale turns it into a min."""
    x = inputs((6, 24, 1))
    model = trained_statistics(pooled_bn_net(scale=True), x)
    assert (model.get_layer("bn1").gamma.numpy() < 0).any()
    assert rewrites.applied(model)["pool_after_batch_norm"] == []
    assert rewrites.for_phone(model, ("pool_after_batch_norm",)) is model
    model.get_layer("bn1").gamma.assign(np.abs(model.get_layer("bn1").gamma.numpy()))
    assert rewrites.applied(model)["pool_after_batch_norm"] == ["pool1"]
    check_exact(model, x, "pool_after_batch_norm")


def test_depthwise_first_conv_computes_the_same_convolution():
    x = inputs((6, 24, 1))
    model = trained_statistics(pooled_bn_net(), x)
    assert rewrites.applied(model)["depthwise_first_conv"] == ["conv1"]
    after, before = check_exact(model, x, "depthwise_first_conv")
    assert before.get("CONV_2D") == 1 and after.get("DEPTHWISE_CONV_2D") == 1 and "CONV_2D" not in after


def test_depthwise_only_for_small_kernels_on_one_channel():
    inputs_ = tf.keras.Input((12, 12, 1))
    wide = tf.keras.layers.Conv2D(8, 5, name="wide")(inputs_)  # 25 taps: measured dearer as a depthwise conv
    deep = tf.keras.layers.Conv2D(8, 3, name="deep")(tf.keras.layers.Conv2D(2, 1, name="two")(inputs_))
    ones = lq.layers.QuantConv2D(8, 3, padding="same", pad_values=1.0, name="ones")(inputs_)  # pads with 1, not 0
    model = tf.keras.Model(inputs_, [wide, deep, ones])
    assert rewrites.first_convs(model) == ["two"]  # 1x1 on one channel; 'deep' sees two channels


def test_thermometer_becomes_one_threshold_conv_with_outputs_unchanged():
    x = np.random.default_rng(2).uniform(size=(48, 20, 6)).astype(np.float32)
    x[:4, :, 0] = 3 / 9  # exactly on a threshold: sign(0) is +1 on both sides
    model = trained_statistics(thermometer_net(), x)
    assert rewrites.applied(model)["thermometer_as_threshold_conv"] == ["thermometer"]
    after, before = check_exact(model, x, "thermometer_as_threshold_conv")
    assert before.get("LceDequantize") and before.get("SUB")
    assert not {"LceDequantize", "SUB"} & set(after) and after.get("LceQuantize") == 1


def test_a_thermometer_read_by_a_float_layer_is_kept():
    float_reader = dict(BINARY_WEIGHTS)  # binary weights, real input: it reads the +-1 code itself
    model = thermometer_net(float_reader)
    assert rewrites.applied(model)["thermometer_as_threshold_conv"] == [] and rewrites.for_phone(model) is model


def test_fill_binary_words_quantizes_whole_words_with_outputs_unchanged():
    """20 channels become 32: conv1 writes 12 more channels of 0 (zero filters; sign(0) is +1), and conv2's 12
    new input channels (6 weighted +1, 6 -1) add 0."""
    x = inputs((12, 16, 1))
    model = trained_statistics(narrow_net(), x)
    assert rewrites.applied(model)["fill_binary_words"] == ["bn1"]
    rewritten = rewrites.for_phone(model, ("fill_binary_words",))
    assert rewritten.get_layer("conv1").kernel.shape == (3, 3, 1, 32)
    assert rewritten.get_layer("conv2").kernel.shape == (3, 3, 32, 24)
    after, before = check_exact(model, x, "fill_binary_words")
    assert not {"PADV2", "PAD"} & set(after) and after.get("LceQuantize") == 1
    plain, filled = on_aarch64(model, rewritten, x[:2], op_invokes=1)
    assert filled.instructions_by_op_type()["LceQuantize"] < plain.instructions_by_op_type()["LceQuantize"] / 5


def test_fill_binary_words_pads_where_the_float_layer_has_other_readers():
    """conv1's output read elsewhere too: its BatchNorm's output gets 12 channels of +1 (a PADV2) instead."""
    x = inputs((12, 16, 1))
    model = trained_statistics(narrow_net(shared=True), x)
    rewritten = rewrites.for_phone(model, ("fill_binary_words",))
    assert rewritten.get_layer("conv1").kernel.shape == (3, 3, 1, 20)
    assert rewritten.get_layer("conv2").kernel.shape == (3, 3, 32, 24)
    after, before = check_exact(model, x, "fill_binary_words")
    assert "PADV2" not in before and after.get("PADV2") == 1 and after.get("LceQuantize") == 1


@pytest.mark.parametrize("channels", [21, 32, 64])
def test_fill_binary_words_only_for_an_even_channel_count_short_of_a_word(channels):
    """21: an odd number of new channels cannot cancel; 32 and 64 fill their words already."""
    assert rewrites.word_fills(narrow_net(channels)) == {}


def test_fill_binary_words_leaves_a_binary_convolution_output_alone():
    """LCE writes a binary convolution's output as bits itself: there is no LceQuantize to spare."""
    assert rewrites.word_fills(narrow_net(binary_first=True)) == {}
    assert rewrites.word_fills(narrow_net()) == {"bn1": ("conv2", 12)}


def deep_net(depth_channels=64):
    """A binary convolution over a whole 32 x 32 map (depth 32 * 32 * channels) whose BatchNorm a binary layer
    reads, as btcnn-binary's fc1 (depth 161,280)."""
    inputs_ = tf.keras.Input((32, 32, depth_channels))
    x = lq.layers.QuantConv2D(16, 32, name="dense1", **BINARY)(inputs_)
    x = batch_norm("bn1")(x)
    x = lq.layers.QuantConv2D(8, 1, name="dense2", **BINARY)(x)
    return tf.keras.Model(inputs_, tf.keras.layers.Flatten()(batch_norm("bn2")(x)))


def test_deep_binary_conv_writes_floats_on_neon_with_outputs_unchanged():
    """Depth 65,536: LCE accumulates in 32 bits and, writing bits, would run portable C++ for dense1."""
    x = inputs((32, 32, 64), count=8)
    model = trained_statistics(deep_net(), x)
    assert rewrites.applied(model)["deep_binary_conv_writes_floats"] == ["bn1"]
    assert rewrites.applied(deep_net(48))["deep_binary_conv_writes_floats"] == []  # 49,152: 16-bit sums
    after, before = check_exact(model, x, "deep_binary_conv_writes_floats")
    assert "MAXIMUM" not in before and before.get("LceQuantize") == 1  # dense1 writes bits for dense2
    assert after.get("MAXIMUM") == 1 and after.get("LceQuantize") == 2  # dense1 writes floats, quantized apart
    plain, floats = on_aarch64(model, rewrites.for_phone(model, ("deep_binary_conv_writes_floats",)), x[:2])
    assert floats.instructions_per_inference < 0.5 * plain.instructions_per_inference


def sample_net(taps=10, pool=2, width=40, strides=1, padding="valid", relu=False):
    """IDNet's first layers: a 1 x ``taps`` convolution with +-1 weights on the signal, its BatchNorm, a 1 x
    ``pool`` max-pool, then a binary convolution (idnet-binary); ``relu``: a ReLU after the BatchNorm and a float
    second convolution (float IDNet's order)."""
    inputs_ = tf.keras.Input((6, width, 1))
    x = lq.layers.QuantConv2D(32, (1, taps), strides=strides, padding=padding, name="conv1", **BINARY_WEIGHTS)(inputs_)
    x = batch_norm("bn1")(x)
    if relu:
        x = tf.keras.layers.ReLU(name="relu1")(x)
    x = tf.keras.layers.MaxPooling2D((1, pool), name="pool1")(x)
    x = lq.layers.QuantConv2D(16, (4, 3), name="conv2", **({} if relu else BINARY))(x)
    x = tf.keras.layers.Flatten()(batch_norm("bn2")(x))
    return tf.keras.Model(inputs_, tf.keras.layers.Dense(5, activation="softmax")(x))


@pytest.mark.parametrize("taps, relu", [(10, False), (11, True)])
def test_first_conv_on_sample_pairs_computes_the_same_convolution(taps, relu):
    """1x10 on 40 samples: 31 outputs, of which the pairs give 30 and pool1 reads 30; 1x11: all 30 as pairs
    (at most 9 taps the convolution is depthwise_first_conv's)."""
    x = inputs((6, 40, 1))
    model = trained_statistics(sample_net(taps, relu=relu), x)
    assert rewrites.applied(model)["first_conv_on_sample_pairs"] == ["conv1"]
    rewritten = rewrites.for_phone(model, ("first_conv_on_sample_pairs",))
    assert rewritten.get_layer("conv1").conv.kernel.shape == (1, taps // 2 + 1, 2, 64)
    assert rewritten.get_layer("bn1").moving_mean.shape == (64,)  # per channel, tiled over the pair
    after, before = check_exact(model, x, "first_conv_on_sample_pairs")
    assert after.get("RESHAPE", 0) == before.get("RESHAPE", 0) + 2 and after["CONV_2D"] == before["CONV_2D"]
    assert not {"MUL", "ADD", "RELU"} & set(after)  # BatchNorm and ReLU still folded into the convolution
    plain, paired = on_aarch64(model, rewritten, x[:2], op_invokes=1)
    assert paired.instructions_by_op_type()["CONV_2D"] < plain.instructions_by_op_type()["CONV_2D"]


@pytest.mark.parametrize("options", [dict(taps=6, pool=5), dict(width=39), dict(strides=(1, 2)),
                                     dict(width=39, padding="same", pool=3)])
def test_first_conv_on_sample_pairs_only_where_the_pairs_give_every_output_read(options):
    """1x6 on 40: 35 outputs, the pairs give 34, and a 1x5 pool reads all 35; an odd width 'valid', a stride:
    no pairs; 'same' on 39: the pairs give 38, and a 1x3 pool reads all 39. 1x6 under a 1x2 pool (which reads
    34), 'same' on an even width: pairs."""
    assert rewrites.sample_pair_convs(sample_net(**options)) == {}
    assert list(rewrites.sample_pair_convs(sample_net(taps=6))) == ["conv1"]
    assert list(rewrites.sample_pair_convs(sample_net(padding="same"))) == ["conv1"]


def spectrogram_net(width=15):
    """lenet4-binary's first layers: a float 5x5 'same' convolution on a one-channel map of odd width, its
    BatchNorm, a 2x2 max-pool (which never reads the last column), then a binary convolution."""
    inputs_ = tf.keras.Input((11, width, 1))
    x = tf.keras.layers.Conv2D(32, 5, padding="same", name="conv1")(inputs_)
    x = tf.keras.layers.MaxPooling2D(2, name="pool1")(batch_norm("bn1")(x))
    x = lq.layers.QuantConv2D(32, 3, padding="same", pad_values=1.0, name="conv2", **BINARY)(x)
    x = tf.keras.layers.Flatten()(batch_norm("bn2")(x))
    return tf.keras.Model(inputs_, tf.keras.layers.Dense(5, activation="softmax")(x))


def test_first_conv_on_sample_pairs_pads_a_same_conv_and_leaves_the_column_the_pool_drops():
    """5x5 'same' on 15 columns: TensorFlow's zeros (2 and 2) become 2 and 1, 28 padded columns, 14 pairs of
    5 x 3 pair taps giving 14 columns, the 14 that the 2x2 pool reads; outputs unchanged (lenet4-binary's conv1)."""
    x = inputs((11, 15, 1))
    model = trained_statistics(spectrogram_net(), x)
    assert rewrites.pair_padding(model.get_layer("conv1")) == (((2, 2), (2, 1)), 14)
    assert rewrites.applied(model)["first_conv_on_sample_pairs"] == ["conv1"]
    rewritten = rewrites.for_phone(model, ("first_conv_on_sample_pairs",))
    assert rewritten.get_layer("conv1").conv.kernel.shape == (5, 3, 2, 64)
    after, before = check_exact(model, x, "first_conv_on_sample_pairs")
    assert after.get("PAD") == 1 and after["CONV_2D"] == before["CONV_2D"] and "MUL" not in after
    plain, paired = on_aarch64(model, rewritten, x[:2], op_invokes=1)
    assert paired.instructions_by_op_type()["CONV_2D"] < plain.instructions_by_op_type()["CONV_2D"]
    assert rewrites.sample_pair_convs(spectrogram_net(width=16)) != {}  # even: all 16, TensorFlow's zeros


def offtheshelf_net(second=OFF_THE_SHELF):
    """idnet-offtheshelf's first layers: a binary 1x10 convolution on the one-channel signal, its max-pool and
    ReLU, then ``second`` (the binary convolution, or a float one whose input the ReLU does not make constant)."""
    inputs_ = tf.keras.Input((6, 40, 1))
    x = lq.layers.QuantConv2D(20, (1, 10), name="conv1", **OFF_THE_SHELF)(inputs_)
    x = tf.keras.layers.ReLU(name="relu1")(tf.keras.layers.MaxPooling2D((1, 2), name="pool1")(x))
    x = batch_norm("bn2")(lq.layers.QuantConv2D(16, (4, 3), name="conv2", **second)(x))
    return tf.keras.Model(inputs_, tf.keras.layers.Dense(5, activation="softmax")(tf.keras.layers.Flatten()(x)))


def test_binary_input_conv_in_float_signs_the_input_with_outputs_unchanged():
    """The signal's signs (0 signs to +1, as Larq's) times the signed kernel, in float: no one-channel
    LceQuantize and LceBconv2d; then the other rewrites see a float convolution: ReLU before the pool, 12 zero
    filters, sample pairs."""
    x = inputs((6, 40, 1))
    x[:4, :, :5] = 0.0  # sign(0): +1 on both sides
    model = trained_statistics(offtheshelf_net(second=BINARY_WEIGHTS), x)
    applied = rewrites.applied(model)
    assert applied["binary_input_conv_in_float"] == ["conv1"] and applied["pool_after_batch_norm"] == ["pool1"]
    assert applied["fill_binary_words"] == [] and applied["first_conv_on_sample_pairs"] == ["conv1"]
    after, before = check_exact(model, x, "binary_input_conv_in_float")
    assert before.get("LceQuantize") == 1 and before.get("LceBconv2d") == 1
    assert "LceQuantize" not in after and "LceBconv2d" not in after and after.get("SIGN") == 1
    plain, signed = on_aarch64(model, rewrites.for_phone(model, ("binary_input_conv_in_float",)), x[:2])
    assert signed.instructions_per_inference < plain.instructions_per_inference
    assert rewrites.applied(offtheshelf_net())["fill_binary_words"] == ["relu1"]  # the ReLU is signed next


def test_a_relu_trades_places_with_its_max_pool():
    """max(relu(a), relu(b)) == relu(max(a, b)), bit for bit."""
    x = inputs((6, 40, 1))
    model = trained_statistics(offtheshelf_net(second=BINARY_WEIGHTS), x)
    signed = rewrites.for_phone(model, ("binary_input_conv_in_float",))
    assert rewrites.pool_after_batch_norm_pairs(signed) == {"pool1": "relu1"}
    expected = model.predict(x, verbose=0)
    relaid = rewrites.for_phone(model, ("binary_input_conv_in_float", "pool_after_batch_norm"))
    assert [layer.name for layer in relaid.layers][2:5] == ["conv1", "relu1", "pool1"]
    assert np.array_equal(relaid.predict(x, verbose=0), expected)
    # LCE 0.16 converts sign(relu(max_pool(x))) as LceBMaxPool2d(LceQuantize(x)), without the ReLU; with the
    # ReLU before the pool the file is right (a binary conv2 reads all +1 after the ReLU: constant outputs)
    model = trained_statistics(offtheshelf_net(), x)
    relaid = rewrites.for_phone(model, ("binary_input_conv_in_float", "pool_after_batch_norm"))
    flatbuffer = export.convert(relaid, "arm64")
    parity = export.compare_outputs(model.predict(x, verbose=0), export.run_flatbuffer(flatbuffer, x))
    assert parity["max_abs_diff"] <= 1e-5 and parity["argmax_agreement"] == 1.0, parity
    shifted = tf.keras.layers.ReLU(threshold=0.5, name="relu1")  # the rule takes threshold 0 only: kept in place
    assert not rewrites._zero_keeping_relu(shifted) and rewrites._zero_keeping_relu(tf.keras.layers.ReLU())


def test_unknown_rewrite_is_refused():
    with pytest.raises(ValueError, match="unknown rewrites"):
        rewrites.for_phone(pooled_bn_net(), ("fold_everything",))


@pytest.mark.parametrize("name", ["bipedalnet", "idnet-binary"])
def test_registered_binary_models_cost_fewer_aarch64_instructions_rewritten(name):
    """The exported file (all rewrites) against the converter's output of the model as it is, on the kernels
    a phone runs: outputs equal, fewer instructions."""
    runtime = aarch64.available()
    if runtime is None:
        pytest.skip(aarch64.missing_reason())
    model, x = families.fresh_model(name, count=4)
    expected = model.predict(x, verbose=0)
    plain = aarch64.run(export.convert(model, "arm64"), x, runtime=runtime)
    phone = aarch64.run(export.phone_file(model, name, "arm64"), x, runtime=runtime)
    parity = export.compare_outputs(expected, phone.outputs[0])
    assert parity["max_abs_diff"] <= 1e-5 and parity["argmax_agreement"] == 1.0, parity
    assert phone.instructions_per_inference < 0.9 * plain.instructions_per_inference


def test_export_drops_a_rewrite_whose_file_is_not_within_tolerance(tmp_path, monkeypatch):
    """Exact in real arithmetic is not always exact in float (a folded BatchNorm rounds differently): export
    keeps only the rewrites whose file stays within 1e-5 of Keras on the parity inputs, and says which it
    dropped."""
    model, x = families.fresh_model("bipedalnet", count=16)
    original = rewrites.for_phone

    def off_by_a_little(model, chosen=rewrites.REWRITES):
        rewritten = original(model, chosen)
        if "pool_after_batch_norm" in chosen:  # stands for a rounding that flips a sign
            rewritten.get_layer("bn4").beta.assign_add(np.full(32, 0.5, np.float32))
        return rewritten

    monkeypatch.setattr(rewrites, "for_phone", off_by_a_little)
    report = export.export(model, "bipedalnet", "arm64", tmp_path, x)
    assert list(report["rewrites"]["applied"]) == ["depthwise_first_conv"]
    assert list(report["rewrites"]["tried_and_dropped"]) == ["pool_after_batch_norm,depthwise_first_conv"]
    assert report["parity"]["max_abs_diff"] <= 1e-5 and (tmp_path / "bipedalnet.tflite").exists()
