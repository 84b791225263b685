# The two commands of the README:
#   make demo   set up, then train the lecture's Fashion-MNIST classifier and write its report
#   make test   set up, then run the whole test suite
BIN := .venv/bin

.PHONY: setup demo test bench clean
setup: .venv/.mlpkit-setup

.venv/.mlpkit-setup: pyproject.toml scripts/setup.sh
	bash scripts/setup.sh
	touch $@

demo: setup
	$(BIN)/mlpkit train fashion-mnist --preset seed

test: setup
	$(BIN)/python -m pytest

# The tf.keras reference runs in its own environment (the [bench] extra), so that
# TensorFlow does not slow mlpkit's own start-up in .venv.
.venv-bench/.mlpkit-setup: pyproject.toml
	python3 -m venv .venv-bench
	.venv-bench/bin/python -m pip install -q --upgrade pip
	.venv-bench/bin/python -m pip install -q -e ".[bench]"
	touch $@

# Figures go into benchmarks/results.jsonl (committed); render.py then writes the
# READMEs' tables and quoted figures from it (tests/test_evidence.py checks them).
bench: setup .venv-bench/.mlpkit-setup
	$(BIN)/python benchmarks/run_all.py
	$(BIN)/python benchmarks/render.py

clean:
	rm -rf .venv .venv-bench runs
