"""Rewrites at export that leave the trained function unchanged and cost fewer aarch64 instructions (issue 27).

Each rewrite takes a Keras model and returns one that computes the same outputs with the same weights, laid
out so that LCE's converter emits cheaper ops. ``for_phone`` applies all of them; ``export`` converts its
result and checks it against the original model (parity on x86 and, where built, on the aarch64 runtime).

* ``binary_input_conv_in_float``: a binary convolution (sign inputs and weights) that reads the model's
  one-channel input costs LCE a bitpacking of one channel per 32-bit word (idnet-offtheshelf's conv1: an
  ``LceQuantize`` of 227 instructions per value, 272,771, and an ``LceBconv2d`` of 529,222 whose words hold 1
  bit each). It becomes a float convolution with the signed kernel (+-1) on the signed input: ``SignedInput``,
  ``clip(2 sign(x) + 1, -1, 1)`` (TFLite's ``SIGN``, a multiply and an add: sign(0) = +1 as Larq's), the same
  integer dot products exactly (sums of +-1 below 2^24), then the bias. Zero padding only (Larq pads the signs
  with 0 too). The later rewrites then see a float first convolution (idnet-offtheshelf: filled, paired):
  idnet-offtheshelf 1,348,463 -> 876,351 instructions.
* ``pool_after_batch_norm``: a max-pool followed by a BatchNorm without scale (Table 1's "BatchNorm",
  3 parameters per channel) becomes the BatchNorm followed by the max-pool. A BatchNorm without scale is
  ``(x - mean) / sqrt(var + eps) + beta`` per channel: monotone increasing, and float rounding keeps it
  non-decreasing, so ``max(bn(x)) == bn(max(x))`` bit for bit. The BatchNorm then folds into the convolution
  before it (no MUL and ADD), and when the pool's consumer binarizes its input, LCE turns
  ``sign(max_pool(x))`` into ``LceBMaxPool2d(LceQuantize(x))``: a max-pool over bitpacked words instead of
  floats (BiPedalNet: pool1). A ReLU that sends 0 to 0 is non-decreasing too and trades places with its
  max-pool the same way (idnet-offtheshelf's pool1 -> relu1).
* ``depthwise_first_conv``: a convolution with one input channel and a real-valued input (BiPedalNet's conv1,
  +-1 weights on the signal) is a depthwise convolution with one multiplier per filter: the same products
  and sums, on TFLite's depthwise kernel, which runs a one-channel 3x3 filter in fewer instructions than
  its im2col + GEMM convolution. Only kernels of at most 9 taps: there it measured cheaper on every shape
  tried (0.66-0.84 of the convolution's instructions); from 10 taps up it was cheaper or dearer depending on
  the filter count (1x10@20 0.90, 1x10@32 1.15, 5x5 1.08-1.44).
* ``thermometer_as_threshold_conv``: a thermometer code (``models.blocks.Thermometer``, ``where(x >= t_k, 1,
  -1)``) read only by binary layers becomes a 1x1 convolution computing ``x - t_k`` (kernel 1, bias -t_k,
  exact in float): the binary layer's own sign gives the same +-1 (sign(0) = +1 in both). LCE then quantizes
  the convolution's output once, where the thermometer converted to a broadcast SUB, a quantize, a
  dequantize and a second quantize (btcnn-binary).
* ``fill_binary_words``: LCE bitpacks channels 32 to a word, and quantizes a float map whose channel count is
  not a multiple of 32 on a slow path (lenet4-binary's 20 channels: 10.3 instructions per value, against 0.4
  at 32). A BatchNorm after a float layer, read (directly or through a max-pool) only by one binary
  convolution, with an even channel count C, gets C' - C more channels of the constant +1 (a ``PADV2``), C'
  the next multiple of 32; the convolution gets as many more input channels, half of them with weight +1 and
  half -1 at every tap and filter. Where the BatchNorm reads a float convolution that nothing else reads,
  that convolution writes the new channels itself instead of the pad: C' - C more filters with zero kernels
  and biases, whose 0 the BatchNorm keeps (mean 0, variance 1, offset 0) and the sign makes +1 (TFLite's
  convolution costs little more at 32 filters than at 20, a ``PADV2`` 2.6 instructions per value it writes:
  idnet-binary 1,000,103 -> 924,152 instructions, lenet4-binary 3,005,779 -> 2,939,611).
  Their +1 inputs (and LCE's one-padding at the borders) meet +1 and -1
  weights in equal numbers, so they add exactly 0 to every integer dot product (LCE's float output transform,
  which starts from the word count, can round the last bit differently: export's parity check judges the
  file, as for every rewrite). Where: lenet4-binary's conv1_bn -> pool1 -> conv2; idnet-binary's bn1 ->
  pool1 -> conv2, once ``pool_after_batch_norm`` has moved bn1. A ReLU that sends 0 to 0 in the BatchNorm's
  place is filled from its convolution the same way (its new channels' 0 stays 0; idnet-offtheshelf's relu1).
* ``deep_binary_conv_writes_floats``: LCE's aarch64 kernel accumulates in 16 bits when a binary
  convolution's depth (kernel height x width x input channels) + 512 < 2^16, and otherwise in 32 bits, where
  it has NEON code for float and int8 outputs but not for bitpacked ones: a deep binary convolution whose
  BatchNorm feeds another binary layer, which LCE fuses into one writing bits, runs on portable C++
  (btcnn-binary's fc1, depth 161,280: 15.6M instructions for 20.6M binary multiply-accumulates). A
  ``maximum(x, -3.4e38)`` after the BatchNorm (the identity on every finite value, and sign-preserving)
  keeps LCE from fusing: the convolution writes floats with the BatchNorm folded into its output transform,
  and a separate ``LceQuantize`` (128 values) bitpacks them.
* ``first_conv_on_sample_pairs``: TFLite's float convolution copies each output position's receptive field
  (im2col) before its GEMM, and for a 1xK kernel on one channel that copy dominates (IDNet's 1x10 conv1 on
  6 x 200: 363,024 instructions at 32 filters, about 150k of them fixed cost at every filter count). Read as
  pairs of samples (a free ``RESHAPE`` of (H, W, 1) to (H, W/2, 2)), the same convolution is one with 2F filters
  of 1 x (K//2 + 1) taps over the pairs: filter (o, f) computes output o of each pair, its taps the original
  K in their place and zeros elsewhere (a product with 0 adds exactly 0), and a second ``RESHAPE`` lays the
  (H, W', 2F) result out as (H, 2W', F) again: half the positions to copy for 20% more multiply-adds
  (304,392 instructions). The per-channel layers after the convolution (BatchNorm, ReLU) run before that
  reshape, their parameters tiled over the pair, so TFLite still folds them into the convolution. For even K
  the pairs give W - K outputs, one fewer than W - K + 1: applied only where a 1xP 'valid' max-pool drops the
  last one anyway (IDNet's pool1 on 191). Pairs measured cheapest among 2, 4, 5 and 10 samples (1x10@32:
  304,392, 322,172, 315,005, 375,200): idnet-binary 924,152 -> 866,354 instructions. A k x K 'same'
  convolution gets TensorFlow's zero padding as a ``PAD`` first, its right side narrowed or widened so that the
  padded width is even (``pair_padding``); on an odd width the pairs give W - 1 columns, so only where a
  'valid' max-pool never reads the last (lenet4-binary's 5x5 conv1 on 99 x 25 under its 2x2 pool1: 1,522,748
  -> 1,251,159 + 6,350 for the pad; the file 2,939,611 -> 2,673,262). Where: idnet-binary's and lenet4-binary's
  conv1 (and float IDNet's and LeNet4's, exported for arm64).
"""
from __future__ import annotations

import larq as lq
import numpy as np
import tensorflow as tf

from gaitbnn.models.blocks import Thermometer

REWRITES = ("binary_input_conv_in_float", "pool_after_batch_norm", "depthwise_first_conv",
            "thermometer_as_threshold_conv", "fill_binary_words", "deep_binary_conv_writes_floats",
            "first_conv_on_sample_pairs")
LATE = ("fill_binary_words", "deep_binary_conv_writes_floats")  # read the layer order the others leave
LAST = "first_conv_on_sample_pairs"  # reads the filters fill_binary_words leaves
FIRST = "binary_input_conv_in_float"  # the others then see a float first convolution
WORD_BITS = 32  # LCE bitpacks this many channels into a word
SHORT_ACCUMULATOR_DEPTH = (1 << 16) - 512  # LCE's aarch64 bconv accumulates in 16 bits below this depth
LOWEST_FLOAT = -3.4e38  # maximum(x, LOWEST_FLOAT) is x for every finite float32 x
MAX_DEPTHWISE_TAPS = 9


def _inbound(layer: tf.keras.layers.Layer) -> list:
    return [n.inbound_layers for n in layer.inbound_nodes]


def _consumers(model: tf.keras.Model, layer: tf.keras.layers.Layer) -> list:
    return [other for other in model.layers if any(
        layer is inbound or (isinstance(inbound, list) and layer in inbound) for inbound in _inbound(other))]


def _monotone_batch_norm(layer: tf.keras.layers.Layer) -> bool:
    """A BatchNorm over the last axis that is non-decreasing in its input on every channel."""
    if not isinstance(layer, tf.keras.layers.BatchNormalization) or list(layer.axis) != [len(layer.input_shape) - 1]:
        return False
    return not layer.scale or bool(tf.reduce_all(layer.gamma >= 0))


def _zero_keeping_relu(layer: tf.keras.layers.Layer) -> bool:
    """A ReLU layer with threshold 0: non-decreasing, and 0 stays 0 (so its sign is +1)."""
    if type(layer) is tf.keras.layers.ReLU:
        return float(layer.threshold) == 0.0
    return type(layer) is tf.keras.layers.Activation and layer.activation is tf.keras.activations.relu


def pool_after_batch_norm_pairs(model: tf.keras.Model) -> dict:
    """{max-pool name: BatchNorm (or ReLU) name} of each max-pool whose only consumer is a monotone BatchNorm
    or a ReLU that keeps 0."""
    pairs = {}
    for layer in model.layers:
        if isinstance(layer, tf.keras.layers.MaxPooling2D) and len(layer.inbound_nodes) == 1:
            consumers = _consumers(model, layer)
            if (len(consumers) == 1 and (_monotone_batch_norm(consumers[0]) or _zero_keeping_relu(consumers[0]))
                    and len(consumers[0].inbound_nodes) == 1):
                pairs[layer.name] = consumers[0].name
    return pairs


def first_convs(model: tf.keras.Model) -> list:
    """Names of the convolutions with one input channel, a real-valued input, no groups or dilation, zero padding
    (a depthwise convolution pads with zeros) and at most ``MAX_DEPTHWISE_TAPS`` taps."""
    return [layer.name for layer in model.layers
            if _real_conv_on_one_channel(layer)
            and (layer.padding == "valid" or getattr(layer, "pad_values", 0.0) == 0.0)
            and layer.kernel_size[0] * layer.kernel_size[1] <= MAX_DEPTHWISE_TAPS]


def _real_conv_on_one_channel(layer: tf.keras.layers.Layer) -> bool:
    """A plain convolution (no groups, dilation or activation) reading one channel of real values."""
    return (type(layer) in (tf.keras.layers.Conv2D, lq.layers.QuantConv2D) and layer.input_shape[-1] == 1
            and getattr(layer, "input_quantizer", None) is None and tuple(layer.dilation_rate) == (1, 1)
            and layer.groups == 1 and layer.activation is tf.keras.activations.linear)


def _binarizes_input(layer: tf.keras.layers.Layer) -> bool:
    return isinstance(getattr(layer, "input_quantizer", None), lq.quantizers.SteSign)


def thermometers(model: tf.keras.Model) -> list:
    """Names of the thermometer codes of one-channel inputs whose every consumer binarizes its input."""
    return [layer.name for layer in model.layers if isinstance(layer, Thermometer) and layer.input_shape[-1] == 1
            and all(_binarizes_input(c) for c in _consumers(model, layer))]


def _binary_conv(layer: tf.keras.layers.Layer) -> bool:
    """A Larq convolution with sign inputs and sign weights (LCE's ``LceBconv2d``)."""
    return (type(layer) is lq.layers.QuantConv2D and _binarizes_input(layer) and layer.groups == 1
            and isinstance(layer.kernel_quantizer, lq.quantizers.SteSign))


def word_fills(model: tf.keras.Model) -> dict:
    """{BatchNorm name: (binary convolution name, channels to add)} of each BatchNorm after a float layer, with
    an even channel count that is no multiple of ``WORD_BITS``, read, directly or through one max-pool, only by
    one binary convolution (so LCE quantizes its floats)."""
    fills = {}
    for layer in model.layers:
        relu = _zero_keeping_relu(layer) and len(layer.inbound_nodes) == 1 and _widenable(model, _inbound(layer)[0])
        channels = layer.output_shape[-1] if isinstance(layer, tf.keras.layers.BatchNormalization) or relu else 0
        if not channels or channels % WORD_BITS == 0 or channels % 2 or len(layer.inbound_nodes) != 1:
            continue
        if _binary_conv(_inbound(layer)[0]):  # LCE writes a binary convolution's output as bits itself
            continue
        path = _consumers(model, layer)
        if len(path) == 1 and isinstance(path[0], tf.keras.layers.MaxPooling2D):
            path = _consumers(model, path[0])
        if len(path) == 1 and _binary_conv(path[0]) and len(path[0].inbound_nodes) == 1:
            fills[layer.name] = (path[0].name, -channels % WORD_BITS)
    return fills


def deep_binary_convs(model: tf.keras.Model) -> list:
    """Names of the BatchNorms after a binary convolution of depth ``SHORT_ACCUMULATOR_DEPTH`` or more, read
    only by layers that binarize their input (LCE would fuse them into a convolution writing bits)."""
    names = []
    for layer in model.layers:
        if not isinstance(layer, tf.keras.layers.BatchNormalization) or len(layer.inbound_nodes) != 1:
            continue
        conv, readers = _inbound(layer)[0], _consumers(model, layer)
        if (_binary_conv(conv) and conv.kernel_size[0] * conv.kernel_size[1] * conv.input_shape[-1]
                >= SHORT_ACCUMULATOR_DEPTH and readers and all(_binarizes_input(r) for r in readers)):
            names.append(layer.name)
    return names


def binary_input_convs(model: tf.keras.Model) -> list:
    """Names of the binary convolutions that alone read the model's one input, of one channel, with zero (or no)
    padding and no dilation."""
    if len(model.inputs) != 1:
        return []
    names = []
    for layer in model.layers:
        if not (_binary_conv(layer) and layer.input_shape[-1] == 1 and len(layer.inbound_nodes) == 1
                and tuple(layer.dilation_rate) == (1, 1) and (layer.padding == "valid" or layer.pad_values == 0.0)):
            continue
        source = _inbound(layer)[0]
        if isinstance(source, tf.keras.layers.InputLayer) and len(_consumers(model, source)) == 1:
            names.append(layer.name)
    return names


class SignedInput(tf.keras.layers.Layer):
    """``binary_input_conv_in_float``: Larq's ``ste_sign`` (+1 where x >= 0, else -1) as float ops TFLite runs
    cheaply: ``clip(2 sign(x) + 1, -1, 1)``, exact (sign 0 gives 1)."""

    def call(self, x: tf.Tensor) -> tf.Tensor:
        return tf.clip_by_value(2.0 * tf.sign(x) + 1.0, -1.0, 1.0)


def _binary_input_in_float(model: tf.keras.Model, convs: list) -> tf.keras.Model:
    """``binary_input_conv_in_float`` at ``convs`` (``binary_input_convs``)."""
    def as_float(conv: tf.keras.layers.Layer) -> tf.keras.layers.Layer:
        return tf.keras.layers.Conv2D(conv.filters, conv.kernel_size, strides=conv.strides, padding=conv.padding,
                                      activation=conv.activation, use_bias=conv.use_bias, dtype=conv.dtype_policy,
                                      name=conv.name)

    def signed_kernel(conv: tf.keras.layers.Layer) -> list:
        return [_kernel(conv).numpy(), *([conv.bias.numpy()] if conv.use_bias else [])]

    floated = _rebuilt(model, dict.fromkeys(convs, as_float), dict.fromkeys(convs, signed_kernel))
    return _after_input(floated, SignedInput(name="signed_input"))


def _after_input(model: tf.keras.Model, first: tf.keras.layers.Layer) -> tf.keras.Model:
    """``model`` (one input, each layer called once) with ``first`` applied to its input: every layer copied,
    with its weights, and called on the copies of its inputs."""
    inputs = tf.keras.Input(model.input_shape[1:], name=model.layers[0].name)
    tensors = {id(model.inputs[0]): first(inputs)}
    for layer in model.layers:
        if isinstance(layer, tf.keras.layers.InputLayer):
            continue
        node = layer.inbound_nodes[0]
        copy = layer.__class__.from_config(layer.get_config())
        outputs = copy(tf.nest.map_structure(lambda t: tensors[id(t)], node.input_tensors))
        copy.set_weights(layer.get_weights())
        tensors.update(zip(map(id, tf.nest.flatten(node.output_tensors)), tf.nest.flatten(outputs)))
    outputs = [tensors[id(t)] for t in model.outputs]
    return tf.keras.Model(inputs, outputs[0] if len(outputs) == 1 else outputs, name=model.name)


def _per_channel(layer: tf.keras.layers.Layer) -> bool:
    """A layer that maps each value alone, with one parameter set per channel: tiled over a pair, it is exact."""
    if type(layer) is tf.keras.layers.BatchNormalization:
        return list(layer.axis) == [len(layer.input_shape) - 1]
    return type(layer) is tf.keras.layers.ReLU or _zero_keeping_relu(layer)  # any threshold: the same per channel


def _pool_outputs(pool: tf.keras.layers.Layer, width: int) -> int:
    """Columns a 'valid' max-pool gives on a map ``width`` wide."""
    return (width - pool.pool_size[1]) // pool.strides[1] + 1


def _drops_last_output(reader: tf.keras.layers.Layer, width: int) -> bool:
    """``reader`` is a 'valid' max-pool that never reads column ``width - 1`` of its input (it gives as many
    columns on ``width - 1``)."""
    if type(reader) is not tf.keras.layers.MaxPooling2D or reader.padding != "valid":
        return False
    return _pool_outputs(reader, width - 1) == _pool_outputs(reader, width)


def pair_padding(conv: tf.keras.layers.Layer) -> tuple:
    """((top, bottom), (left, right)) zeros to pad ``conv``'s input with before it reads sample pairs, and the
    columns the pairs then give. 'valid': none (an even width), W - K (+1) columns; 'same': TensorFlow's padding,
    with the right one widened or narrowed so that the padded width is even and gives the largest even number
    of columns at most W (W - 1 for an odd W: the reader must drop the last)."""
    (rows, taps), width = conv.kernel_size, conv.input_shape[2]
    if conv.padding == "valid":
        return ((0, 0), (0, 0)), width - 2 * (taps // 2)
    columns = width - width % 2
    top, left = (rows - 1) // 2, (taps - 1) // 2
    return ((top, rows - 1 - top), (left, columns + 2 * (taps // 2) - left - width)), columns


def sample_pair_convs(model: tf.keras.Model) -> dict:
    """{convolution name: (names of the per-channel layers after it, the name of the layer reading them)} of each
    float convolution with a k x K kernel (K >= 2) on one channel, stride 1, no activation, 'valid' on an even
    width or 'same' with zero padding (``pair_padding``), whose output passes through per-channel layers only
    (``_per_channel``) to one reader of one input; where the pairs give one column fewer than the convolution,
    that reader is a max-pool that drops the last one (``_drops_last_output``)."""
    found = {}
    for conv in model.layers:
        if not (_real_conv_on_one_channel(conv) and len(conv.input_shape) == 4 and conv.kernel_size[1] >= 2
                and tuple(conv.strides) == (1, 1) and len(conv.inbound_nodes) == 1
                and (conv.padding == "valid" and conv.input_shape[2] % 2 == 0
                     or conv.padding == "same" and getattr(conv, "pad_values", 0.0) == 0.0)):
            continue
        chain, reader = [], _only_reader(model, conv)
        while reader is not None and _per_channel(reader):
            chain.append(reader.name)
            reader = _only_reader(model, reader)
        short = conv.output_shape[2] - pair_padding(conv)[1]
        if reader is not None and (short == 0 or short == 1 and _drops_last_output(reader, conv.output_shape[2])):
            found[conv.name] = (chain, reader.name)
    return found


def _only_reader(model: tf.keras.Model, layer: tf.keras.layers.Layer) -> tf.keras.layers.Layer | None:
    """The one layer that reads ``layer``, if it is the only one and reads nothing else; else None."""
    readers = _consumers(model, layer)
    if len(readers) != 1 or len(readers[0].inbound_nodes) != 1 or isinstance(readers[0].input, list):
        return None
    return readers[0]


class OnSamplePairs(tf.keras.layers.Layer):
    """``first_conv_on_sample_pairs``: the input (H, W, 1) padded with zeros (``padding``, ``pair_padding``), read
    as (H', W'/2, 2), then a 'valid' convolution of ``filters`` (2F) filters of ``rows`` x ``taps`` over the pairs."""

    def __init__(self, filters: int, rows: int, taps: int, use_bias: bool, padding: tuple = ((0, 0), (0, 0)),
                 **options):
        super().__init__(**options)
        self.padding = tuple(tuple(p) for p in padding)
        self.conv = tf.keras.layers.Conv2D(filters, (rows, taps), use_bias=use_bias, dtype=self.dtype_policy)

    def call(self, x: tf.Tensor) -> tf.Tensor:
        if any(any(p) for p in self.padding):
            x = tf.pad(x, [[0, 0], *self.padding, [0, 0]])
        return self.conv(tf.reshape(x, (-1, x.shape[1], x.shape[2] // 2, 2)))


class FromSamplePairs(tf.keras.layers.Layer):
    """``first_conv_on_sample_pairs``: (H, W', 2F) laid out as (H, 2W', F) again, then ``layer``."""

    def __init__(self, layer: tf.keras.layers.Layer, **options):
        super().__init__(**options)
        self.layer = layer

    def call(self, x: tf.Tensor) -> tf.Tensor:
        return self.layer(tf.reshape(x, (-1, x.shape[1], x.shape[2] * 2, x.shape[3] // 2)))


def _pair_kernel(kernel: np.ndarray) -> np.ndarray:
    """A (k, K, 1, F) kernel over samples as the (k, K//2 + 1, 2, 2F) kernel over sample pairs: filter (o, f)
    computes filter f at output o of each pair, its tap j on sample o + j, zeros elsewhere."""
    rows, taps, filters = kernel.shape[0], kernel.shape[1], kernel.shape[3]
    pairs = np.zeros((rows, taps // 2 + 1, 2, 2, filters), kernel.dtype)  # (row, pair, sample in it, output o, filter)
    for o in (0, 1):
        for j in range(taps):
            pairs[:, (j + o) // 2, (j + o) % 2, o] = kernel[:, j, 0]
    return pairs.reshape(rows, taps // 2 + 1, 2, 2 * filters)


class BatchNormForLce(tf.keras.layers.Layer):
    """A BatchNorm, then ``extra`` more channels of the constant +1 (``fill_binary_words``) and / or
    ``maximum(x, LOWEST_FLOAT)`` (``deep_binary_conv_writes_floats``): the same values for the next binary layer."""

    def __init__(self, batch_norm: dict, extra: int = 0, keep_floats: bool = False, **options):
        super().__init__(**options)
        self.batch_norm = tf.keras.layers.BatchNormalization.from_config(batch_norm)
        self.extra, self.keep_floats = extra, keep_floats

    def call(self, x: tf.Tensor) -> tf.Tensor:
        x = self.batch_norm(x)
        if self.keep_floats:
            x = tf.maximum(x, np.float32(LOWEST_FLOAT))
        if self.extra:
            x = tf.pad(x, [[0, 0]] * (len(x.shape) - 1) + [[0, self.extra]], constant_values=1.0)
        return x


def _filled_kernel(kernel: np.ndarray, extra: int) -> np.ndarray:
    """``kernel`` (h, w, C, F) with ``extra`` more input channels, half weighted +1 and half -1."""
    signs = np.repeat(np.array([1.0, -1.0], kernel.dtype), extra // 2)
    return np.concatenate([kernel, np.broadcast_to(signs[None, None, :, None], (*kernel.shape[:2], extra,
                                                                                kernel.shape[3]))], axis=2)


def _threshold_conv(thermometer: tf.keras.layers.Layer) -> tf.keras.layers.Layer:
    return tf.keras.layers.Conv2D(thermometer.levels, 1, name=thermometer.name)


def _thresholds(levels: int) -> tf.Tensor:
    """The thermometer's thresholds, computed as ``Thermometer.call`` computes them."""
    return tf.range(1, levels + 1, dtype=tf.float32) / (levels + 1)


def _depthwise(conv: tf.keras.layers.Layer) -> tf.keras.layers.Layer:
    return tf.keras.layers.DepthwiseConv2D(conv.kernel_size, strides=conv.strides, padding=conv.padding,
                                           depth_multiplier=conv.filters, use_bias=conv.use_bias,
                                           dtype=conv.dtype_policy, name=conv.name)


def _kernel(conv: tf.keras.layers.Layer) -> tf.Tensor:
    """The kernel the convolution multiplies with: its quantizer's output for a Larq layer."""
    quantizer = getattr(conv, "kernel_quantizer", None)
    kernel = tf.convert_to_tensor(conv.kernel)
    return quantizer(kernel) if quantizer else kernel


def for_phone(model: tf.keras.Model, rewrites: tuple = REWRITES) -> tf.keras.Model:
    """``model`` with ``rewrites`` applied (``REWRITES``: all): same weights and outputs, cheaper ops.
    ``FIRST`` goes first (the others then see its float convolution); the ``LATE`` ones go after the rest: they
    read the layer order the others leave (a BatchNorm moved before its max-pool now follows the convolution
    whose floats LCE quantizes); ``LAST`` reads the filters ``fill_binary_words`` leaves."""
    return _applied(model, rewrites)[0]


def applied(model: tf.keras.Model) -> dict:
    """Where each rewrite applies in ``model``: {rewrite: [layer names]} (empty lists where none does), each
    found in the model the rewrites before it leave."""
    return _applied(model, REWRITES)[1]


def _applied(model: tf.keras.Model, rewrites: tuple) -> tuple:
    """(``model`` with ``rewrites`` applied in ``for_phone``'s order, {rewrite: the layers where it applied})."""
    unknown = set(rewrites) - set(REWRITES)
    if unknown:
        raise ValueError(f"unknown rewrites: {sorted(unknown)}")

    def found(rewrite: str, where, none):  # where it applies in the model as rewritten so far, if chosen
        return where(model) if rewrite in rewrites else none

    signed = found(FIRST, binary_input_convs, [])
    if signed:
        model = _binary_input_in_float(model, signed)
    swapped = found("pool_after_batch_norm", pool_after_batch_norm_pairs, {})
    depthwise = found("depthwise_first_conv", first_convs, [])
    coded = found("thermometer_as_threshold_conv", thermometers, [])
    if swapped or depthwise or coded:
        model = _relaid(model, {**swapped, **{bn: pool for pool, bn in swapped.items()}}, set(depthwise), set(coded))
    fills = found("fill_binary_words", word_fills, {})
    floats = found("deep_binary_conv_writes_floats", deep_binary_convs, [])
    model = _after_batch_norms(model, fills, set(floats))
    pairs = found(LAST, sample_pair_convs, {})
    if pairs:
        model = _on_sample_pairs(model, pairs)
    return model, {FIRST: signed, "pool_after_batch_norm": sorted(swapped), "depthwise_first_conv": depthwise,
                   "thermometer_as_threshold_conv": coded, "fill_binary_words": sorted(fills),
                   "deep_binary_conv_writes_floats": floats, LAST: sorted(pairs)}


def _rebuilt(model: tf.keras.Model, replace: dict, weights: dict) -> tf.keras.Model:
    """``model`` cloned with ``replace[name](layer)`` for the named layers (the others copied), then each new
    layer given ``weights[name](original layer)`` (by default the original's weights)."""
    def clone(layer: tf.keras.layers.Layer) -> tf.keras.layers.Layer:
        make = replace.get(layer.name)
        return make(layer) if make else layer.__class__.from_config(layer.get_config())

    rewritten = tf.keras.models.clone_model(model, clone_function=clone)
    for layer in rewritten.layers:
        original = model.get_layer(layer.name)
        layer.set_weights(weights[layer.name](original) if layer.name in weights else original.get_weights())
    return rewritten


def _relaid(model: tf.keras.Model, swapped: dict, depthwise: set, coded: set) -> tf.keras.Model:
    """The first three rewrites: swapped pairs trade places, depthwise and threshold convolutions replace theirs."""
    def trade(layer: tf.keras.layers.Layer) -> tf.keras.layers.Layer:  # a swapped pair trades places
        source = model.get_layer(swapped[layer.name])
        return source.__class__.from_config(source.get_config())

    def depthwise_weights(conv: tf.keras.layers.Layer) -> list:  # (h, w, 1, filters): one multiplier per filter
        return [_kernel(conv).numpy(), *([conv.bias.numpy()] if conv.use_bias else [])]

    def threshold_weights(thermometer: tf.keras.layers.Layer) -> list:
        return [np.ones((1, 1, 1, thermometer.levels), np.float32), -_thresholds(thermometer.levels).numpy()]

    replace = {**{name: trade for name in swapped}, **{name: _depthwise for name in depthwise},
               **{name: _threshold_conv for name in coded}}
    weights = {**{name: depthwise_weights for name in depthwise}, **{name: threshold_weights for name in coded}}
    return _rebuilt(model, replace, weights)


def _after_batch_norms(model: tf.keras.Model, fills: dict, floats: set) -> tf.keras.Model:
    """The ``LATE`` rewrites: ``fill_binary_words`` at ``fills`` (``word_fills``), ``deep_binary_conv_writes_floats``
    at the BatchNorms ``floats`` (``deep_binary_convs``)."""
    if not fills and not floats:
        return model

    wide = widenable_convs(model, fills)  # BatchNorm: the float convolution that writes its filling channels
    widened = {conv: fills[bn][1] for bn, conv in wide.items()}  # convolution: its new (zero) filters

    def for_lce(bn: tf.keras.layers.Layer) -> tf.keras.layers.Layer:
        padded = 0 if bn.name in wide else fills.get(bn.name, (None, 0))[1]
        return BatchNormForLce(bn.get_config(), padded, bn.name in floats, name=bn.name)

    def filled_weights(conv: tf.keras.layers.Layer) -> list:
        kernel, *rest = conv.get_weights()
        return [_filled_kernel(kernel, extra[conv.name]), *rest]

    def wider(conv: tf.keras.layers.Layer) -> tf.keras.layers.Layer:
        return tf.keras.layers.Conv2D(conv.filters + widened[conv.name], conv.kernel_size, strides=conv.strides,
                                      padding=conv.padding, dilation_rate=conv.dilation_rate,
                                      use_bias=conv.use_bias, dtype=conv.dtype_policy, name=conv.name)

    def wider_weights(conv: tf.keras.layers.Layer) -> list:  # the new filters: zero kernels and biases
        zeros = np.zeros(widened[conv.name], np.float32)
        kernel = _kernel(conv).numpy()
        return [np.concatenate([kernel, np.broadcast_to(zeros, (*kernel.shape[:3], len(zeros)))], axis=3),
                *([np.concatenate([conv.bias.numpy(), zeros])] if conv.use_bias else [])]

    def identity_on_zeros(bn: tf.keras.layers.Layer) -> list:  # the new channels' 0 stays 0
        pads = {"gamma": 1.0, "beta": 0.0, "moving_mean": 0.0, "moving_variance": 1.0}
        extra_channels = fills[bn.name][1]
        return [np.concatenate([w.numpy(), np.full(extra_channels, pads[w.name.split("/")[-1].split(":")[0]],
                                                    np.float32)]) for w in bn.weights]

    extra = dict(fills.values())  # convolution: its new input channels
    wrapped = (set(fills) - set(wide)) | floats  # a widened convolution's BatchNorm stays a plain one
    replace = {**dict.fromkeys(wrapped, for_lce), **dict.fromkeys(widened, wider)}
    # a wrapped BatchNorm's weights are its inner BatchNorm's, in the same order: the default copy fits
    weights = {**dict.fromkeys(extra, filled_weights), **dict.fromkeys(widened, wider_weights),
               **dict.fromkeys(wide, identity_on_zeros)}
    return _rebuilt(model, replace, weights)


def _on_sample_pairs(model: tf.keras.Model, pairs: dict) -> tf.keras.Model:
    """``first_conv_on_sample_pairs`` at ``pairs`` (``sample_pair_convs``)."""
    chains = {layer: conv for conv, (chain, _) in pairs.items() for layer in chain}
    readers = {reader for _, reader in pairs.values()}

    def on_pairs(conv: tf.keras.layers.Layer) -> tf.keras.layers.Layer:
        return OnSamplePairs(2 * conv.filters, conv.kernel_size[0], conv.kernel_size[1] // 2 + 1, conv.use_bias,
                             pair_padding(conv)[0], dtype=conv.dtype_policy, name=conv.name)

    def from_pairs(reader: tf.keras.layers.Layer) -> tf.keras.layers.Layer:
        return FromSamplePairs(reader.__class__.from_config(reader.get_config()), name=reader.name)

    def pair_weights(conv: tf.keras.layers.Layer) -> list:
        return [_pair_kernel(_kernel(conv).numpy()), *([np.tile(conv.bias.numpy(), 2)] if conv.use_bias else [])]

    def tiled(layer: tf.keras.layers.Layer) -> list:  # per channel, the same for both outputs of a pair
        return [np.tile(w, 2) for w in layer.get_weights()]

    replace = {**dict.fromkeys(pairs, on_pairs), **dict.fromkeys(readers, from_pairs)}
    return _rebuilt(model, replace, {**dict.fromkeys(pairs, pair_weights), **dict.fromkeys(chains, tiled)})


def _widenable(model: tf.keras.Model, conv: tf.keras.layers.Layer) -> bool:
    """A float convolution (groups 1, no activation) that one layer alone reads: it can write more channels."""
    return (isinstance(conv, tf.keras.layers.Conv2D) and not isinstance(conv, tf.keras.layers.DepthwiseConv2D)
            and conv.groups == 1 and getattr(conv, "input_quantizer", None) is None
            and len(_consumers(model, conv)) == 1 and conv.activation is tf.keras.activations.linear)


def widenable_convs(model: tf.keras.Model, fills: dict) -> dict:
    """{BatchNorm (or ReLU) name: float convolution name} of the ``fills`` whose BatchNorm reads a float
    convolution that nothing else reads (``_widenable``): there the convolution writes the filling channels."""
    convs = {}
    for bn in fills:
        conv = _inbound(model.get_layer(bn))[0]
        if _widenable(model, conv):
            convs[bn] = conv.name
    return convs
