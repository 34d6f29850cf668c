"""Model registry: name -> constructor, default input shape and class count.

The CLI, the experiments and the tests iterate over it; nothing here reads files.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from gaitbnn.errors import lookup
from gaitbnn.models import bipedalnet as _bipedalnet
from gaitbnn.models import embeddings as _embeddings
from gaitbnn.models import idnet as _idnet
from gaitbnn.models import lresnet as _lresnet
from gaitbnn.models import recipes
from gaitbnn.models import tcnn as _tcnn

if TYPE_CHECKING:
    import tensorflow as tf

GAIT = "gait"  # Padova-style walks, identification (BiPedalNet, IDNet)
ACTIVITY = "activity"  # LARa-style windows, activity classes and attributes (tCNN, BtCNN)
GEI = "gei"  # gait energy images (CASIA-B), identification (ResNet-50, L-ResNet-50)
AUTH = "auth"  # accelerometer spectrograms, siamese embedding networks for authentication (MM'19)
VERIFY = "verification"  # gait windows, embeddings for open-set verification of unseen people (issue 28)


@dataclass(frozen=True)
class Reference:
    """A paper's own configuration of a model, for its counts (e.g. ImageNet for L-ResNet-50's Table 4)."""
    name: str
    input_shape: tuple[int, ...]
    classes: int
    options: tuple = ()  # (keyword, value) pairs for the constructor, e.g. (("ghost_classifier", True),)


@dataclass(frozen=True)
class ModelSpec:
    name: str
    constructor: Callable
    input_shape: tuple[int, ...]
    classes: int
    paper: str
    description: str
    family: str = GAIT
    head: str = "softmax"  # "softmax": one output per class; "attributes": sigmoid attributes, nearest-vector decoding;
    # "embedding": a feature vector (``classes`` is its size) compared by distance (siamese networks)
    training: dict = field(default_factory=lambda: dict(recipes.BIPEDALNET))  # its paper's recipe (models.recipes)
    binary_ops: int = 0  # LceBconv2d ops its arm64 flatbuffer must hold (at any input shape)
    test_shape: tuple[int, ...] | None = None  # a small input shape for the registry-wide tests
    reference: Reference | None = None




IMAGENET = Reference("imagenet", _lresnet.IMAGENET_SHAPE, _lresnet.IMAGENET_CLASSES)  # L-ResNet-50 Table 4
# The Ghost networks' Table 4 configuration: their classifier a Ghost module too (13.0M; see models/lresnet.py).
IMAGENET_GHOST = Reference("imagenet", _lresnet.IMAGENET_SHAPE, _lresnet.IMAGENET_CLASSES,
                           (("ghost_classifier", True),))


def _embedding_constructor(builder):
    """An embedding network's constructor in the registry's form: ``classes`` is the embedding size."""
    def build(*, input_shape, classes):
        return builder(input_shape=input_shape, embedding=classes)

    build.__doc__ = builder.__doc__
    return build


def _activity_specs():
    for head, suffix, label in (("softmax", "", "softmax"), ("attributes", "-attr", "attributes")):
        for j in range(5):
            name = ("tcnn" if j == 0 else "btcnn-conv1" + (f"-{j}" if j > 1 else "")) + suffix
            table = "5.3.2/5.3.3 (float tCNN)" if j == 0 else f"5.3.4-5.3.7 Conv[1{f'-{j}' if j > 1 else ''}]"
            what = "float tCNN" if j == 0 else f"tCNN with convolutions 1..{j} binarized"
            yield ModelSpec(name, _tcnn.constructor(j, head), _tcnn.INPUT_SHAPE,
                            _tcnn.CLASSES if head == "softmax" else _tcnn.ATTRIBUTES,
                            f"BtCNN thesis Tables {table}", f"{what}, {label} head", ACTIVITY, head,
                            dict(recipes.BTCNN), binary_ops=j, test_shape=(24, 6))
        yield ModelSpec("btcnn-binary" + suffix, _tcnn.constructor(4, head, binary_dense=True), _tcnn.INPUT_SHAPE,
                        _tcnn.CLASSES if head == "softmax" else _tcnn.ATTRIBUTES,
                        "BtCNN thesis, future work (conclusion: \"binarize the entire network\")",
                        f"tCNN fully binary (4 convolutions, 2 FC), {label} head",
                        ACTIVITY, head, dict(recipes.BTCNN), binary_ops=6, test_shape=(24, 6))


_SPECS = {
    spec.name: spec
    for spec in [
        ModelSpec("bipedalnet", _bipedalnet.bipedalnet, _bipedalnet.INPUT_SHAPE, _bipedalnet.CLASSES,
                  "BiPedalNet Table 1", "binarized CNN for gait identification", binary_ops=4),
        ModelSpec("bipedalnet-scaled-logits", _bipedalnet.bipedalnet_scaled_logits, _bipedalnet.INPUT_SHAPE,
                  _bipedalnet.CLASSES, "BiPedalNet Table 1 + BatchNorm on the logits (this project)",
                  "BiPedalNet with a learned scale and offset per class on its integer logits", binary_ops=4),
        ModelSpec("bipedalnet-float-ends", _bipedalnet.bipedalnet_float_ends, _bipedalnet.INPUT_SHAPE,
                  _bipedalnet.CLASSES, "BiPedalNet Table 1, first and last layers full precision (this project)",
                  "BiPedalNet with real-valued first and last layers (binary middle)", binary_ops=3),
        ModelSpec("bipedalnet-shortcuts", _bipedalnet.bipedalnet_shortcuts, _bipedalnet.INPUT_SHAPE,
                  _bipedalnet.CLASSES, "BiPedalNet Table 1, float ends and real shortcuts (this project)",
                  "bipedalnet-float-ends with real-valued shortcuts around conv2 and conv3 (Bi-Real Net)",
                  binary_ops=3),
        ModelSpec("bipedalnet-strided", _bipedalnet.bipedalnet_strided, _bipedalnet.INPUT_SHAPE,
                  _bipedalnet.CLASSES, "BiPedalNet Table 1, conv1 strided instead of pooled (this project)",
                  "BiPedalNet whose conv1 steps 2 in place of its 2x2 max-pool (a quarter of conv1's work)",
                  binary_ops=4),
        ModelSpec("idnet", _idnet.idnet, _idnet.INPUT_SHAPE, _idnet.CLASSES,
                  "BiPedalNet Table 2 (IDNet)", "float IDNet CNN baseline"),
        ModelSpec("idnet-offtheshelf", _idnet.idnet_offtheshelf, _idnet.INPUT_SHAPE, _idnet.CLASSES,
                  "BiPedalNet Table 2 (binarized IDNet)",
                  "IDNet binarized off the shelf (Larq defaults; ReLU and biases kept)",
                  binary_ops=3),  # conv1 on the one-channel signal's signs runs in float (rewrites, issue 27)
        ModelSpec("idnet-binary", _idnet.idnet_binary, _idnet.INPUT_SHAPE, _idnet.CLASSES,
                  "BiPedalNet Table 2, extra row", "IDNet binarized as BNNs are built (BatchNorm before each sign)",
                  binary_ops=3),
        *_activity_specs(),
        *(ModelSpec(name, constructor, _lresnet.INPUT_SHAPE, _lresnet.CLASSES, paper, description, GEI,
                    training=dict(recipes.LRESNET),
                    binary_ops=binary_ops, test_shape=(32, 32, 1),
                    reference=IMAGENET if name.startswith("resnet50") else IMAGENET_GHOST)
          for name, constructor, paper, description, binary_ops in (
              ("resnet50", _lresnet.plain_resnet50, "L-ResNet-50 Table 4 (ResNet-50)", "ResNet-50 on GEIs", 0),
              ("resnet50-zero-gamma", _lresnet.resnet50_zero_gamma, "L-ResNet-50 Tables 2-3 (ResNet-50, same init)",
               "ResNet-50 with the Ghost networks' zero-gamma initialization", 0),
              ("lresnet50", _lresnet.lresnet50, "L-ResNet-50 Table 4 (L-ResNet-50)",
               "ResNet-50 with Ghost modules (half ordinary, half 3x3 depthwise)", 0),
              ("lresnet50-binary", _lresnet.lresnet50_binary, "L-ResNet-50, binarized (this project)",
               "L-ResNet-50 with binary primary convolutions in the residual stages", 48),
          )),
        *(ModelSpec(name, _embedding_constructor(builder), _embeddings.INPUT_SHAPE, size, paper, description, AUTH,
                    "embedding", dict(recipes.SIAMESE),
                    binary_ops=binary_ops)
          for name, builder, size, paper, description, binary_ops in (
              ("lenet4", _embeddings.lenet4, _embeddings.EMBEDDING, "MM'19 Table 1 (LeNet4)",
               "siamese embedding network: 3 convolutions, dense 256", 0),
              ("vgg8", _embeddings.vgg8, _embeddings.EMBEDDING // 2, "MM'19 Table 1 (VGG8)",
               "siamese embedding network: 6 convolutions, 2 dense", 0),
              ("mobilenetv2", _embeddings.mobilenetv2, _embeddings.EMBEDDING // 2, "MM'19 Table 1 (MobileNetv2)",
               "siamese embedding network: inverted residual blocks", 0),
              ("lenet4-binary", _embeddings.lenet4_binary, _embeddings.EMBEDDING,
               "MM'19 LeNet4, binarized (this project)", "LeNet4 with binary conv2, conv3 and embedding layer", 3),
          )),
        ModelSpec("bipedalnet-embedding", _bipedalnet.bipedalnet_embedding, _bipedalnet.INPUT_SHAPE,
                  _bipedalnet.EMBEDDING, "BiPedalNet Table 1 body, class layer replaced by an embedding (this project)",
                  "binary gait embedding for open-set verification", VERIFY, "embedding", dict(recipes.VERIFICATION),
                  binary_ops=3),
        ModelSpec("bipedalnet-float-ends-embedding", _bipedalnet.bipedalnet_float_ends_embedding,
                  _bipedalnet.INPUT_SHAPE, _bipedalnet.EMBEDDING,
                  "bipedalnet-float-ends body, class layer replaced by an embedding (this project)",
                  "binary gait embedding, real-valued first layer", VERIFY, "embedding", dict(recipes.VERIFICATION),
                  binary_ops=3),
        ModelSpec("idnet-embedding", _idnet.idnet_embedding, _idnet.INPUT_SHAPE, _idnet.EMBEDDING,
                  "IDNet body, softmax layer replaced by an embedding (this project)",
                  "float gait embedding for open-set verification", VERIFY, "embedding", dict(recipes.VERIFICATION)),
    ]
}


def names() -> list:
    return list(_SPECS)


def get_spec(name: str) -> ModelSpec:
    return lookup(_SPECS, name, "model", " (see 'gaitbnn models')")


def build(name: str, input_shape: tuple | None = None, classes: int | None = None, **options) -> tf.keras.Model:
    """Build a fresh model by name; defaults are the paper's input shape and class count.

    ``classes`` is the number of outputs: classes, or attributes for an attribute head.
    """
    spec = get_spec(name)
    return spec.constructor(input_shape=tuple(input_shape or spec.input_shape), classes=int(classes or spec.classes),
                            **options)


def reference_counts(name: str) -> dict:
    """Parameters and multiply-accumulates of ``name`` at its paper's reference configuration (built once)."""
    reference = get_spec(name).reference
    if name not in _REFERENCE_COUNTS:
        model = build(name, reference.input_shape, reference.classes, **dict(reference.options))
        _REFERENCE_COUNTS[name] = {"input_shape": list(reference.input_shape), "classes": reference.classes,
                                   **count_params(model), "flops": count_flops(model)}
    return _REFERENCE_COUNTS[name]


_REFERENCE_COUNTS = {}


def describe(name: str) -> dict:
    """The row of ``gaitbnn models``: counts at the default input, and at the paper's reference configuration."""
    spec = get_spec(name)
    model = build(name)
    row = {"name": name, **count_params(model), "flops": count_flops(model), "input_shape": list(spec.input_shape),
           "classes": spec.classes, "paper": spec.paper}
    if spec.reference:  # the paper's own configuration (e.g. ImageNet for L-ResNet-50's Table 4)
        row[spec.reference.name] = reference_counts(name)
    return row


def count_flops(model: tf.keras.Model) -> int:
    """Multiply-accumulates of one forward pass (``larq.models.ModelProfile``; convolutions and dense layers).

    What L-ResNet-50's Table 4 and the GhostNet paper call FLOPs (ResNet-50: 4.1B at 224 x 224).
    """
    import larq

    return int(larq.models.ModelProfile(model).op_count("mac"))


def count_params(model: tf.keras.Model) -> dict:
    """Parameter counts and the deployed memory: 1 bit per binary weight, 32 bits per other parameter.

    A weight is binary when it is the kernel of a layer whose kernel quantizer has
    1-bit precision (``ste_sign``); biases, BatchNorm parameters and statistics are 32-bit.
    """
    return count_layer_params(model.layers)


def count_layer_params(layers: list) -> dict:
    """``count_params`` over a list of layers (Table 1 counts one layer at a time)."""
    binary = 0
    total = 0
    for layer in layers:
        quantizer = getattr(layer, "kernel_quantizer", None)
        one_bit = quantizer is not None and getattr(quantizer, "precision", 32) == 1
        for weight in layer.weights:
            size = int(weight.shape.num_elements())
            total += size
            if one_bit and weight is layer.kernel:
                binary += size
    floats = total - binary
    return {
        "params": total,
        "binary_params": binary,
        "float_params": floats,
        "memory_bytes": (binary + 7) // 8 + 4 * floats,
    }
