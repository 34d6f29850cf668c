# gaitbnn: every target creates .venv with the pinned dependencies when missing.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
DATA ?= synthetic
EPOCHS ?=

.PHONY: venv test reproduce-bipedalnet reproduce-btcnn reproduce-lresnet reproduce-siamese bench clean

venv: $(VENV)/.installed

$(VENV)/.installed: setup.cfg pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "gaitbnn needs Python 3.11 (set PYTHON=...)"'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

test: venv
	$(BIN)/python -m pytest -q

reproduce-bipedalnet: venv
	$(BIN)/gaitbnn reproduce bipedalnet --data $(DATA) $(if $(EPOCHS),--epochs $(EPOCHS))

# DATA may name several folders, one per LARa sensor set: make reproduce-btcnn DATA="/lara/imu /lara/mocap"
reproduce-btcnn: venv
	$(BIN)/gaitbnn reproduce btcnn $(foreach d,$(DATA),--data $(d)) $(if $(EPOCHS),--epochs $(EPOCHS))

reproduce-lresnet: venv
	$(BIN)/gaitbnn reproduce lresnet --data $(DATA) $(if $(EPOCHS),--epochs $(EPOCHS))

# ATTACKERS: the attackers' database of Table 3, e.g. ATTACKERS=ouisir:/data/ou-isir (default: synthetic)
reproduce-siamese: venv
	$(BIN)/gaitbnn reproduce siamese --data $(DATA) $(if $(ATTACKERS),--attackers $(ATTACKERS)) $(if $(EPOCHS),--epochs $(EPOCHS))

clean:
	rm -rf $(VENV) build *.egg-info

bench: venv
	$(BIN)/gaitbnn bench --out runs/bench $(if $(MODELS),--models $(MODELS))
