# gaitbnn: every target creates .venv with the pinned dependencies when missing.
# The first of python3.12, python3.11, python3 that runs and is 3.11 or 3.12 (a pyenv shim may name one that is absent)
PYTHON ?= $(shell for p in python3.12 python3.11 python3; do \
	$$p -c 'import sys; sys.exit(sys.version_info[:2] not in ((3, 11), (3, 12)))' 2>/dev/null && command -v $$p && break; \
	done)
VENV := .venv
BIN := $(VENV)/bin
DATA ?= synthetic
# GPU=1: install the CUDA libraries too (pip install -e '.[test,gpu]')
comma := ,
EXTRAS := test$(if $(GPU),$(comma)gpu)
EPOCHS ?=

.PHONY: venv lint test test-all check-wheels reproduce-bipedalnet reproduce-btcnn reproduce-lresnet reproduce-siamese reproduce-verification bench \
	aarch64 bench-aarch64 clean

venv: $(VENV)/.installed

$(VENV)/.installed: setup.cfg pyproject.toml
	@test -n "$(PYTHON)" || { echo "gaitbnn needs Python 3.11 or 3.12: install one, or set PYTHON=..."; exit 1; }
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] in ((3, 11), (3, 12)), "gaitbnn needs Python 3.11 or 3.12 (set PYTHON=...)"'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[$(EXTRAS)]'
	touch $@

# Lint first (ruff, configured in pyproject.toml), then two pytest workers (one per core of the CI machine),
# the longest tests stolen first; the 15 slowest listed. The slowest tests (marked slow in tests/conftest.py)
# run in test-all; CI runs both.
test: venv lint
	$(BIN)/python -m pytest -q -n 2 --dist worksteal --durations=15 -m "not slow"

test-all: venv
	$(BIN)/python -m pytest -q -n 2 --dist worksteal --durations=15 -m slow

# Every pin (and extra) resolves to binary wheels for Python 3.12 too (metadata only; CI runs it).
check-wheels: venv
	$(BIN)/python .ci/wheels_for_python.py 3.12

lint: venv
	$(BIN)/ruff check gaitbnn tests

# SPLIT=walks holds out whole walks per person (default: the paper's split of windows); RECIPE=best trains with
# overlapping windows and augmentation (docs/bipedalnet.md "Closing the gap"; default: the paper's recipe).
reproduce-bipedalnet: venv
	$(BIN)/gaitbnn reproduce bipedalnet --data $(DATA) $(if $(EPOCHS),--epochs $(EPOCHS)) $(if $(SPLIT),--split $(SPLIT)) \
		$(if $(RECIPE),--recipe $(RECIPE)) $(if $(OUT),--out $(OUT))

# DATA may name several folders, one per LARa sensor set: make reproduce-btcnn DATA="/lara/imu /lara/mocap"
reproduce-btcnn: venv
	$(BIN)/gaitbnn reproduce btcnn $(foreach d,$(DATA),--data $(d)) $(if $(EPOCHS),--epochs $(EPOCHS))

reproduce-lresnet: venv
	$(BIN)/gaitbnn reproduce lresnet --data $(DATA) $(if $(EPOCHS),--epochs $(EPOCHS))

# DATA=mcgill:/data/mcgill (or idnet:, zju:); ATTACKERS=ouisir:/data/ou-isir (Table 3); TRANSFER=zju:/data/zju
# (Table 2's other source). Each defaults to a synthetic population.
reproduce-siamese: venv
	$(BIN)/gaitbnn reproduce siamese --data $(DATA) $(if $(ATTACKERS),--attackers $(ATTACKERS)) \
		$(if $(TRANSFER),--transfer-from $(TRANSFER)) $(if $(EPOCHS),--epochs $(EPOCHS))

# Open-set verification (docs/verification.md): make reproduce-verification DATA=ouisir:PATH [TRAIN_SHARE=0.7]
reproduce-verification: venv
	$(BIN)/gaitbnn reproduce verification --data $(DATA) $(if $(TRAIN_SHARE),--train-share $(TRAIN_SHARE)) \
		$(if $(EPOCHS),--epochs $(EPOCHS))

# Any other registered experiment (gaitbnn reproduce --help): make reproduce-NAME [DATA=...] [EPOCHS=N] [ARGS="..."]
reproduce-%: venv
	$(BIN)/gaitbnn reproduce $* --data $(DATA) $(if $(EPOCHS),--epochs $(EPOCHS)) $(ARGS)

clean:
	rm -rf $(VENV) build *.egg-info

# The emulated aarch64 runtime in build/aarch64 (export/README.md): LCE v0.16.0's aarch64 kernels on Debian sid's
# arm64 TensorFlow Lite 2.14.1 under qemu-aarch64, gaitbnn's runner, lce_benchmark_model, the instruction counter.
# Inputs from ../shared/vendor when present, else from their origins; host tools installed by apt-get as root.
aarch64: venv
	export/aarch64/build.sh build/aarch64

# Every model's arm64 and float flatbuffers on LCE's aarch64 kernels: instructions per inference, aarch64 parity
# (runs/bench/bench_aarch64.{json,csv,md,png}). MODELS=a,b for a subset.
bench-aarch64: aarch64
	$(BIN)/gaitbnn bench --aarch64 --out runs/bench $(if $(MODELS),--models $(MODELS))

# Every model's arm64 and float flatbuffers side by side, then on-device training (MM'19): LeNet4's train
# signature, seconds per epoch of 400 pairs at batch 20.
bench: venv
	$(BIN)/gaitbnn bench --out runs/bench $(if $(MODELS),--models $(MODELS))
	$(BIN)/gaitbnn export lenet4 --target train --out runs/bench/train
	$(BIN)/gaitbnn benchmark runs/bench/train/lenet4_train.tflite | tee runs/bench/train/lenet4_train_epoch.txt
