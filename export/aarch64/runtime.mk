# Compiles the emulated aarch64 runtime once its inputs are in place (export/aarch64/build.sh stages them):
# LCE v0.16.0's kernels, gaitbnn's runner and LCE's lce_benchmark_model for aarch64 (against Debian sid's arm64
# TensorFlow Lite 2.14.1), and the instruction-counting QEMU plugin for the host.
#
#   make -f export/aarch64/runtime.mk OUT=build/aarch64 QEMU_INCLUDE=DIR -j2
#
# OUT holds sysroot/ (the arm64 packages), src/lce (LCE's source), src/tensorflow (TF 2.14.1's tool sources),
# include/ (links to the sysroot's library headers only: sid's libc and libstdc++ headers do not match Debian 12's
# cross compiler). QEMU_INCLUDE is the folder of QEMU 7.2's qemu-plugin.h.
OUT ?= build/aarch64
QEMU_INCLUDE ?= $(OUT)/src/qemu
HERE := $(dir $(lastword $(MAKEFILE_LIST)))
SYSROOT := $(OUT)/sysroot
LIBDIR := $(SYSROOT)/usr/lib/aarch64-linux-gnu
LCE := $(OUT)/src/lce
TFSRC := $(OUT)/src/tensorflow
INC := $(OUT)/include
OBJ := $(OUT)/obj

CXX := aarch64-linux-gnu-g++
HOSTCC ?= gcc
# -DTFLITE_WITH_RUY is what selects LCE's optimized bgemm kernels in Register_BCONV_2D(): without it the
# reference kernel is compiled in, silently (`gaitbnn_runner --check-kernels`, run by build.sh, fails the build then).
CXXFLAGS := -std=c++17 -O3 -DNDEBUG -DTFLITE_WITH_RUY -DTFLITE_WITHOUT_XNNPACK -MMD -MP \
	-I$(LCE) -I$(INC) -I$(INC)/eigen3 -I$(INC)/gemmlowp -I$(TFSRC) -Wno-psabi
# The sysroot's libraries by path: a -L to its lib folder would also pick its libc's linker scripts (libm.so names
# absolute paths), which belong to sid's libc, not to the cross compiler's.
LDFLAGS := -Wl,-rpath-link=$(LIBDIR) -Wl,--allow-shlib-undefined
LIBS := $(LIBDIR)/libtensorflow-lite.so.2.14.1 -lpthread -ldl
ABSL_LIBS := $(wildcard $(LIBDIR)/libabsl_*.so)

KERNELS := bconv2d bmaxpool quantization
KERNEL_OBJS := $(KERNELS:%=$(OBJ)/lce/%.o)
TF_TOOLS := tensorflow/lite/tools/benchmark/benchmark_model tensorflow/lite/tools/benchmark/benchmark_tflite_model \
	tensorflow/lite/tools/benchmark/benchmark_utils tensorflow/lite/tools/benchmark/profiling_listener \
	tensorflow/lite/tools/benchmark/register_custom_op \
	tensorflow/lite/tools/benchmark/benchmark_performance_options \
	tensorflow/lite/tools/command_line_flags tensorflow/lite/tools/model_loader tensorflow/lite/tools/tool_params \
	tensorflow/lite/tools/utils tensorflow/lite/tools/delegates/default_execution_provider \
	tensorflow/lite/tools/delegates/delegate_provider tensorflow/lite/tools/evaluation/utils \
	tensorflow/tsl/util/stats_calculator tensorflow/lite/kernels/internal/utils/sparsity_format_converter
PROFILING := $(basename $(notdir $(filter-out %_test.cc,$(wildcard $(TFSRC)/tensorflow/lite/profiling/*.cc))))
BENCHMARK_OBJS := $(TF_TOOLS:%=$(OBJ)/tf/%.o) $(PROFILING:%=$(OBJ)/tf/tensorflow/lite/profiling/%.o) \
	$(OBJ)/lce/lce_benchmark_main.o $(OBJ)/lce/lce_benchmark_tflite_model.o

all: $(OUT)/gaitbnn_runner $(OUT)/lce_benchmark_model $(OUT)/count_instructions.so

$(OBJ)/lce/%.o: $(LCE)/larq_compute_engine/tflite/kernels/%.cc
	@mkdir -p $(@D)
	$(CXX) $(CXXFLAGS) -c $< -o $@

$(OBJ)/lce/%.o: $(LCE)/larq_compute_engine/tflite/benchmark/%.cc
	@mkdir -p $(@D)
	$(CXX) $(CXXFLAGS) -c $< -o $@

$(OBJ)/tf/%.o: $(TFSRC)/%.cc
	@mkdir -p $(@D)
	$(CXX) $(CXXFLAGS) -c $< -o $@

$(OBJ)/runner.o: $(HERE)runner.cc
	@mkdir -p $(@D)
	$(CXX) $(CXXFLAGS) -c $< -o $@

$(OUT)/gaitbnn_runner: $(OBJ)/runner.o $(KERNEL_OBJS)
	$(CXX) $^ -o $@.tmp $(LDFLAGS) $(LIBS) && mv $@.tmp $@

$(OUT)/lce_benchmark_model: $(BENCHMARK_OBJS) $(KERNEL_OBJS)
	$(CXX) $^ -o $@.tmp $(LDFLAGS) $(LIBS) $(ABSL_LIBS) && mv $@.tmp $@

$(OUT)/count_instructions.so: $(HERE)count_instructions.c
	$(HOSTCC) -shared -fPIC -O2 -Wall -I$(QEMU_INCLUDE) $< -o $@.tmp && mv $@.tmp $@

.PHONY: all
-include $(shell find $(OBJ) -name '*.d' 2>/dev/null)
