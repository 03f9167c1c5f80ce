# Two commands for a newcomer: `make book` and `make test`. Both create .venv when missing.
PY      := .venv/bin/python
VENV    := .venv/.installed
SHARED  ?= ../shared/data/names.txt
CACHE   := _build/.jupyter_cache
DOCTREES := _build/.doctrees
STAMP   := _build/.code-hash

.PHONY: setup book test lint bench clean data prose reproducible site-test

$(VENV): requirements.txt pyproject.toml
	python3 -m venv .venv
	.venv/bin/pip install --upgrade pip
	.venv/bin/pip install -r requirements.txt
	touch $(VENV)

setup: $(VENV)

# Pre-seed the data cache from a local verified copy when there is one (offline work, CI).
data: $(VENV)
	@$(PY) -m makemore.data --seed-cache $(SHARED) || true

# jupyter-cache keys only on notebook cells: when anything the chapters run changes (every
# file under code/ and _ext/, names included, and the pinned versions), wipe it and Sphinx's
# saved doctrees (else Sphinx sees unchanged sources, re-reads nothing and executes nothing),
# so a cached build never shows numbers the current code did not print.
CODE_HASH = find code _ext requirements.txt -type f -not -path '*/__pycache__/*' \
	-not -path '*.egg-info/*' -print0 | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum

book: $(VENV) data
	@mkdir -p _build
	@hash=$$($(CODE_HASH) | cut -d' ' -f1); \
	if [ "$$(cat $(STAMP) 2>/dev/null)" != "$$hash" ]; then \
		echo "code/ changed: re-executing every chapter"; rm -rf $(CACHE) $(DOCTREES); fi; \
	.venv/bin/jupyter-book build . -W -n --keep-going && echo $$hash > $(STAMP)

test: $(VENV) data
	.venv/bin/pytest

lint: $(VENV)
	.venv/bin/ruff check .

# Checks of the built book (after `make book`): no number typed into prose, every chapter glues
# the same values when executed again, and every page is right in a real browser.
prose: $(VENV)
	$(PY) tools/prose_numbers.py book

reproducible: $(VENV) data
	@for chapter in book/0*.md; do $(PY) tools/check_reproducible.py $$chapter || exit 1; done

site-test: $(VENV)
	SITECHECK_SCREENSHOTS=_build/screenshots .venv/bin/pytest tests/site

bench: $(VENV)
	$(PY) bench/train_speed.py

clean:
	rm -rf _build
