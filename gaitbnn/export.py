"""Export to TFLite flatbuffers for the phone, with a size and parity report.

``arm64``: ``larq_compute_engine.convert_keras_model``; binary layers become
``LceBconv2d`` ops that LCE runs with bitwise kernels on ARM64 Android.
``float``: plain TensorFlow Lite float32 conversion of the same model, the
baseline to compare with. The report checks the flatbuffer against Keras in
``lce.testing.Interpreter`` (which runs LCE ops on x86 too).
"""
from collections import Counter
from pathlib import Path

import numpy as np
import tensorflow as tf

from gaitbnn import models, runs
from gaitbnn.errors import InputError

TARGETS = ("arm64", "float")


def convert(model, target):
    """The flatbuffer bytes of ``model`` for ``target``."""
    if target == "arm64":
        import larq_compute_engine as lce

        return bytes(lce.convert_keras_model(model))
    if target == "float":
        return bytes(tf.lite.TFLiteConverter.from_keras_model(model).convert())
    raise InputError(f"unknown export target '{target}': choose one of {', '.join(TARGETS)}")


def op_counts(flatbuffer):
    """Number of operators per op type (builtin name, or custom name such as LceBconv2d)."""
    from tensorflow.lite.python import schema_py_generated as schema
    from tensorflow.lite.tools import flatbuffer_utils

    builtin_names = {v: k for k, v in vars(schema.BuiltinOperator).items() if not k.startswith("_")}
    model = flatbuffer_utils.convert_bytearray_to_object(bytearray(flatbuffer))
    names = []
    for code in model.operatorCodes:
        if code.customCode:
            names.append(code.customCode.decode())
        else:
            names.append(builtin_names.get(max(code.builtinCode, code.deprecatedBuiltinCode), str(code.builtinCode)))
    return dict(Counter(names[op.opcodeIndex] for graph in model.subgraphs for op in graph.operators))


def run_flatbuffer(flatbuffer, x):
    """Outputs of the flatbuffer on ``x``, one input at a time, in LCE's interpreter."""
    import larq_compute_engine as lce

    interpreter = lce.testing.Interpreter(flatbuffer, num_threads=1)
    return np.concatenate([np.asarray(interpreter.predict(x[i:i + 1])) for i in range(len(x))])


def parity(model, flatbuffer, x):
    """Largest absolute output difference and argmax agreement, Keras vs flatbuffer."""
    expected = model.predict(x, verbose=0)
    actual = run_flatbuffer(flatbuffer, x).reshape(expected.shape)
    return {
        "max_abs_diff": float(np.max(np.abs(actual - expected))),
        "argmax_agreement": float(np.mean(actual.argmax(axis=1) == expected.argmax(axis=1))),
        "inputs_compared": int(len(x)),
        "outputs": int(expected.shape[-1]),
    }


def export(model, name, target, out_dir, x):
    """Write ``out_dir/NAME.tflite`` and ``out_dir/NAME.json`` (size, ops, parity); return the report."""
    out_dir = runs.prepare_output_dir(out_dir)
    try:
        flatbuffer = convert(model, target)
    except InputError:
        raise
    except Exception as err:  # the converters raise many types; the user needs one line
        raise InputError(f"model {name} cannot be converted for target {target}: {str(err).splitlines()[0]}") from None
    counts = models.count_params(model)
    report = {
        "model": name,
        "target": target,
        "size_bytes": len(flatbuffer),
        "one_bit_limit_bytes": counts["memory_bytes"],
        "ops": op_counts(flatbuffer),
        "parity": parity(model, flatbuffer, x),
    }
    tflite = Path(out_dir) / f"{name}.tflite"
    runs.write_bytes(tflite, flatbuffer)
    runs.write_json(Path(out_dir) / f"{name}.json", report)
    return report
