"""Reading TFLite flatbuffers: the file check, TFLite's schema objects, op types, signatures, input tensors.

The one parser of ``.tflite`` files for export reports, the input contract, benchmarks and the aarch64 runner.
"""
from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np

from gaitbnn.errors import InputError

TFLITE_IDENTIFIER = b"TFL3"
BINARY_OP = "LceBconv2d"


def read(path: str | Path) -> bytes:
    """The bytes of a .tflite file, checked to be a TFLite flatbuffer."""
    try:
        data = Path(path).read_bytes()
    except OSError as err:
        raise InputError(f"{path}: cannot read ({err.strerror}): pass a .tflite file written by "
                         "'gaitbnn export'") from None
    if data[4:8] != TFLITE_IDENTIFIER:
        raise InputError(f"{path}: not a TFLite flatbuffer (no TFL3 identifier): pass a .tflite file")
    return data


def graph_of(flatbuffer: bytes) -> object:
    """The flatbuffer as TFLite's schema objects (``ModelT``: operator codes, subgraphs, buffers, metadata)."""
    from tensorflow.lite.tools import flatbuffer_utils

    return flatbuffer_utils.convert_bytearray_to_object(bytearray(flatbuffer))


def op_names(graph: object) -> list:
    """The op type of each operator code of ``graph``: the builtin's name, or the custom name (``LceBconv2d``)."""
    from tensorflow.lite.python import schema_py_generated as schema

    builtin = {v: k for k, v in vars(schema.BuiltinOperator).items() if not k.startswith("_")}
    return [code.customCode.decode() if code.customCode
            else builtin.get(max(code.builtinCode, code.deprecatedBuiltinCode), str(code.builtinCode))
            for code in graph.operatorCodes]


def op_counts(flatbuffer: bytes) -> dict:
    """Number of operators per op type (builtin name, or custom name such as LceBconv2d)."""
    graph = graph_of(flatbuffer)
    names = op_names(graph)
    return dict(Counter(names[op.opcodeIndex] for sub in graph.subgraphs for op in sub.operators))


def binary_op_weights(flatbuffer: bytes) -> int:
    """Number of weights held by binary convolutions: out x kh x kw x channels_in for each LceBconv2d."""
    from flatbuffers import flexbuffers

    graph = graph_of(flatbuffer)
    names = op_names(graph)
    total = 0
    for sub in graph.subgraphs:
        for op in sub.operators:
            if names[op.opcodeIndex] == BINARY_OP:
                out, kh, kw, _ = sub.tensors[op.inputs[1]].shape  # bit-packed along the input channels
                total += int(out * kh * kw * flexbuffers.Loads(bytes(op.customOptions))["channels_in"])
    return total


def signature_names(flatbuffer: bytes) -> list:
    """The names of a flatbuffer's signatures (``train``, ``infer``, ... for on-device training)."""
    graph = graph_of(flatbuffer)
    return [d.signatureKey.decode() if isinstance(d.signatureKey, bytes) else d.signatureKey
            for d in graph.signatureDefs or []]


def input_tensors(flatbuffer: bytes) -> list:
    """``(shape, numpy dtype)`` of each input of the main subgraph, in order (a dynamic batch counts as 1)."""
    from tensorflow.lite.python import schema_py_generated as schema

    types = {v: k for k, v in vars(schema.TensorType).items() if not k.startswith("_")}
    graph = graph_of(flatbuffer)
    main = graph.subgraphs[0]
    specs = []
    for index in main.inputs:
        tensor = main.tensors[index]
        name = types[tensor.type].lower()
        try:
            dtype = np.dtype("bool" if name == "bool" else name)
        except TypeError:
            raise InputError(f"the flatbuffer's input {tensor.name.decode()} is of type {name.upper()}, which gaitbnn "
                             "cannot make inputs for (float, integer and bool inputs only)") from None
        specs.append((tuple(max(int(d), 1) for d in tensor.shape), dtype))
    return specs
