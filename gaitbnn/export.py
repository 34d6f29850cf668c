"""Export to TFLite flatbuffers for the phone, verified against Keras and sized.

``arm64``: ``larq_compute_engine.convert_keras_model``. A layer lands in LCE's
binary convolution (``LceBconv2d``) only when both its input and kernel
quantizers are binary, and LCE has no binary dense op: the models write their
dense layers as convolutions (``models.blocks.dense_as_conv``).
``float``: the plain TensorFlow Lite float32 conversion of the same model, the
baseline to compare with.

A trained run's normalization is folded into the exported model, which takes raw
windows; the report's ``input`` object, also embedded in the flatbuffer, is the
contract a phone app follows (``contract``). The report holds the flatbuffer size, the 1-bit limit (binary
weights at 1 bit, other parameters at 32), the op counts, the share of the
model's weights that sit in binary ops, and the parity of the flatbuffer run in
``lce.testing.Interpreter`` (LCE ops run on x86 too) against Keras. An export
whose parity is off fails and writes nothing.
"""
from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import tensorflow as tf

from gaitbnn import contract, models, runs
from gaitbnn.errors import InputError

TARGETS = ("arm64", "float")
MAX_ABS_DIFF = 1e-4  # on softmax outputs; LCE's own end-to-end tests allow 1e-3
BINARY_OP = "LceBconv2d"


class ParityError(InputError):
    """The flatbuffer's outputs differ from Keras beyond the tolerance."""


def fresh_model(name: str, seed: int = 0, count: int = 64, input_shape: tuple | None = None) -> tuple:
    """A registered model with seeded fresh weights, and seeded inputs to check it on.

    Two things keep a parity check on untrained weights meaningful:
    - BatchNorm statistics are estimated on the inputs (training-mode passes). With
      the initial ones (mean 0, variance 1) the integer outputs of a binary
      convolution stay integers, exact zeros reach the next sign, and a float
      flatbuffer, which folds BatchNorm into the convolution, rounds them to tiny
      values of either sign.
    - Inputs are multiples of 1/8, so the first convolution (binary weights on a
      real input) sums exactly in any order: Keras and the interpreter then see
      the same signs. Random real inputs hit sign ties within rounding error now
      and then, and one flipped sign moves an untrained network's peaked softmax.
    """
    from gaitbnn import families

    tf.keras.utils.set_random_seed(seed)
    model = models.build(name, input_shape)
    x = families.of(name).sample_inputs(model.input_shape[1:], count, seed)  # e.g. [0, 1] for activity windows
    for _ in range(20):
        model(x, training=True)
    return model, x


def convert(model: tf.keras.Model, target: str) -> bytes:
    """The flatbuffer bytes of ``model`` for ``target``."""
    if target not in TARGETS:
        raise InputError(f"unknown export target '{target}': choose one of {', '.join(TARGETS)}")
    try:
        if target == "arm64":
            import larq_compute_engine as lce

            return bytes(lce.convert_keras_model(model))
        return bytes(tf.lite.TFLiteConverter.from_keras_model(model).convert())
    except Exception as err:  # the converters raise many types; the user needs one line
        first = (str(err).strip().splitlines() or [type(err).__name__])[0]
        raise InputError(f"model {model.name} cannot be converted for target {target}: {first}") from None


def graph_of(flatbuffer: bytes) -> object:
    """The flatbuffer as TFLite's schema objects (``ModelT``: operator codes, subgraphs, buffers, metadata)."""
    from tensorflow.lite.tools import flatbuffer_utils

    return flatbuffer_utils.convert_bytearray_to_object(bytearray(flatbuffer))


def _op_names(graph):
    from tensorflow.lite.python import schema_py_generated as schema

    builtin = {v: k for k, v in vars(schema.BuiltinOperator).items() if not k.startswith("_")}
    return [code.customCode.decode() if code.customCode
            else builtin.get(max(code.builtinCode, code.deprecatedBuiltinCode), str(code.builtinCode))
            for code in graph.operatorCodes]


def op_counts(flatbuffer: bytes) -> dict:
    """Number of operators per op type (builtin name, or custom name such as LceBconv2d)."""
    graph = graph_of(flatbuffer)
    names = _op_names(graph)
    return dict(Counter(names[op.opcodeIndex] for sub in graph.subgraphs for op in sub.operators))


def binary_op_weights(flatbuffer: bytes) -> int:
    """Number of weights held by binary convolutions: out x kh x kw x channels_in for each LceBconv2d."""
    from flatbuffers import flexbuffers

    graph = graph_of(flatbuffer)
    names = _op_names(graph)
    total = 0
    for sub in graph.subgraphs:
        for op in sub.operators:
            if names[op.opcodeIndex] == BINARY_OP:
                out, kh, kw, _ = sub.tensors[op.inputs[1]].shape  # bit-packed along the input channels
                total += int(out * kh * kw * flexbuffers.Loads(bytes(op.customOptions))["channels_in"])
    return total


def run_flatbuffer(flatbuffer: bytes, x: np.ndarray, threads: int = 1) -> np.ndarray:
    """Outputs of the flatbuffer on ``x``, one input at a time, in LCE's interpreter."""
    import larq_compute_engine as lce

    interpreter = lce.testing.Interpreter(flatbuffer, num_threads=threads)
    return np.concatenate([np.asarray(interpreter.predict(x[i:i + 1])) for i in range(len(x))])


def parity(model: tf.keras.Model, flatbuffer: bytes, x: np.ndarray) -> dict:
    """Largest absolute output difference and argmax agreement, Keras vs flatbuffer."""
    expected = model.predict(x, verbose=0)
    actual = run_flatbuffer(flatbuffer, x).reshape(expected.shape)
    return {
        "max_abs_diff": float(np.max(np.abs(actual - expected))),
        "max_abs_output": float(np.max(np.abs(expected))),
        "argmax_agreement": float(np.mean(actual.argmax(axis=1) == expected.argmax(axis=1))),
        "inputs_compared": int(len(x)),
        "outputs": int(expected.shape[-1]),
    }


def report(model: tf.keras.Model, name: str, target: str, flatbuffer: bytes, x: np.ndarray,
           counted: tf.keras.Model | None = None) -> dict:
    """The export report of ``flatbuffer`` converted from ``model`` (see the module docstring); ``counted``: the
    model whose parameters are counted, when ``model`` wraps it (the raw-input model around a trained one)."""
    counts = models.count_params(counted or model)
    return {
        "model": name,
        "target": target,
        "size_bytes": len(flatbuffer),
        "one_bit_limit_bytes": counts["memory_bytes"],
        "params": counts["params"],
        "binary_params": counts["binary_params"],
        "ops": op_counts(flatbuffer),
        "binary_weight_fraction": binary_op_weights(flatbuffer) / counts["params"],
        "parity": parity(model, flatbuffer, x),
    }


def check_parity(result: dict) -> None:
    """Raise ``ParityError`` saying by how much, unless argmax agrees everywhere and outputs are within 1e-4.

    The limit is relative for outputs larger than 1 (an embedding network's raw features): 1e-4 of the largest.
    """
    p = result["parity"]
    limit = MAX_ABS_DIFF * max(1.0, p.get("max_abs_output", 1.0))
    if p["argmax_agreement"] < 1.0 or p["max_abs_diff"] > limit:
        raise ParityError(
            f"{result['model']} ({result['target']}): flatbuffer differs from Keras: "
            f"max |diff| {p['max_abs_diff']:.2e} "
            f"(limit {limit:.1e}), argmax agreement {p['argmax_agreement']:.4f} on {p['inputs_compared']} "
            "inputs: nothing written; report this model as a conversion bug"
        )


def export(model: tf.keras.Model, name: str, target: str, out_dir: str | Path, x: np.ndarray,
           config: dict | None = None) -> dict:
    """Write ``out_dir/NAME.tflite`` and ``out_dir/NAME.json``; return the report. Nothing is written on failure.

    ``x``: inputs as ``model`` takes them; ``config``: the run's (its normalization is folded into the exported
    model, and parity is checked on ``x`` turned back into raw windows).
    """
    raw_model, x_raw = contract.raw_input_model(model, config), contract.to_raw(x, config)
    described = contract.describe(name, model, config)
    flatbuffer = contract.embed(convert(raw_model, target), described)
    result = report(raw_model, name, target, flatbuffer, x_raw, counted=model)
    result["input"] = described
    check_parity(result)
    out_dir = runs.writable_dir(out_dir)
    runs.write_bytes(Path(out_dir) / f"{name}.tflite", flatbuffer)
    runs.write_json(Path(out_dir) / f"{name}.json", result)
    return result
