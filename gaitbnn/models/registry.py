"""Model registry: name -> constructor, default input shape and class count.

The CLI, the experiments and the tests iterate over it; nothing here reads files.
"""
from dataclasses import dataclass
from typing import Callable, Tuple

from gaitbnn.errors import InputError
from gaitbnn.models import bipedalnet as _bipedalnet
from gaitbnn.models import idnet as _idnet


@dataclass(frozen=True)
class ModelSpec:
    name: str
    constructor: Callable
    input_shape: Tuple[int, ...]
    classes: int
    paper: str
    description: str


_SPECS = {
    spec.name: spec
    for spec in [
        ModelSpec("bipedalnet", _bipedalnet.bipedalnet, _bipedalnet.INPUT_SHAPE, _bipedalnet.CLASSES,
                  "BiPedalNet Table 1", "binarized CNN for gait identification"),
        ModelSpec("idnet", _idnet.idnet, _idnet.INPUT_SHAPE, _idnet.CLASSES,
                  "BiPedalNet Table 2 (IDNet)", "float IDNet CNN baseline"),
        ModelSpec("idnet-binary", _idnet.idnet_binary, _idnet.INPUT_SHAPE, _idnet.CLASSES,
                  "BiPedalNet Table 2 (binarized IDNet)", "IDNet with binary weights and activations"),
    ]
}


def names():
    return list(_SPECS)


def get_spec(name):
    try:
        return _SPECS[name]
    except KeyError:
        raise InputError(f"unknown model '{name}': choose one of {', '.join(_SPECS)} (see 'gaitbnn models')") from None


def build(name, input_shape=None, classes=None):
    """Build a fresh model by name; defaults are the paper's input shape and class count."""
    spec = get_spec(name)
    return spec.constructor(tuple(input_shape or spec.input_shape), int(classes or spec.classes))


def count_params(model):
    """Parameter counts and the deployed memory: 1 bit per binary weight, 32 bits per other parameter.

    A weight is binary when it is the kernel of a layer whose kernel quantizer has
    1-bit precision (``ste_sign``); biases, BatchNorm parameters and statistics are 32-bit.
    """
    return count_layer_params(model.layers)


def count_layer_params(layers):
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
