// gaitbnn's aarch64 runner: runs a TFLite flatbuffer with LCE's ops, on raw inputs, writing raw outputs.
//
// Built for aarch64 by `make aarch64` (export/aarch64/runtime.mk) against TensorFlow Lite 2.14.1 and LCE
// v0.16.0's kernels, and run under qemu-aarch64 by gaitbnn.aarch64. Licence: Apache-2.0, like gaitbnn.
//
//   gaitbnn_runner MODEL.tflite INPUTS.bin OUTPUTS.bin [--threads N] [--op-invokes K]
//   gaitbnn_runner --check-kernels
//
// INPUTS.bin holds one or more samples, each the bytes of every input tensor in order; OUTPUTS.bin gets,
// per sample, the bytes of every output tensor in order. The first sample is run once more before the
// others (a warm-up invoke: allocation and one-time packing), outside the counted invokes. Then every
// sample is invoked once between two marker system calls, and K more invokes of the first sample run with
// a marker around every op. A QEMU plugin (count_instructions.c) records the guest instruction count at
// each marker: instructions per inference and per op.
//
// stdout: one JSON line describing the model (inputs, outputs, ops in execution order, samples).
// --check-kernels: exit 0 when LceBconv2d is LCE's optimized bgemm kernel, 4 when it is the reference one (what
// Register_BCONV_2D() picks when LCE is compiled without -DTFLITE_WITH_RUY: correct outputs, 8x the instructions).
// Errors: one line on stderr, `gaitbnn_runner: ...`, and exit status 2 (usage, files), 3 (the model).
#include <unistd.h>
#include <sys/syscall.h>

#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "larq_compute_engine/tflite/kernels/lce_ops_register.h"
#include "tensorflow/lite/core/api/error_reporter.h"
#include "tensorflow/lite/core/api/profiler.h"
#include "tensorflow/lite/interpreter.h"
#include "tensorflow/lite/kernels/register.h"
#include "tensorflow/lite/model.h"
#include "tensorflow/lite/schema/schema_generated.h"

namespace compute_engine {
namespace tflite {
TfLiteRegistration* Register_BCONV_2D_OPT_BGEMM();  // defined in LCE's bconv2d.cc, not declared in its header
}  // namespace tflite
}  // namespace compute_engine

namespace {

// Must match GAITBNN_MARKER_SYSCALL in count_instructions.c and MARKER_* in gaitbnn/aarch64.py.
constexpr long kMarkerSyscall = 4077;
enum Marker : long { kWarmupBegin = 1, kWarmupEnd = 2, kInvokeBegin = 3, kInvokeEnd = 4, kOpBegin = 5, kOpEnd = 6 };

void Mark(long kind, long a = 0, long b = 0) { syscall(kMarkerSyscall, kind, a, b); }

[[noreturn]] void Fail(int status, const std::string& message) {
  std::cerr << "gaitbnn_runner: " << message << std::endl;
  std::exit(status);
}

// Keeps TFLite's messages, so that a failure is reported in one line.
class KeptErrors : public tflite::ErrorReporter {
 public:
  int Report(const char* format, va_list args) override {
    char buffer[1024];
    vsnprintf(buffer, sizeof(buffer), format, args);
    if (first_.empty()) first_ = buffer;
    return 0;
  }
  const std::string& first() const { return first_; }

 private:
  std::string first_;
};

// A marker around every op invoke (node index and op-event handle).
class OpMarkers : public tflite::Profiler {
 public:
  uint32_t BeginEvent(const char* tag, EventType event_type, int64_t node, int64_t) override {
    if (event_type != EventType::OPERATOR_INVOKE_EVENT) return 0;
    Mark(kOpBegin, node);
    return static_cast<uint32_t>(node) + 1;
  }
  void EndEvent(uint32_t handle) override {
    if (handle) Mark(kOpEnd, handle - 1);
  }
};

std::string OpName(const TfLiteRegistration& registration) {
  if (registration.builtin_code == tflite::BuiltinOperator_CUSTOM && registration.custom_name)
    return registration.custom_name;
  if (registration.builtin_code == tflite::BuiltinOperator_DELEGATE) return "DELEGATE";
  return tflite::EnumNameBuiltinOperator(static_cast<tflite::BuiltinOperator>(registration.builtin_code));
}

std::string TensorJson(const TfLiteTensor* tensor) {
  std::ostringstream s;
  s << "{\"name\":\"" << (tensor->name ? tensor->name : "") << "\",\"type\":\"" << TfLiteTypeGetName(tensor->type)
    << "\",\"shape\":[";
  for (int d = 0; d < tensor->dims->size; ++d) s << (d ? "," : "") << tensor->dims->data[d];
  s << "],\"bytes\":" << tensor->bytes << "}";
  return s.str();
}

std::vector<char> ReadFile(const std::string& path, const char* what) {
  std::ifstream file(path, std::ios::binary);
  if (!file) Fail(2, path + ": cannot read the " + what);
  return std::vector<char>(std::istreambuf_iterator<char>(file), {});
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 2 && std::string(argv[1]) == "--check-kernels") {
    namespace lce = compute_engine::tflite;
    if (lce::Register_BCONV_2D() == lce::Register_BCONV_2D_OPT_BGEMM()) {
      std::cout << "LceBconv2d: LCE's optimized bgemm kernel" << std::endl;
      return 0;
    }
    std::cout << "LceBconv2d: LCE's REFERENCE kernel, not the optimized one (compile LCE with -DTFLITE_WITH_RUY)"
              << std::endl;
    return 4;
  }
  std::vector<std::string> positional;
  int threads = 1, op_invokes = 0;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if ((arg == "--threads" || arg == "--op-invokes") && i + 1 < argc) {
      int value = std::atoi(argv[++i]);
      if (value < 0 || (arg == "--threads" && value < 1)) Fail(2, arg + " takes a positive number");
      (arg == "--threads" ? threads : op_invokes) = value;
    } else if (arg.rfind("--", 0) == 0) {
      Fail(2, "unknown option " + arg + " (usage: gaitbnn_runner MODEL INPUTS OUTPUTS [--threads N] [--op-invokes K])");
    } else {
      positional.push_back(arg);
    }
  }
  if (positional.size() != 3) Fail(2, "usage: gaitbnn_runner MODEL.tflite INPUTS.bin OUTPUTS.bin [--threads N] "
                                      "[--op-invokes K]");
  const std::string& model_path = positional[0];

  KeptErrors errors;
  auto model = tflite::FlatBufferModel::BuildFromFile(model_path.c_str(), &errors);
  if (!model) Fail(3, model_path + ": not a TFLite flatbuffer (" + errors.first() + ")");
  tflite::ops::builtin::BuiltinOpResolver resolver;
  compute_engine::tflite::RegisterLCECustomOps(&resolver);
  std::unique_ptr<tflite::Interpreter> interpreter;
  if (tflite::InterpreterBuilder(*model, resolver)(&interpreter, threads) != kTfLiteOk || !interpreter)
    Fail(3, model_path + ": this runtime (TensorFlow Lite 2.14.1 with LCE's ops) cannot build it: " +
                errors.first());
  if (interpreter->AllocateTensors() != kTfLiteOk)
    Fail(3, model_path + ": cannot allocate its tensors: " + errors.first());

  size_t sample_bytes = 0;
  for (int index : interpreter->inputs()) sample_bytes += interpreter->tensor(index)->bytes;
  std::vector<char> inputs = ReadFile(positional[1], "inputs");
  if (sample_bytes == 0 || inputs.empty() || inputs.size() % sample_bytes)
    Fail(2, positional[1] + ": " + std::to_string(inputs.size()) + " bytes is not a whole number of samples of " +
                std::to_string(sample_bytes) + " bytes (every input tensor of the model, in order)");
  const size_t samples = inputs.size() / sample_bytes;

  std::ostringstream description;
  description << "{\"inputs\":[";
  for (size_t i = 0; i < interpreter->inputs().size(); ++i)
    description << (i ? "," : "") << TensorJson(interpreter->tensor(interpreter->inputs()[i]));
  description << "],\"outputs\":[";
  for (size_t i = 0; i < interpreter->outputs().size(); ++i)
    description << (i ? "," : "") << TensorJson(interpreter->tensor(interpreter->outputs()[i]));
  description << "],\"ops\":[";
  const auto& plan = interpreter->execution_plan();
  for (size_t i = 0; i < plan.size(); ++i) {
    const auto* node_and_registration = interpreter->node_and_registration(plan[i]);
    description << (i ? "," : "") << "{\"node\":" << plan[i] << ",\"op\":\""
                << OpName(node_and_registration->second) << "\"}";
  }
  description << "],\"samples\":" << samples << ",\"threads\":" << threads << ",\"op_invokes\":" << op_invokes << "}";
  std::cout << description.str() << std::endl;

  auto load = [&](size_t sample) {
    const char* source = inputs.data() + sample * sample_bytes;
    for (int index : interpreter->inputs()) {
      TfLiteTensor* tensor = interpreter->tensor(index);
      std::memcpy(tensor->data.raw, source, tensor->bytes);
      source += tensor->bytes;
    }
  };
  auto invoke = [&]() {
    if (interpreter->Invoke() != kTfLiteOk) Fail(3, model_path + ": invoke failed: " + errors.first());
  };

  std::ofstream outputs(positional[2], std::ios::binary);
  if (!outputs) Fail(2, positional[2] + ": cannot write the outputs");
  load(0);
  Mark(kWarmupBegin);
  invoke();
  Mark(kWarmupEnd);
  for (size_t sample = 0; sample < samples; ++sample) {
    load(sample);
    Mark(kInvokeBegin, static_cast<long>(sample));
    invoke();
    Mark(kInvokeEnd, static_cast<long>(sample));
    for (int index : interpreter->outputs()) {
      const TfLiteTensor* tensor = interpreter->tensor(index);
      outputs.write(tensor->data.raw, static_cast<std::streamsize>(tensor->bytes));
    }
  }
  OpMarkers markers;
  interpreter->SetProfiler(&markers);
  load(0);
  for (int k = 0; k < op_invokes; ++k) invoke();
  interpreter->SetProfiler(nullptr);
  outputs.close();
  if (!outputs) Fail(2, positional[2] + ": cannot write the outputs");
  return 0;
}
