"""ResNet-50 and L-ResNet-50 (Wang & Yuan, "Gait Recognition Based on Lightweight CNNs").

ResNet-50 (He et al. 2016): a 7x7/2 stem convolution and 3x3/2 max-pool, then
bottleneck blocks (1x1, 3x3, 1x1 convolutions; 3, 4, 6, 3 of them with widths
64, 128, 256, 512, expansion 4; stride 2 on the 3x3 convolution of a stage's
first block; a 1x1 projection shortcut where the shape changes), global average
pooling and a classifier. Convolutions carry no bias; BatchNorm follows each.

L-ResNet-50 (Sec. 3, Fig. 3-4; the Ghost module of Han et al., GhostNet, CVPR
2020, with ratio s = 2): every convolution of the residual blocks becomes an
ordinary convolution that makes half of the output channels (same kernel and
stride) and a cheap linear operation, a 3x3 depthwise convolution, that makes
the other half from them; the two halves are concatenated. The projection
shortcuts are convolutions of the blocks too. The classifier, a 1x1 convolution
on the pooled features, is a Ghost module as well: with it the ImageNet
configuration has 13.0M parameters (Table 4: 13.0M); with an ordinary
classifier it would have 14.0M (+8%).

L-ResNet-50 binary: the ordinary (primary) convolutions of the residual stages
are binary (sign weights and sign inputs, padded with +1 so LCE needs no
padding correction); the stem, the projection shortcuts, the depthwise cheap
operations and the classifier stay float, as usual for BNNs (Rastegari et al.
2016, Liu et al. 2018). A sign after a ReLU would be +1 everywhere, so the
binary network has no ReLU in its residual stages (Bi-Real Net style): BatchNorm
outputs go to the next sign.

Initialization (measured on synthetic GEIs, 32 x 32, 16 subjects, batch 16): the
Ghost networks start each residual branch at zero (the last BatchNorm's gamma = 0,
Goyal et al. 2017); from scratch on ~400 GEIs this took L-ResNet-50 from 0.42 to
0.78 validation accuracy after 3 epochs. Plain ResNet-50 keeps the standard
gamma = 1: with zero gamma it fit its training GEIs (0.88) but scored 0.11-0.20 on
validation in inference mode, while with gamma = 1 it reached 0.69 in 10 epochs.

Every convolution is a Larq layer (``QuantConv2D``, ``QuantDepthwiseConv2D``).
"""
from __future__ import annotations

import math

import larq as lq
import tensorflow as tf

INPUT_SHAPE = (64, 64, 1)  # GEIs, reduced for 2 CPU cores (the ImageNet configuration is (224, 224, 3))
CLASSES = 124  # CASIA-B subjects
IMAGENET_SHAPE, IMAGENET_CLASSES = (224, 224, 3), 1000
STAGES = ((3, 64), (4, 128), (6, 256), (3, 512))
EXPANSION = 4

FLOAT_CONV = dict(use_bias=False)
BINARY_CONV = dict(input_quantizer="ste_sign", kernel_quantizer="ste_sign", kernel_constraint="weight_clip",
                   use_bias=False, pad_values=1.0)


def _bn(name, zero=False):
    return tf.keras.layers.BatchNormalization(momentum=0.9, epsilon=1e-5, name=name,
                                              gamma_initializer="zeros" if zero else "ones")


def _act(x, relu, name):
    return tf.keras.layers.ReLU(name=name)(x) if relu else x


def ghost_module(x: tf.Tensor, filters: int, kernel: int | tuple, strides: int = 1, relu: bool = True,
                 binary: bool = False, name: str = "ghost", zero_gamma: bool = False) -> tf.Tensor:
    """Ghost module: ``ceil(filters / 2)`` maps from an ordinary convolution, the rest by a 3x3 depthwise one."""
    primary = math.ceil(filters / 2)
    y = lq.layers.QuantConv2D(primary, kernel, strides=strides, padding="same", name=f"{name}_primary",
                              **(BINARY_CONV if binary else FLOAT_CONV))(x)
    y = _act(_bn(f"{name}_primary_bn", zero_gamma)(y), relu, f"{name}_primary_relu")
    z = lq.layers.QuantDepthwiseConv2D(3, padding="same", use_bias=False, name=f"{name}_cheap")(y)
    z = _act(_bn(f"{name}_cheap_bn", zero_gamma)(z), relu, f"{name}_cheap_relu")
    out = tf.keras.layers.Concatenate(name=f"{name}_concat")([y, z])
    if 2 * primary != filters:
        out = tf.keras.layers.Lambda(lambda t: t[..., :filters], name=f"{name}_trim")(out)
    return out


def _conv_bn(x, filters, kernel, strides, relu, ghost, binary, name, zero_gamma=False):
    if ghost:
        return ghost_module(x, filters, kernel, strides, relu, binary, name, zero_gamma)
    x = lq.layers.QuantConv2D(filters, kernel, strides=strides, padding="same", name=name,
                              **(BINARY_CONV if binary else FLOAT_CONV))(x)
    return _act(_bn(f"{name}_bn", zero_gamma)(x), relu, f"{name}_relu")


def bottleneck(x: tf.Tensor, width: int, strides: int, ghost: bool, binary: bool, name: str,
               zero_gamma: bool = False) -> tf.Tensor:
    """1x1 -> 3x3 (stride) -> 1x1 (x4) plus the shortcut (a 1x1 projection where the shape changes).

    ``zero_gamma``: the last BatchNorm of the residual branch starts at gamma = 0, so each block starts as
    its shortcut (Goyal et al. 2017, "Accurate, large minibatch SGD", Sec. 5.1).
    """
    relu = not binary
    shortcut = x
    out_channels = width * EXPANSION
    if strides != 1 or int(x.shape[-1]) != out_channels:  # projection: float in the binary network too
        shortcut = _conv_bn(x, out_channels, 1, strides, False, ghost, False, f"{name}_shortcut")
    y = _conv_bn(x, width, 1, 1, relu, ghost, binary, f"{name}_conv1")
    y = _conv_bn(y, width, 3, strides, relu, ghost, binary, f"{name}_conv2")
    y = _conv_bn(y, out_channels, 1, 1, False, ghost, binary, f"{name}_conv3", zero_gamma)
    y = tf.keras.layers.Add(name=f"{name}_add")([y, shortcut])
    return _act(y, relu, f"{name}_out")


def resnet50(*, input_shape: tuple = INPUT_SHAPE, classes: int = CLASSES, ghost: bool = False, binary: bool = False,
             name: str = "resnet50", zero_gamma: bool | None = None, ghost_classifier: bool = False) -> tf.keras.Model:
    """ResNet-50, with Ghost modules when ``ghost`` (L-ResNet-50 Sec. 3, Table 4).

    ``zero_gamma`` (default: ``ghost``): the residual branches start at zero; ResNet-50 keeps the standard
    initialization, with which it trains here (with gamma = 0 it had failed in inference mode).
    ``ghost_classifier``: the classifier as a Ghost module, which
    Table 4's 13.0M needs; its 3x3 depthwise half runs on a 1x1 map, so half the logits are affine copies of the
    other half (62 independent class directions for 124 subjects): the trained models use an ordinary 1x1
    classifier, and the Ghost one is kept for the Table 4 count (the registry's ImageNet reference).
    """
    zero_gamma = ghost if zero_gamma is None else zero_gamma
    inputs = tf.keras.Input(shape=input_shape, name="gei")
    x = lq.layers.QuantConv2D(64, 7, strides=2, padding="same", name="stem", **FLOAT_CONV)(inputs)
    x = _act(_bn("stem_bn")(x), not binary, "stem_relu")
    x = tf.keras.layers.MaxPooling2D(3, strides=2, padding="same", name="stem_pool")(x)
    for s, (blocks, width) in enumerate(STAGES, start=1):
        for b in range(blocks):
            x = bottleneck(x, width, 2 if (b == 0 and s > 1) else 1, ghost, binary, f"stage{s}_block{b + 1}",
                           zero_gamma)
    x = tf.keras.layers.GlobalAveragePooling2D(name="pool", keepdims=True)(x)
    if ghost and ghost_classifier:  # float, for Table 4's count (see the docstring)
        x = ghost_module(x, classes, 1, relu=False, binary=False, name="classifier")
    else:
        x = lq.layers.QuantConv2D(classes, 1, name="classifier")(x)
    x = tf.keras.layers.Flatten(name="flatten")(x)
    outputs = tf.keras.layers.Activation("softmax", name="softmax")(x)
    return tf.keras.Model(inputs, outputs, name=name)


def lresnet50(*, input_shape: tuple = INPUT_SHAPE, classes: int = CLASSES,
              ghost_classifier: bool = False) -> tf.keras.Model:
    """L-ResNet-50: Ghost modules in place of the convolutions (Table 4: 13.0M weights, 2.2B FLOPs)."""
    return resnet50(input_shape=input_shape, classes=classes, ghost=True, name="lresnet50",
                    ghost_classifier=ghost_classifier)


def lresnet50_binary(*, input_shape: tuple = INPUT_SHAPE, classes: int = CLASSES,
                     ghost_classifier: bool = False) -> tf.keras.Model:
    """L-ResNet-50 with binary primary convolutions in the residual stages."""
    return resnet50(input_shape=input_shape, classes=classes, ghost=True, binary=True, name="lresnet50_binary",
                    ghost_classifier=ghost_classifier)


def plain_resnet50(*, input_shape: tuple = INPUT_SHAPE, classes: int = CLASSES) -> tf.keras.Model:
    """ResNet-50 (Table 4: 25.6M weights, 4.1B FLOPs)."""
    return resnet50(input_shape=input_shape, classes=classes, name="resnet50")


def resnet50_zero_gamma(*, input_shape: tuple = INPUT_SHAPE, classes: int = CLASSES) -> tf.keras.Model:
    """ResNet-50 with the Ghost networks' initialization (every residual branch starts at zero): the paper
    compares the two networks "in the case of the same hyperparameters"."""
    return resnet50(input_shape=input_shape, classes=classes, name="resnet50_zero_gamma", zero_gamma=True)
