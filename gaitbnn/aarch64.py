"""Flatbuffers on LCE's real aarch64 kernels, on an x86_64 machine: qemu-aarch64 user-mode emulation.

``make aarch64`` (``export/aarch64/build.sh``) builds the runtime: LCE v0.16.0's kernels and LCE's own
``lce_benchmark_model``, compiled for aarch64 against Debian sid's arm64 TensorFlow Lite 2.14.1, gaitbnn's runner
(``export/aarch64/runner.cc``), and a QEMU plugin that counts guest instructions. It proves what the very
kernels LCE ships for aarch64 compute, and how many aarch64 instructions an inference takes on them. It does
not give phone time (no caches, no issue width, no vector latency: instructions are not seconds), nor the
phone's TFLite version. qemu's wall time is reported, labelled, and is no speed figure at all.

Instructions per inference: the runner calls a marker system call around every counted invoke (after one
warm-up invoke) and, in extra invokes, around every op; the plugin records the count at each marker. The count
of one binary is deterministic: the same inputs give the same figure on every run and machine.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from gaitbnn import flatbuffer as tflite_file
from gaitbnn.errors import InputError

RUNTIME_ENV = "GAITBNN_AARCH64"  # the runtime folder, when not build/aarch64 of this checkout
DEFAULT_ROOT = Path(__file__).resolve().parents[1] / "build" / "aarch64"
BUILD_HINT = "run 'make aarch64' in the gaitbnn checkout (about 2 minutes; export/README.md)"
# Markers of runner.cc (kind, a, b): warm-up begin/end, invoke begin/end (a: sample), op begin/end (a: node).
WARMUP_BEGIN, WARMUP_END, INVOKE_BEGIN, INVOKE_END, OP_BEGIN, OP_END = 1, 2, 3, 4, 5, 6
INTERPRETER = "(interpreter)"  # the instructions of an invoke outside its ops
COST_FIGURE = "guest aarch64 instructions per inference (qemu-aarch64 plugin; deterministic, not time)"
PROBE_SAMPLES = 1  # run first when a budget limits the samples: its count sets how many more fit
DEFAULT_BUDGET = 3e8  # guest instructions for all samples of one run (some 10-25 s of qemu for float models)


class RuntimeMissing(InputError):
    """The aarch64 runtime is not built (or not where gaitbnn looks)."""


@dataclass(frozen=True)
class Runtime:
    """The built runtime: qemu, the arm64 sysroot, the runner, lce_benchmark_model, the counting plugin."""

    root: Path
    qemu: str
    sysroot: Path
    runner: Path
    benchmark_model: Path
    plugin: Path
    facts: dict

    def command(self, program: Path, *args: str, count_into: Path | None = None) -> list:
        """The command line that runs aarch64 ``program`` under qemu (counting instructions into a file)."""
        plugin = ["-plugin", f"{self.plugin},out={count_into}"] if count_into else []
        return [self.qemu, "-L", str(self.sysroot), *plugin, str(program), *args]


def root() -> Path:
    """Where the runtime is looked for: $GAITBNN_AARCH64, else build/aarch64 of this checkout."""
    return Path(os.environ.get(RUNTIME_ENV) or DEFAULT_ROOT)


def find(folder: str | Path | None = None) -> Runtime:
    """The runtime in ``folder`` (default ``root()``), or ``RuntimeMissing`` saying what to do."""
    folder = Path(folder or root())
    manifest = folder / "runtime.json"
    if not manifest.is_file():
        raise RuntimeMissing(f"the aarch64 runtime is not built ({manifest} is absent): {BUILD_HINT}")
    facts = json.loads(manifest.read_text())
    runtime = Runtime(folder, facts["qemu"], Path(facts["sysroot"]), Path(facts["runner"]),
                      Path(facts["lce_benchmark_model"]), Path(facts["plugin"]), facts)
    for path in (runtime.qemu, runtime.runner, runtime.benchmark_model, runtime.plugin, runtime.sysroot):
        if not Path(path).exists():
            raise RuntimeMissing(f"the aarch64 runtime in {folder} is incomplete ({path} is missing): {BUILD_HINT}")
    return runtime


def available() -> Runtime | None:
    """The runtime if it is built, else None."""
    try:
        return find()
    except RuntimeMissing:
        return None


def missing_reason() -> str:
    """Why ``available()`` is None, in one line."""
    try:
        find()
    except RuntimeMissing as err:
        return str(err)
    return ""


@dataclass
class Run:
    """One run of a flatbuffer on the aarch64 runtime."""

    outputs: list  # per output tensor: an array stacked over the samples
    instructions: list  # per counted invoke (one per sample), guest instructions
    ops: list  # per op in execution order: {"node", "op", "instructions"} (mean over the op invokes)
    qemu_seconds: float  # wall time of the whole qemu process: NOT a speed figure
    description: dict = field(default_factory=dict)  # the runner's: inputs, outputs, ops, threads

    @property
    def instructions_per_inference(self) -> float:
        return float(np.mean(self.instructions))

    def instructions_by_op_type(self) -> dict:
        """Instructions per inference by op type, with what an invoke spends outside its ops as ``INTERPRETER``.

        An op's figure includes its two markers (about 100 instructions), so the interpreter's share, the invoke
        total less the ops', can come out a few hundred below zero: it is shown as 0 then.
        """
        totals = defaultdict(float)
        for op in self.ops:
            totals[op["op"]] += op["instructions"]
        totals[INTERPRETER] = max(0.0, self.instructions_per_inference - sum(totals.values()))
        return {k: round(v) for k, v in sorted(totals.items(), key=lambda kv: -kv[1])}


def _sample_bytes(inputs: list, specs: list) -> bytes:
    """The runner's INPUTS file: per sample, every input tensor's bytes in order."""
    if len(inputs) != len(specs):
        raise InputError(f"the flatbuffer takes {len(specs)} input(s); {len(inputs)} given")
    samples = None
    arrays = []
    for array, (shape, dtype) in zip(inputs, specs):
        array = np.asarray(array)
        per = int(np.prod(shape))
        if array.size % per:
            raise InputError(f"inputs of shape {array.shape} do not split into samples of shape {shape}")
        count = array.size // per
        if samples not in (None, count):
            raise InputError("every input needs the same number of samples")
        samples = count
        arrays.append(array.astype(dtype, copy=False).reshape(count, per))
    return b"".join(a[i].tobytes() for i in range(samples) for a in arrays)


def _marks(path: Path) -> list:
    marks = []
    for line in path.read_text().splitlines():
        parts = line.split()
        if parts and parts[0] == "mark":
            marks.append(tuple(int(v) for v in parts[1:]))
    return marks


def _counts(marks: list, ops: list, op_invokes: int) -> tuple:
    """(instructions per counted invoke, per-op instructions averaged over the op invokes)."""
    begun, invokes, per_node = {}, [], defaultdict(int)
    for kind, a, _, count in marks:
        if kind in (INVOKE_BEGIN, OP_BEGIN):
            begun[(kind, a)] = count
        elif kind == INVOKE_END:
            invokes.append(count - begun.pop((INVOKE_BEGIN, a)))
        elif kind == OP_END:
            per_node[a] += count - begun.pop((OP_BEGIN, a))
    rows = [{"node": op["node"], "op": op["op"], "instructions": per_node[op["node"]] / max(op_invokes, 1)}
            for op in ops] if op_invokes else []
    return invokes, rows


def _one_line(stderr: str) -> str:
    lines = [line for line in stderr.strip().splitlines() if line.strip()]
    runner = [line for line in lines if line.startswith("gaitbnn_runner:")]
    return (runner or lines or ["no message"])[-1].removeprefix("gaitbnn_runner: ")


def run(flatbuffer: bytes | str | Path, inputs: np.ndarray | list, threads: int = 1, op_invokes: int = 1,
        runtime: Runtime | None = None, label: str | None = None, budget: float | None = None) -> Run:
    """Run ``flatbuffer`` (bytes or a .tflite path) on ``inputs`` (an array of samples, or one array per model
    input) on LCE's aarch64 kernels, counting instructions per invoke and, over ``op_invokes`` extra invokes of
    the first sample, per op. ``budget``: at most about this many guest instructions in all, so only the first
    samples run when there are more (``Run.outputs`` then holds fewer samples than given). Any failure is one
    ``InputError`` line naming the flatbuffer."""
    runtime = runtime or find()
    if not isinstance(flatbuffer, bytes):
        label = label or str(flatbuffer)
        flatbuffer = tflite_file.read(flatbuffer)
    label = label or "the flatbuffer"
    arrays = [np.asarray(a) for a in (inputs if isinstance(inputs, list) else [inputs])]
    if budget is None or len(arrays[0]) <= PROBE_SAMPLES:
        return _run_once(flatbuffer, arrays, threads, op_invokes, runtime, label)
    probe = _run_once(flatbuffer, [a[:PROBE_SAMPLES] for a in arrays], threads, op_invokes, runtime, label)
    fits = int(budget // max(probe.instructions_per_inference, 1))
    more = min(len(arrays[0]), max(fits, PROBE_SAMPLES)) - PROBE_SAMPLES
    if more <= 0:
        return probe
    rest = _run_once(flatbuffer, [a[PROBE_SAMPLES:PROBE_SAMPLES + more] for a in arrays], threads, 0, runtime, label)
    return Run([np.concatenate(pair) for pair in zip(probe.outputs, rest.outputs)],
               probe.instructions + rest.instructions, probe.ops, probe.qemu_seconds + rest.qemu_seconds,
               {**probe.description, "samples": PROBE_SAMPLES + more})


def _run_once(flatbuffer: bytes, arrays: list, threads: int, op_invokes: int, runtime: Runtime, label: str) -> Run:
    specs = tflite_file.input_tensors(flatbuffer)
    payload = _sample_bytes(arrays, specs)
    with tempfile.TemporaryDirectory(prefix="gaitbnn-aarch64-") as folder:
        folder = Path(folder)
        model, in_file, out_file, marks = (folder / n for n in ("model.tflite", "in.bin", "out.bin", "marks.txt"))
        model.write_bytes(flatbuffer)
        in_file.write_bytes(payload)
        command = runtime.command(runtime.runner, str(model), str(in_file), str(out_file), "--threads",
                                  str(threads), "--op-invokes", str(op_invokes), count_into=marks)
        start = time.perf_counter()
        result = subprocess.run(command, capture_output=True, text=True)
        seconds = time.perf_counter() - start
        if result.returncode:
            raise InputError(f"{label}: does not run on the aarch64 runtime: {_one_line(result.stderr)}")
        description = json.loads(result.stdout.strip().splitlines()[0])
        raw = out_file.read_bytes()
        invokes, ops = _counts(_marks(marks), description["ops"], op_invokes)
    outputs, offset, samples = [], 0, description["samples"]
    per_sample = sum(o["bytes"] for o in description["outputs"])
    for o in description["outputs"]:
        dtype = np.dtype(o["type"].lower())
        chunks = [np.frombuffer(raw, dtype, o["bytes"] // dtype.itemsize, s * per_sample + offset)
                  for s in range(samples)]
        outputs.append(np.stack(chunks).reshape(samples, *o["shape"][1:]))
        offset += o["bytes"]
    return Run(outputs, invokes, ops, seconds, description)


# --- LCE's own benchmark tool ------------------------------------------------------------------------------------

@dataclass
class BenchmarkToolResult:
    """``lce_benchmark_model`` under qemu: its average (emulated time, not a speed figure) and op profile."""

    average_us: float | None
    op_profile: str  # the tool's "Summary by node type" table, as printed
    log: str


def benchmark_tool(path: str | Path, threads: int = 1, runs: int = 10,
                   runtime: Runtime | None = None) -> BenchmarkToolResult:
    """Run LCE's ``lce_benchmark_model`` on ``path`` under qemu with op profiling."""
    runtime = runtime or find()
    tflite_file.read(path)  # a clear line for a missing or foreign file
    command = runtime.command(runtime.benchmark_model, f"--graph={Path(path).resolve()}", f"--num_threads={threads}",
                              f"--num_runs={runs}", "--min_secs=0", "--warmup_runs=1", "--warmup_min_secs=0",
                              "--enable_op_profiling=true")
    result = subprocess.run(command, capture_output=True, text=True)
    log = result.stdout + result.stderr
    if result.returncode:
        errors = [line for line in log.splitlines() if "ERROR" in line or "rror" in line]
        raise InputError(f"{path}: lce_benchmark_model failed on the aarch64 runtime: "
                         f"{(errors or ['exit status ' + str(result.returncode)])[-1].strip()}")
    averages = re.findall(r"Inference \(avg\): *([0-9.e+]+)", log) or re.findall(r"avg=([0-9.e+]+)", log)
    profile = ""
    if "Summary by node type" in log:
        block = log[log.rindex("Summary by node type"):]  # the regular runs' (the first is initialization's)
        lines = block.splitlines()
        profile = "\n".join(lines[:next((i for i, line in enumerate(lines[1:], 1) if not line.strip()), len(lines))])
    return BenchmarkToolResult(float(averages[-1]) if averages else None, profile, log)
