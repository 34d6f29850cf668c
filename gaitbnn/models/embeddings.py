"""Embedding networks of the on-device siamese paper (Wang et al., MM'19, Sec. 4.1 and 4.2.2).

"We evaluate three model architectures extended from LeNet, VGG and MobileNetv2
by adding or pruning layers." Each maps one spectrogram image (99 x 25 x 1, see
``data.spectrogram``) to an embedding; two copies with shared weights make the
siamese network (``training.pairs``). The paper gives sizes, not layer lists:

* ``lenet4``: three convolutions (conv1-3, the layers Table 2 freezes) and one
  dense layer: 5x5@20, 5x5@50, 3x3@64 ('same', each followed by ReLU and 2x2
  max-pooling), then dense 256, the embedding. 644,514 weights, the "deep model
  with 650K parameters" of Sec. 4.2.2.
* ``vgg8``: six 3x3 convolutions in three blocks (16, 32, 64 filters, 2x2
  max-pooling after each block) and two dense layers (128, 128): 8 weight layers.
* ``mobilenetv2``: a strided 3x3 stem and four inverted-residual blocks (expand
  x6, 3x3 depthwise, linear 1x1 projection; residual where shapes agree), a 1x1
  convolution (52 filters, sized for this) and a dense embedding: 40% fewer weights than LeNet4 (Sec. 4.2.1).
* ``lenet4-binary``: LeNet4 with binary conv2, conv3 and dense layer (sign inputs
  and weights, BatchNorm instead of biases; the dense layer is a binary
  convolution over the whole map so it converts to ``LceBconv2d``). conv1 sees
  the real-valued spectrogram and stays float, as in BiPedalNet, and is followed by
  BatchNorm, not ReLU: the sign that conv2 takes of a ReLU output would be +1
  everywhere, and the network's output would not depend on its input.

Every weight layer is a Larq layer. The time-domain baseline feeds the same
networks a (3, 256, 1) window; a pooling step skips an axis shorter than 4.
"""
from __future__ import annotations

import larq as lq
import tensorflow as tf

from gaitbnn.data.spectrogram import SHAPE
from gaitbnn.models.blocks import BINARY, FLOAT, batch_norm, dense_as_conv

INPUT_SHAPE = SHAPE
EMBEDDING = 256
def _pool(x, name):
    size = tuple(2 if int(d) >= 4 else 1 for d in x.shape[1:3])
    return tf.keras.layers.MaxPooling2D(size, name=name)(x)


def _conv(x, filters, kernel, name, binary=False, feeds_binary=False):
    """A 'same' convolution; binary ones, and float ones whose output a binary layer signs, end in BatchNorm."""
    quant = BINARY if binary else dict(FLOAT, use_bias=not feeds_binary)  # BatchNorm's offset is the bias
    x = lq.layers.QuantConv2D(filters, kernel, padding="same", name=name, pad_values=1.0 if binary else 0.0,
                              **quant)(x)
    if binary or feeds_binary:
        return batch_norm(f"{name}_bn")(x)
    return tf.keras.layers.ReLU(name=f"{name}_relu")(x)


def lenet4(*, input_shape: tuple = INPUT_SHAPE, embedding: int = EMBEDDING, binary: bool = False,
           name: str = "lenet4") -> tf.keras.Model:
    """conv1-3 (5x5@20, 5x5@50, 3x3@64, each pooled) -> dense embedding."""
    inputs = tf.keras.Input(shape=input_shape, name="spectrogram")
    x = _pool(_conv(inputs, 20, 5, "conv1", feeds_binary=binary), "pool1")
    x = _pool(_conv(x, 50, 5, "conv2", binary), "pool2")
    x = _pool(_conv(x, 64, 3, "conv3", binary), "pool3")
    if binary:
        x = dense_as_conv(x, embedding, BINARY, "embedding")
        # with a learned scale, started at 1/sqrt(embedding): unit-variance coordinates would put every pair
        # ~sqrt(2 * embedding) apart, far beyond the contrastive margin, and they could not move closer
        x = batch_norm("embedding_bn", initial_scale=embedding ** -0.5)(x)
    else:
        x = dense_as_conv(x, embedding, FLOAT, "embedding")
    return tf.keras.Model(inputs, tf.keras.layers.Flatten(name="flatten")(x), name=name)


def lenet4_binary(*, input_shape: tuple = INPUT_SHAPE, embedding: int = EMBEDDING) -> tf.keras.Model:
    """LeNet4 with binary conv2, conv3 and embedding layer (conv1 float)."""
    return lenet4(input_shape=input_shape, embedding=embedding, binary=True, name="lenet4_binary")


def vgg8(*, input_shape: tuple = INPUT_SHAPE, embedding: int = EMBEDDING // 2) -> tf.keras.Model:
    """Three blocks of two 3x3 convolutions (16, 32, 64), each pooled, then dense 128 and the embedding."""
    inputs = tf.keras.Input(shape=input_shape, name="spectrogram")
    x = inputs
    for block, filters in enumerate((16, 32, 64)):
        for k in (1, 2):
            x = _conv(x, filters, 3, f"conv{2 * block + k}")
        x = _pool(x, f"pool{block + 1}")
    x = tf.keras.layers.ReLU(name="dense1_relu")(dense_as_conv(x, 128, FLOAT, "dense1"))
    x = lq.layers.QuantConv2D(embedding, 1, name="embedding", **FLOAT)(x)
    return tf.keras.Model(inputs, tf.keras.layers.Flatten(name="flatten")(x), name="vgg8")


def _inverted_residual(x, filters, strides, name, expansion=6):
    channels = int(x.shape[-1])
    y = lq.layers.QuantConv2D(channels * expansion, 1, name=f"{name}_expand", **FLOAT)(x)
    y = tf.keras.layers.ReLU(6.0, name=f"{name}_expand_relu")(y)
    y = lq.layers.QuantDepthwiseConv2D(3, strides=strides, padding="same", name=f"{name}_depthwise")(y)
    y = tf.keras.layers.ReLU(6.0, name=f"{name}_depthwise_relu")(y)
    y = lq.layers.QuantConv2D(filters, 1, name=f"{name}_project", **FLOAT)(y)  # linear bottleneck
    if strides == 1 and channels == filters:
        y = tf.keras.layers.Add(name=f"{name}_add")([x, y])
    return y


def mobilenetv2(*, input_shape: tuple = INPUT_SHAPE, embedding: int = EMBEDDING // 2) -> tf.keras.Model:
    """Stem 3x3/2 @16, inverted residuals (24/2, 24, 32/2, 32), 1x1 @52, dense embedding."""
    inputs = tf.keras.Input(shape=input_shape, name="spectrogram")
    strides = tuple(2 if int(d) >= 4 else 1 for d in input_shape[:2])
    x = lq.layers.QuantConv2D(16, 3, strides=strides, padding="same", name="conv1", **FLOAT)(inputs)
    x = tf.keras.layers.ReLU(6.0, name="conv1_relu")(x)
    for i, (filters, s) in enumerate(((24, 2), (24, 1), (32, 2), (32, 1))):
        x = _inverted_residual(x, filters, 2 if s == 2 and int(x.shape[1]) >= 4 else 1, f"block{i + 1}")
    x = tf.keras.layers.ReLU(6.0, name="head_relu")(lq.layers.QuantConv2D(52, 1, name="head", **FLOAT)(x))
    x = dense_as_conv(x, embedding, FLOAT, "embedding")
    return tf.keras.Model(inputs, tf.keras.layers.Flatten(name="flatten")(x), name="mobilenetv2")


def conv_layers(model: tf.keras.Model) -> list:
    """The names of ``model``'s ordinary convolutions in order: conv1, conv2, ... (feature transfer, Table 2)."""
    return [layer.name for layer in model.layers
            if layer.name.startswith("conv") and isinstance(layer, lq.layers.QuantConv2D)]
