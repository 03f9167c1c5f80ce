# Two commands for a newcomer: `make book` and `make test`. Both create .venv when missing.
PY      := .venv/bin/python
VENV    := .venv/.installed
SHARED  ?= ../shared/data/names.txt
CACHE   := _build/.jupyter_cache
STAMP   := _build/.code-hash

.PHONY: setup book test lint bench clean data

$(VENV): requirements.txt pyproject.toml
	python3 -m venv .venv
	.venv/bin/pip install --upgrade pip
	.venv/bin/pip install -r requirements.txt
	touch $(VENV)

setup: $(VENV)

# Pre-seed the data cache from a local verified copy when there is one (offline work, CI).
data: $(VENV)
	@$(PY) -m makemore.data --seed-cache $(SHARED) || true

# jupyter-cache keys only on notebook cells: wipe it when the package's source changes,
# so a cached build never shows numbers the current code did not print.
book: $(VENV) data
	@mkdir -p _build
	@hash=$$(cat code/makemore/*.py | sha256sum | cut -d' ' -f1); \
	if [ "$$(cat $(STAMP) 2>/dev/null)" != "$$hash" ]; then \
		echo "code/ changed: re-executing every chapter"; rm -rf $(CACHE); fi; \
	.venv/bin/jupyter-book build . -W -n --keep-going && echo $$hash > $(STAMP)

test: $(VENV) data
	.venv/bin/pytest

lint: $(VENV)
	.venv/bin/ruff check .

bench: $(VENV)
	$(PY) bench/train_speed.py

clean:
	rm -rf _build
