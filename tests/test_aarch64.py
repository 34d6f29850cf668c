"""LCE's real aarch64 kernels under qemu (``make aarch64``): parity with x86 per op family, instruction counts,
the CLI on any flatbuffer, and one clear line for each failure. Without the runtime these tests skip, saying
how to build it; the runtime-missing errors are checked either way."""
import json

import larq as lq
import larq_compute_engine as lce
import numpy as np
import pytest
import tensorflow as tf
from click.testing import CliRunner

from gaitbnn import aarch64, aarch64_bench, contract, export, families
from gaitbnn import flatbuffer as tflite_file
from gaitbnn.cli import main
from gaitbnn.errors import InputError
from gaitbnn.models.blocks import Thermometer

BINARY = dict(input_quantizer="ste_sign", kernel_quantizer="ste_sign", kernel_constraint="weight_clip",
              use_bias=False)


@pytest.fixture(scope="module")
def runtime():
    found = aarch64.available()
    if found is None:
        pytest.skip(aarch64.missing_reason())
    return found


def binary_conv(filters, **options):
    return lq.layers.QuantConv2D(filters, 3, padding="same", pad_values=1.0, **{**BINARY, **options})


def batch_norm():
    return tf.keras.layers.BatchNormalization(momentum=0.5)


def _bconv_float_output(x):
    return tf.keras.layers.GlobalAveragePooling2D()(batch_norm()(binary_conv(32)(x)))


def _bconv_bitpacked_output(x):
    x = batch_norm()(binary_conv(32)(x))
    return tf.keras.layers.GlobalAveragePooling2D()(batch_norm()(binary_conv(32)(x)))


def _bmaxpool(x):
    x = tf.keras.layers.MaxPooling2D(2)(batch_norm()(binary_conv(32)(x)))
    return tf.keras.layers.GlobalAveragePooling2D()(batch_norm()(binary_conv(32)(x)))


def _quantize_dequantize(x):
    x = batch_norm()(lq.layers.QuantConv2D(8, 3, padding="same", kernel_quantizer="ste_sign", use_bias=False)(x))
    return tf.keras.layers.Dense(5)(tf.keras.layers.Flatten()(lq.quantizers.SteSign()(x)))


def _thermometer(x):
    return _bconv_float_output(Thermometer(8)(x))


# (id, body, input shape, input maker, an op the graph must hold, its output type or None)
OP_FAMILIES = [
    ("bconv-float-output", _bconv_float_output, (8, 8, 4), families.normal_grid, "LceBconv2d", "FLOAT32"),
    ("bconv-bitpacked-output", _bconv_bitpacked_output, (8, 8, 4), families.normal_grid, "LceBconv2d", "INT32"),
    ("bmaxpool", _bmaxpool, (8, 8, 4), families.normal_grid, "LceBMaxPool2d", None),
    ("quantize-dequantize", _quantize_dequantize, (8, 8, 4), families.normal_grid, "LceDequantize", None),
    ("thermometer-input", _thermometer, (16, 1, 1), families.unit_grid, "LceBconv2d", None),
]


def settled(body, shape, inputs, seed=0):
    """A tiny model with seeded weights and BatchNorm statistics estimated on its inputs (see families.fresh_model)."""
    tf.keras.utils.set_random_seed(seed)
    x = tf.keras.Input(shape)
    model = tf.keras.Model(x, body(x))
    for _ in range(10):
        model(inputs, training=True)
    return model


def output_types(flatbuffer, op_type):
    from tensorflow.lite.python import schema_py_generated as schema

    names = {v: k for k, v in vars(schema.TensorType).items() if not k.startswith("_")}
    graph = tflite_file.graph_of(flatbuffer)
    ops = tflite_file.op_names(graph)
    main_graph = graph.subgraphs[0]
    return {names[main_graph.tensors[o].type] for op in main_graph.operators if ops[op.opcodeIndex] == op_type
            for o in op.outputs}


@pytest.mark.parametrize("case, body, shape, make_inputs, op_type, out_type", OP_FAMILIES,
                         ids=[c[0] for c in OP_FAMILIES])
def test_op_family_same_outputs_on_aarch64_as_on_x86(case, body, shape, make_inputs, op_type, out_type, runtime):
    x = make_inputs(shape, 16, 1)
    model = settled(body, shape, x)
    flatbuffer = bytes(lce.convert_keras_model(model))
    assert op_type in tflite_file.op_counts(flatbuffer)
    if out_type:
        assert out_type in output_types(flatbuffer, op_type)
    x86 = export.run_flatbuffer(flatbuffer, x)
    run = aarch64.run(flatbuffer, x, runtime=runtime)
    assert run.outputs[0].shape == x86.shape
    assert np.max(np.abs(run.outputs[0] - x86)) <= 1e-5
    assert np.max(np.abs(run.outputs[0] - model.predict(x, verbose=0))) <= 1e-4
    assert len(run.instructions) == 16 and min(run.instructions) > 0


def test_folded_normalization_same_outputs_on_aarch64(runtime):
    """A trained run's standardization, folded into the exported graph, runs on aarch64 as on x86."""
    shape = (6, 16, 1)
    normalized = families.normal_grid(shape, 16, 2)
    body = settled(_bconv_float_output, shape, normalized)
    config = {"normalization": {"mean": [0.5, -1, 9.8, 0, 0.1, -0.2], "std": [2, 4, 0.5, 1, 0.25, 8]}}
    raw_model, raw = contract.raw_input_model(body, config), contract.to_raw(normalized, config)
    flatbuffer = bytes(lce.convert_keras_model(raw_model))
    assert {"MUL", "ADD"} <= set(tflite_file.op_counts(flatbuffer)) and "SUB" not in tflite_file.op_counts(flatbuffer)
    run = aarch64.run(flatbuffer, raw, runtime=runtime)
    assert np.max(np.abs(run.outputs[0] - export.run_flatbuffer(flatbuffer, raw))) <= 1e-5
    assert np.max(np.abs(run.outputs[0] - body.predict(normalized, verbose=0))) <= 1e-4


def test_folded_normalization_adds_the_negated_mean_at_a_quarter_of_a_subs_cost(runtime):
    """The same standardization written with SUB (TFLite's broadcasting SUB has no NEON path) costs over 3x
    the ADD and MUL the export writes (measured on a gait window: 22,446 against 5,708 instructions)."""
    config = {"normalization": {"mean": [0.5, -1, 9.8, 0, 0.1, -0.2], "std": [2, 4, 0.5, 1, 0.25, 8]}}
    layer = contract.normalizer(config)
    mean = tf.constant(np.reshape(np.float32(config["normalization"]["mean"]), (1, 6, 1, 1)))
    scale = tf.constant(np.reshape(np.float32(layer.scale), (1, 6, 1, 1)))
    inputs = tf.keras.Input((6, 98, 1), batch_size=1)
    raw = contract.to_raw(families.normal_grid((6, 98, 1), 4, 3), config)
    costs = {}
    for form, output in (("export", layer(inputs)), ("sub", (inputs - mean) * scale)):
        flatbuffer = bytes(lce.convert_keras_model(tf.keras.Model(inputs, output)))
        costs[form] = aarch64.run(flatbuffer, raw, runtime=runtime)
    assert set(costs["sub"].instructions_by_op_type()) >= {"SUB"}
    assert np.array_equal(costs["export"].outputs[0], costs["sub"].outputs[0])
    assert 3 * costs["export"].instructions_per_inference < costs["sub"].instructions_per_inference


@pytest.fixture(scope="module")
def bipedalnet_targets(runtime):
    model, x = families.fresh_model("bipedalnet")
    flatbuffers = {t: export.convert(model, t) for t in export.TARGETS}
    runs = {t: aarch64.run(fb, x[:8], runtime=runtime) for t, fb in flatbuffers.items()}
    return model, x[:8], flatbuffers, runs


def test_binary_target_costs_fewer_instructions_than_float(bipedalnet_targets):
    _, _, _, runs = bipedalnet_targets
    arm, flt = runs["arm64"], runs["float"]
    assert arm.instructions_per_inference * 2 < flt.instructions_per_inference  # measured: 3.4x fewer
    assert "LceBconv2d" in arm.instructions_by_op_type() and "LceBconv2d" not in flt.instructions_by_op_type()


def test_op_counts_add_up_to_the_inference(bipedalnet_targets):
    _, _, _, runs = bipedalnet_targets
    run = runs["arm64"]
    by_type = run.instructions_by_op_type()
    assert sum(by_type.values()) == pytest.approx(run.instructions_per_inference, rel=0.01)
    assert [op["op"] for op in run.ops] == [op["op"] for op in run.description["ops"]]
    assert by_type["LceBconv2d"] > 0 and by_type["CONV_2D"] > 0


def test_instruction_counts_are_deterministic(bipedalnet_targets, runtime):
    _, x, flatbuffers, runs = bipedalnet_targets
    again = aarch64.run(flatbuffers["arm64"], x, runtime=runtime)
    assert again.instructions == runs["arm64"].instructions
    assert np.array_equal(again.outputs[0], runs["arm64"].outputs[0])


def test_bipedalnet_parity_on_aarch64(bipedalnet_targets):
    model, x, _, runs = bipedalnet_targets
    expected = model.predict(x, verbose=0)
    for target in export.TARGETS:
        parity = export.compare_outputs(expected, runs[target].outputs[0])
        assert parity["max_abs_diff"] <= 1e-5 and parity["argmax_agreement"] == 1.0


def test_runner_has_the_optimized_kernels(runtime):
    import subprocess

    result = subprocess.run(runtime.command(runtime.runner, "--check-kernels"), capture_output=True, text=True)
    assert result.returncode == 0 and "optimized bgemm" in result.stdout


def test_export_report_records_aarch64(runtime, tmp_path):
    model, x = families.fresh_model("bipedalnet")
    report = export.export(model, "bipedalnet", "arm64", tmp_path, x[:16])
    run = report["aarch64"]
    assert run["status"] == "ran" and run["parity"]["max_abs_diff"] <= 1e-5
    assert run["parity"]["argmax_agreement"] == 1.0 and run["parity"]["inputs_compared"] == 16
    assert run["instructions_per_inference"] == pytest.approx(sum(run["instructions_by_op_type"].values()), rel=0.01)
    assert json.loads((tmp_path / "bipedalnet.json").read_text())["aarch64"] == run


def test_export_report_says_not_run_without_the_runtime(tmp_path, monkeypatch):
    """A small binary gait classifier stands in for BiPedalNet (whose own export is checked above): any arm64
    export says why it did not run on aarch64, a float export has no aarch64 entry."""
    monkeypatch.setenv(aarch64.RUNTIME_ENV, str(tmp_path / "nowhere"))
    tf.keras.utils.set_random_seed(5)
    model = tf.keras.Sequential([tf.keras.Input((6, 16, 1)), lq.layers.QuantConv2D(8, 3, kernel_quantizer="ste_sign"),
                                 binary_conv(32), tf.keras.layers.Flatten(), tf.keras.layers.Activation("softmax")])
    x = np.random.default_rng(5).normal(size=(4, 6, 16, 1)).astype(np.float32)
    report = export.export(model, "bipedalnet", "arm64", tmp_path / "out", x)
    assert report["aarch64"]["status"] == "not run" and "make aarch64" in report["aarch64"]["reason"]
    assert (tmp_path / "out" / "bipedalnet.tflite").exists()
    assert "aarch64" not in export.export(model, "bipedalnet", "float", tmp_path / "float", x)


def test_aarch64_parity_failure_writes_nothing(runtime, tmp_path, monkeypatch):
    real = aarch64.run

    def off(*args, **kwargs):
        result = real(*args, **kwargs)
        result.outputs = [o + 0.01 for o in result.outputs]
        return result

    monkeypatch.setattr(aarch64, "run", off)
    model, x = families.fresh_model("bipedalnet")
    with pytest.raises(export.ParityError, match="on the aarch64 runtime: max"):
        export.export(model, "bipedalnet", "arm64", tmp_path / "out", x[:4])
    assert not (tmp_path / "out" / "bipedalnet.tflite").exists()


@pytest.fixture(scope="module")
def foreign_flatbuffer(tmp_path_factory):
    """A flatbuffer gaitbnn did not export: plain lce.convert_keras_model of a small Larq model."""
    tf.keras.utils.set_random_seed(3)
    model = tf.keras.Sequential([tf.keras.Input((12, 12, 3)), lq.layers.QuantConv2D(16, 3, kernel_quantizer="ste_sign"),
                                 binary_conv(64), tf.keras.layers.BatchNormalization(), tf.keras.layers.Flatten(),
                                 tf.keras.layers.Dense(4)])
    path = tmp_path_factory.mktemp("foreign") / "small_larq.tflite"
    path.write_bytes(lce.convert_keras_model(model))
    return path


def test_benchmark_any_flatbuffer_on_aarch64(foreign_flatbuffer, runtime):
    result = CliRunner().invoke(main, ["benchmark", str(foreign_flatbuffer), "--aarch64", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["instructions_per_inference"] > 0 and "LceBconv2d" in report["instructions_by_op_type"]
    assert "LceBconv2d" in report["lce_benchmark_model_op_profile"]
    assert report["lce_benchmark_model_average_us"] > 0 and "not a speed figure" in report["time_note"]
    text = CliRunner().invoke(main, ["benchmark", str(foreign_flatbuffer), "--aarch64"]).output
    assert "guest aarch64 instructions per inference" in text and "not a speed figure" in text


def _renamed_op(flatbuffer, old, new):
    from tensorflow.lite.tools import flatbuffer_utils

    graph = tflite_file.graph_of(flatbuffer)
    for code in graph.operatorCodes:
        if code.customCode and code.customCode.decode() == old:
            code.customCode = new.encode()
    return bytes(flatbuffer_utils.convert_object_to_bytearray(graph))


def test_op_the_runtime_lacks_is_one_line(foreign_flatbuffer, runtime, tmp_path):
    path = tmp_path / "unknown_op.tflite"
    path.write_bytes(_renamed_op(foreign_flatbuffer.read_bytes(), "LceBconv2d", "LceBconv3d"))
    result = CliRunner().invoke(main, ["benchmark", str(path), "--aarch64"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.output.count("\n") == 1 and "LceBconv3d" in result.output
    assert "does not run on the aarch64 runtime" in result.output
    with pytest.raises(InputError, match="unresolved custom op: LceBconv3d"):
        aarch64.run(path, np.zeros((1, 12, 12, 3), np.float32), runtime=runtime)


@pytest.mark.parametrize("argv", [["benchmark", "{tflite}", "--aarch64"], ["bench", "--aarch64", "--models",
                                                                         "bipedalnet", "--out", "{tmp}/bench"]],
                         ids=["benchmark", "bench"])
def test_missing_runtime_is_one_line(argv, foreign_flatbuffer, tmp_path):
    argv = [a.replace("{tflite}", str(foreign_flatbuffer)).replace("{tmp}", str(tmp_path)) for a in argv]
    result = CliRunner().invoke(main, argv, env={aarch64.RUNTIME_ENV: str(tmp_path / "nowhere")})
    assert result.exit_code == 1 and result.output.count("\n") == 1
    assert "aarch64 runtime is not built" in result.output and "make aarch64" in result.output
    assert not (tmp_path / "bench").exists()


def test_missing_flatbuffer_is_one_line(tmp_path):
    result = CliRunner().invoke(main, ["benchmark", str(tmp_path / "absent.tflite"), "--aarch64"])
    assert result.exit_code == 1 and result.output.count("\n") == 1 and "cannot read" in result.output


def test_bench_aarch64_writes_every_file(runtime, tmp_path):
    text, rows = aarch64_bench.bench(tmp_path, ["bipedalnet"], budget=2e7, echo=lambda *a, **k: None)
    row = json.loads((tmp_path / "bench_aarch64.json").read_text())[0]
    assert {"model", "arm64_instructions", "float_instructions", "aarch64_max_abs_diff", "aarch64_argmax_agreement",
            "float_aarch64_max_abs_diff", "ops", "float_idnet_over_arm64"} <= set(row)
    assert row["aarch64_max_abs_diff"] <= 1e-5 and row["aarch64_argmax_agreement"] == 1.0
    assert row["arm64_instructions"] < row["float_instructions"]
    assert row["float_idnet_over_arm64"] > 2  # float IDNet costs more than BiPedalNet's arm64 flatbuffer
    assert set(row["ops"]) == {"arm64", "float"} and "LceBconv2d" in row["ops"]["arm64"]
    for suffix in ("csv", "md", "png"):
        assert (tmp_path / f"bench_aarch64.{suffix}").stat().st_size > 0
    assert "bipedalnet" in text and "not time" in text
    gains = row["rewrite_gains"]  # none, then each rewrite that applies: each one saves instructions
    assert [g["rewrite"] for g in gains] == ["none", "+ pool_after_batch_norm", "+ depthwise_first_conv"]
    assert gains[-1]["instructions"] == row["arm64_instructions"] and all(g["gain"] > 0 for g in gains[1:])
    assert (tmp_path / "bench_aarch64_rewrites.md").read_text().count("pool_after_batch_norm") == 1
