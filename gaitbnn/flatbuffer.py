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


def with_short_tensor_names(flatbuffer: bytes, model_names: tuple) -> bytes:
    """``flatbuffer`` with its tensors named by layer: the converter's names repeat every enclosing Keras model's
    name (``NAME_raw_input/NAME/conv2/...``) and join the names of fused ops with ``;``, hundreds of bytes of a
    model that fits in kilobytes. Each name keeps its first part without the leading ``model_names``
    (``conv2/ste_sign_1/Sign_1``). Tensors are found by index (signatures, the runtime), so nothing else changes.
    """
    from tensorflow.lite.tools import flatbuffer_utils

    graph = graph_of(flatbuffer)
    prefixes = tuple(f"{name}/".encode() for name in model_names)
    for sub in graph.subgraphs:
        for tensor in sub.tensors:
            name = bytes(tensor.name or b"").split(b";")[0]
            while name.startswith(prefixes):
                name = name.split(b"/", 1)[1]
            tensor.name = name
    return bytes(flatbuffer_utils.convert_object_to_bytearray(graph))


HALF_PRECISION_MIN_BYTES = 512  # smaller weight tensors are not worth an op
WEIGHT_OPS = ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED")


def with_float16_weights(flatbuffer: bytes) -> bytes:
    """``flatbuffer`` with every float32 weight tensor that float16 holds exactly stored as float16.

    Such a tensor (a filter of a float convolution or dense op, at least ``HALF_PRECISION_MIN_BYTES``: the +-1
    kernels of a binary-weight first layer, or a kernel trained through ``models.blocks.HalfPrecision``) takes
    half the bytes, and a ``DEQUANTIZE`` op turns it back into the same float32 values. TFLite dequantizes a
    constant once, at the first invoke, so inference runs the same kernels on the same numbers: the outputs are
    unchanged, bit for bit. Every other tensor is left as it is.
    """
    from tensorflow.lite.python import schema_py_generated as schema
    from tensorflow.lite.tools import flatbuffer_utils

    graph = graph_of(flatbuffer)
    names = op_names(graph)
    main = graph.subgraphs[0]
    filters = sorted({op.inputs[1] for op in main.operators if names[op.opcodeIndex] in WEIGHT_OPS})
    converted = []
    for index in filters:
        tensor = main.tensors[index]
        data = graph.buffers[tensor.buffer].data
        if tensor.type != schema.TensorType.FLOAT32 or data is None or len(data) < HALF_PRECISION_MIN_BYTES:
            continue
        values = np.frombuffer(bytes(data), np.float32)
        half = values.astype(np.float16)
        if not np.array_equal(half.astype(np.float32), values):  # float16 would change a weight: keep float32
            continue
        graph.buffers[tensor.buffer].data = None
        stored = schema.BufferT()
        stored.data = np.frombuffer(half.tobytes(), np.uint8)
        graph.buffers.append(stored)
        source = schema.TensorT()
        source.shape, source.type, source.buffer = tensor.shape, schema.TensorType.FLOAT16, len(graph.buffers) - 1
        source.name = bytes(tensor.name or b"") + b"/float16"
        main.tensors.append(source)
        converted.append((len(main.tensors) - 1, index))
    if not converted:
        return flatbuffer
    code = schema.OperatorCodeT()
    code.builtinCode = code.deprecatedBuiltinCode = schema.BuiltinOperator.DEQUANTIZE
    code.version = 3  # float16 input (TFLite's op_version.cc)
    graph.operatorCodes.append(code)
    dequantize = []
    for source, target in converted:
        op = schema.OperatorT()
        op.opcodeIndex, op.inputs, op.outputs = len(graph.operatorCodes) - 1, [source], [target]
        dequantize.append(op)
    main.operators = dequantize + main.operators  # before every op that reads the weights
    return bytes(flatbuffer_utils.convert_object_to_bytearray(graph))


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
