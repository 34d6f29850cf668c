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
``lce.testing.Interpreter`` (LCE ops run on x86 too) against Keras. An ``arm64``
export also runs on LCE's aarch64 kernels when ``make aarch64`` has built that
runtime (``aarch64``: parity there and instructions per inference; "not run"
otherwise). An export whose parity is off, on either, fails and writes nothing.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import tensorflow as tf

from gaitbnn import aarch64, contract, models, rewrites, runs
from gaitbnn import flatbuffer as tflite_file
from gaitbnn.errors import InputError

TARGETS = ("arm64", "float")
MAX_ABS_DIFF = 1e-4  # on softmax outputs; LCE's own end-to-end tests allow 1e-3
# An embedding network's features move by a whole step when one sign flips: on real-valued inputs, a value
# within float rounding of 0 before a sign (different summation orders in Keras and LCE) flips now and then. So
# an embedding passes with at most this share of its inputs beyond the limit, each still this close in direction.
EMBEDDING_TIES_SHARE, EMBEDDING_MIN_COSINE = 0.05, 0.99
BINARY_OP = tflite_file.BINARY_OP


class ParityError(InputError):
    """The flatbuffer's outputs differ from Keras beyond the tolerance."""


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


def run_flatbuffer(flatbuffer: bytes, x: np.ndarray, threads: int = 1) -> np.ndarray:
    """Outputs of the flatbuffer on ``x``, one input at a time, in LCE's interpreter."""
    import larq_compute_engine as lce

    interpreter = lce.testing.Interpreter(flatbuffer, num_threads=threads)
    return np.concatenate([np.asarray(interpreter.predict(x[i:i + 1])) for i in range(len(x))])


def compare_outputs(expected: np.ndarray, actual: np.ndarray) -> dict:
    """Largest absolute difference and argmax agreement of ``actual`` against ``expected`` (first axis: inputs)."""
    actual = np.asarray(actual).reshape(expected.shape)
    limit = MAX_ABS_DIFF * max(1.0, float(np.max(np.abs(expected))))
    flat_a, flat_e = actual.reshape(len(actual), -1), expected.reshape(len(expected), -1)
    cosine = (flat_a * flat_e).sum(1) / (np.linalg.norm(flat_a, axis=1) * np.linalg.norm(flat_e, axis=1) + 1e-12)
    return {
        "max_abs_diff": float(np.max(np.abs(actual - expected))),
        "max_abs_output": float(np.max(np.abs(expected))),
        "inputs_beyond_limit": int(np.sum(np.abs(flat_a - flat_e).max(axis=1) > limit)),
        "min_cosine": float(cosine.min()),
        "argmax_agreement": float(np.mean(actual.argmax(axis=1) == expected.argmax(axis=1))),
        "inputs_compared": int(len(expected)),
        "outputs": int(expected.shape[-1]),
    }


def keras_outputs(model: tf.keras.Model, x: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """``model``'s inference outputs on ``x``, called eagerly batch by batch: the same function as ``predict``
    without tracing a new graph for each model (seconds per export)."""
    return np.concatenate([np.asarray(model(x[i:i + batch_size], training=False))
                           for i in range(0, len(x), batch_size)])


def parity(model: tf.keras.Model, flatbuffer: bytes, x: np.ndarray) -> dict:
    """Largest absolute output difference and argmax agreement, Keras vs flatbuffer (LCE's x86 interpreter)."""
    return compare_outputs(keras_outputs(model, x), run_flatbuffer(flatbuffer, x))


EXPORT_BUDGET = 5e7  # guest instructions of an export's aarch64 check: BiPedalNet 88 inputs, ResNet-50 one


def on_aarch64(flatbuffer: bytes, x: np.ndarray, expected: np.ndarray, budget: float = EXPORT_BUDGET) -> dict:
    """The flatbuffer on LCE's aarch64 kernels (``gaitbnn.aarch64``): parity against ``expected`` (Keras's outputs
    on ``x``) and instructions per inference; ``{"status": "not run", "reason": ...}`` without the runtime.
    ``budget`` limits the guest instructions, so a large model is compared on the first inputs only."""
    runtime = aarch64.available()
    if runtime is None:
        return {"status": "not run", "reason": aarch64.missing_reason()}
    result = aarch64.run(flatbuffer, x, runtime=runtime, budget=budget)
    ran = len(result.outputs[0])
    return {
        "status": "ran",
        "parity": compare_outputs(expected[:ran], result.outputs[0]),
        "instructions_per_inference": round(result.instructions_per_inference),
        "instructions_by_op_type": result.instructions_by_op_type(),
        "cost_figure": aarch64.COST_FIGURE,
        "qemu_seconds": round(result.qemu_seconds, 2),
        "qemu_seconds_note": "wall time of the emulator: not a speed figure",
        "runtime": {k: runtime.facts.get(k) for k in ("lce", "tflite", "qemu_version", "bconv2d_kernel")},
    }


def report(model: tf.keras.Model, name: str, target: str, flatbuffer: bytes, x: np.ndarray,
           counted: tf.keras.Model | None = None, measured: dict | None = None) -> dict:
    """The export report of ``flatbuffer`` converted from ``model`` (see the module docstring); ``counted``: the
    model whose parameters are counted, when ``model`` wraps it (the raw-input model around a trained one);
    ``measured``: the parity on ``x`` when the caller has it already (``exact_phone_file``'s)."""
    counts = models.count_params(counted or model)
    return {
        "model": name,
        "target": target,
        "size_bytes": len(flatbuffer),
        "one_bit_limit_bytes": counts["memory_bytes"],
        "params": counts["params"],
        "binary_params": counts["binary_params"],
        "ops": tflite_file.op_counts(flatbuffer),
        "binary_weight_fraction": tflite_file.binary_op_weights(flatbuffer) / counts["params"],
        "parity": measured or parity(model, flatbuffer, x),
    }


def check_parity(result: dict, measured: dict | None = None, where: str = "") -> None:
    """Raise ``ParityError`` saying by how much, unless argmax agrees everywhere and outputs are within 1e-4.

    ``measured``: another parity of the same flatbuffer than ``result["parity"]`` (e.g. on the aarch64 runtime,
    ``where`` then says so). The limit is relative for outputs larger than 1 (an embedding network's raw
    features): 1e-4 of the largest.
    """
    p = measured or result["parity"]
    limit = MAX_ABS_DIFF * max(1.0, p.get("max_abs_output", 1.0))
    if models.get_spec(result["model"]).head == "embedding" and "inputs_beyond_limit" in p:  # sign ties: above
        if p["inputs_beyond_limit"] <= EMBEDDING_TIES_SHARE * p["inputs_compared"] \
                and p["min_cosine"] >= EMBEDDING_MIN_COSINE:
            return
        raise ParityError(
            f"{result['model']} ({result['target']}): flatbuffer differs from Keras{where}: "
            f"{p['inputs_beyond_limit']} of {p['inputs_compared']} inputs beyond {limit:.1e} (at most "
            f"{EMBEDDING_TIES_SHARE:.0%}, sign ties), lowest cosine {p['min_cosine']:.4f} (at least "
            f"{EMBEDDING_MIN_COSINE}): nothing written; report this model as a conversion bug")
    if p["argmax_agreement"] < 1.0 or p["max_abs_diff"] > limit:
        raise ParityError(
            f"{result['model']} ({result['target']}): flatbuffer differs from Keras{where}: "
            f"max |diff| {p['max_abs_diff']:.2e} "
            f"(limit {limit:.1e}), argmax agreement {p['argmax_agreement']:.4f} on {p['inputs_compared']} "
            "inputs: nothing written; report this model as a conversion bug"
        )


def phone_file(model: tf.keras.Model, name: str, target: str, config: dict | None = None,
               rewrite: tuple = rewrites.REWRITES) -> bytes:
    """The flatbuffer ``export`` writes, and ``benchmark`` measures: ``model`` behind its run's normalization,
    rewritten for LCE's ops (arm64: ``rewrites.for_phone``, outputs unchanged), converted, with short tensor
    names, float16 storage where it holds the weights exactly (arm64), and the input contract embedded.
    ``rewrite``: which rewrites (all by default; the bench measures each one's gain)."""
    phone = rewrites.for_phone(model, rewrite) if target == "arm64" else model
    raw_phone = contract.raw_input_model(phone, config)
    converted = tflite_file.with_short_tensor_names(convert(raw_phone, target), (raw_phone.name, phone.name))
    if target == "arm64":  # the phone's file: weights float16 holds exactly take half the bytes
        converted = tflite_file.with_float16_weights(converted)
    return contract.embed(converted, contract.describe(name, model, config))


REWRITE_TOLERANCE = 1e-5  # a rewrite is kept only when the file stays this close to Keras (issue 27)


def within_rewrite_tolerance(p: dict) -> bool:
    """A rewritten file's parity ``p`` is within ``REWRITE_TOLERANCE``, argmax agreeing everywhere."""
    return p["argmax_agreement"] == 1.0 and p["max_abs_diff"] <= REWRITE_TOLERANCE * max(1.0, p["max_abs_output"])


def sign_tie_reference(model: tf.keras.Model, name: str, target: str, config: dict | None, x_raw: np.ndarray,
                       expected: np.ndarray) -> np.ndarray:
    """``expected``, but the outputs of the file without rewrites on the inputs where that file already differs
    from Keras (a sign tie of LCE's own arithmetic): a rewrite must not change those."""
    plain = np.asarray(run_flatbuffer(phone_file(model, name, target, config, rewrite=()), x_raw))
    plain = plain.reshape(expected.shape)
    limit = REWRITE_TOLERANCE * max(1.0, float(np.max(np.abs(expected))))
    tied = np.abs(plain - expected).reshape(len(expected), -1).max(axis=1) > limit
    return np.where(tied.reshape(-1, *[1] * (expected.ndim - 1)), plain, expected)


def exact_phone_file(model: tf.keras.Model, name: str, target: str, config: dict | None, x_raw: np.ndarray,
                     expected: np.ndarray) -> tuple:
    """``phone_file`` with the rewrites that keep its outputs within ``REWRITE_TOLERANCE`` of ``expected`` (the
    Keras outputs on raw inputs ``x_raw``, argmax agreeing everywhere): (flatbuffer, what was applied and
    dropped, the file's parity on ``x_raw`` in LCE's x86 interpreter).

    A rewrite is exact in real arithmetic; in float, folding a BatchNorm into a convolution rounds differently,
    and a value within rounding of a sign threshold can flip (seen once in 1,800 real windows of
    bipedalnet-float-ends). Such a rewrite is dropped for that run, the others kept, and the report says so.
    An input on which the file without rewrites already differs from Keras (a sign tie of LCE's own arithmetic,
    ``EMBEDDING_TIES_SHARE``) is judged against that file's outputs: a rewrite must not change them (that file
    is converted only when a rewritten one misses Keras).
    """
    applicable = rewrites.applied(model) if target == "arm64" else {}
    used = tuple(r for r, layers in applicable.items() if layers)
    dropped, reference = {}, None  # the sign-tie reference, made only when a rewritten file misses ``expected``
    for drop in ((), *((r,) for r in used), used):  # all; all but one; none
        kept = tuple(r for r in used if r not in drop)
        flatbuffer = phone_file(model, name, target, config, rewrite=kept)
        outputs = run_flatbuffer(flatbuffer, x_raw)
        if not kept or within_rewrite_tolerance(compare_outputs(expected, outputs)):
            break
        if reference is None:
            reference = sign_tie_reference(model, name, target, config, x_raw, expected)
        p = compare_outputs(reference, outputs)
        if within_rewrite_tolerance(p):
            break
        dropped[",".join(kept)] = f"max |diff| {p['max_abs_diff']:.1e}, argmax agreement {p['argmax_agreement']:.4f}"
    kept_report = {"applied": {r: applicable[r] for r in kept}, "tried_and_dropped": dropped,
                   "tolerance": REWRITE_TOLERANCE}
    return flatbuffer, kept_report, compare_outputs(expected, outputs)  # the file's parity: against Keras


def export(model: tf.keras.Model, name: str, target: str, out_dir: str | Path, x: np.ndarray,
           config: dict | None = None) -> dict:
    """Write ``out_dir/NAME.tflite`` and ``out_dir/NAME.json``; return the report. Nothing is written on failure.

    ``x``: inputs as ``model`` takes them; ``config``: the run's (its normalization is folded into the exported
    model, and parity is checked on ``x`` turned back into raw windows, against the model as trained).
    """
    raw_model, x_raw = contract.raw_input_model(model, config), contract.to_raw(x, config)
    expected = keras_outputs(raw_model, x_raw)
    flatbuffer, kept, measured = exact_phone_file(model, name, target, config, x_raw, expected)
    result = report(raw_model, name, target, flatbuffer, x_raw, counted=model, measured=measured)
    result["input"] = contract.describe(name, model, config)
    result["rewrites"] = kept
    check_parity(result)
    if target == "arm64":  # the kernels a phone runs, where the runtime is built
        result["aarch64"] = on_aarch64(flatbuffer, x_raw, expected)
        if result["aarch64"]["status"] == "ran":
            check_parity(result, result["aarch64"]["parity"], " on the aarch64 runtime")
    out_dir = runs.writable_dir(out_dir)
    runs.write_bytes(Path(out_dir) / f"{name}.tflite", flatbuffer)
    runs.write_json(Path(out_dir) / f"{name}.json", result)
    return result
