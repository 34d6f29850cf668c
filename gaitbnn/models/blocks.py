"""Building blocks shared by the papers' models.

Binary layers follow Courbariaux et al. (2016) as BiPedalNet Sec. 2.1 describes:
latent real weights, binarized with ``ste_sign`` in the forward pass and clipped
to [-1, 1] (``weight_clip``).

LCE has no binary dense op: a ``QuantDense`` layer converts to float ops. A dense
layer is therefore written as a convolution whose kernel covers the whole
feature map (then 1x1 for the next one). Its Keras parameter count is that of
the dense layer, and it converts to ``LceBconv2d``.
"""
from __future__ import annotations

import larq as lq
import tensorflow as tf

BINARY = dict(
    input_quantizer="ste_sign",
    kernel_quantizer="ste_sign",
    kernel_constraint="weight_clip",
    use_bias=False,
)
"""Binary weights and binary activations: lands in a binary op after conversion."""

BINARY_WEIGHTS = dict(
    input_quantizer=None,
    kernel_quantizer="ste_sign",
    kernel_constraint="weight_clip",
    use_bias=False,
)
"""Binary weights on a real-valued input (a network's first layer)."""

OFF_THE_SHELF = dict(input_quantizer="ste_sign", kernel_quantizer="ste_sign", kernel_constraint="weight_clip",
                     use_bias=True)
"""A float layer's Larq binary counterpart with the usual defaults: sign inputs and weights, its bias kept."""

FLOAT = dict(input_quantizer=None, kernel_quantizer=None, kernel_constraint=None, use_bias=True)
"""A full-precision layer written with the same Larq layer class."""


def batch_norm(name: str | None = None, initial_scale: float | None = None) -> tf.keras.layers.Layer:
    """BatchNorm without the scale: 3 parameters per channel (Table 1: 96 for 32 channels).

    ``initial_scale``: learn a scale too, starting from this value (4 parameters per channel).
    """
    if initial_scale is None:
        return tf.keras.layers.BatchNormalization(scale=False, momentum=0.9, epsilon=1e-3, name=name)
    return tf.keras.layers.BatchNormalization(momentum=0.9, epsilon=1e-3, name=name,
                                              gamma_initializer=tf.keras.initializers.Constant(initial_scale))


def dense_as_conv(x: tf.Tensor, units: int, quant: dict, name: str | None) -> tf.Tensor:
    """A dense layer over the flattened ``x``, written as a convolution.

    The kernel spans the whole (height, width) of ``x``, so the weight count is
    ``height * width * channels * units`` exactly as for Flatten + Dense, and the
    result has shape (1, 1, units). On a (1, 1, C) input this is a 1x1 convolution.
    """
    height, width = int(x.shape[1]), int(x.shape[2])
    return lq.layers.QuantConv2D(units, (height, width), padding="valid", name=name, **quant)(x)


@lq.utils.register_keras_custom_object  # by its class name, where Larq's quantizer lookup finds it
class HalfPrecision(tf.keras.layers.Layer):
    """A kernel quantizer: weights rounded to float16 in the forward pass, the gradient passed straight through.

    The trained function then uses float16 values only, which the arm64 flatbuffer stores in half the bytes
    with no change to any output (``flatbuffer.with_float16_weights``). Larq reads ``precision``.
    """

    precision = 16

    def call(self, inputs: tf.Tensor) -> tf.Tensor:
        rounded = tf.cast(tf.cast(inputs, tf.float16), inputs.dtype)
        return inputs + tf.stop_gradient(rounded - inputs)


def half_precision() -> dict:
    """A real-valued layer whose weights are float16 values (stored as float16 on the phone), with a bias."""
    return dict(input_quantizer=None, kernel_quantizer=HalfPrecision(), kernel_constraint=None, use_bias=True)


@tf.keras.utils.register_keras_serializable(package="gaitbnn")
class Thermometer(tf.keras.layers.Layer):
    """Thermometer code of an input in [0, 1]: ``levels`` channels of +1/-1.

    Channel k is +1 where the input reaches ``(k + 1) / (levels + 1)``, else -1, so
    a value is kept at ``levels + 1`` amplitude steps as a code a binary layer can
    read (Zhang et al., FracBNN, FPGA 2021, encode a BNN's first-layer input this
    way). The sign of an input normalized to [0, 1] would be +1 everywhere. The
    code has no gradient (it encodes data, not a learned layer) and converts to
    GREATER_EQUAL + SELECT in a flatbuffer.
    """

    def __init__(self, levels=32, **kwargs):
        kwargs["trainable"] = False
        super().__init__(**kwargs)
        self.levels = int(levels)

    def call(self, inputs: tf.Tensor) -> tf.Tensor:
        thresholds = tf.range(1, self.levels + 1, dtype=inputs.dtype) / (self.levels + 1)
        one = tf.constant(1.0, inputs.dtype)
        return tf.where(inputs >= thresholds, one, -one)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return tf.TensorShape(input_shape)[:-1].concatenate([self.levels])

    def get_config(self) -> dict:
        return {**super().get_config(), "levels": self.levels}
