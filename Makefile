# Two commands for a newcomer: `make book` and `make test`. Both create .venv when missing.
PY      := .venv/bin/python
VENV    := .venv/.installed
SHARED  ?= ../shared/data/names.txt
CACHE   := _build/.jupyter_cache
DOCTREES := _build/.doctrees
STAMP   := _build/.code-hash
NODE    := node_modules/.package-lock.json

.PHONY: setup book test lint bench clean data prose reproducible site-test pdf notebooks dist links \
	notebook-test

$(VENV): requirements.txt pyproject.toml
	python3 -m venv .venv
	.venv/bin/pip install --upgrade pip
	.venv/bin/pip install -r requirements.txt
	@# the package was installed as `makemore` before its distribution became makemore-book
	@.venv/bin/pip uninstall -y -q makemore 2>/dev/null || true
	touch $(VENV)

setup: $(VENV)

# Pre-seed the data cache from a local verified copy when there is one (offline work, CI).
data: $(VENV)
	@$(PY) -m makemore.data --seed-cache $(SHARED) || true

# jupyter-cache keys only on notebook cells: when anything the chapters run changes (every
# file under code/ and _ext/, names included, and the pinned versions), wipe it and Sphinx's
# saved doctrees (else Sphinx sees unchanged sources, re-reads nothing and executes nothing),
# so a cached build never shows numbers the current code did not print. The chapters are then
# executed two at a time into that cache (tools/execute_book.py), and Sphinx reads them from it;
# it executes the results page itself, after them, on every build (_ext/page_dependencies.py).
# Last, where the time went: each page's execution seconds and its runs' training CPU.
CODE_HASH = find code _ext requirements.txt -type f -not -path '*/__pycache__/*' \
	-not -path '*.egg-info/*' -print0 | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum

book: $(VENV) data
	@mkdir -p _build
	@hash=$$($(CODE_HASH) | cut -d' ' -f1); \
	if [ "$$(cat $(STAMP) 2>/dev/null)" != "$$hash" ]; then \
		echo "code/ changed: re-executing every chapter"; rm -rf $(CACHE) $(DOCTREES); fi; \
	$(PY) tools/execute_book.py --cache $(CACHE) && \
	.venv/bin/jupyter-book build . -W -n --keep-going && echo $$hash > $(STAMP) && \
	$(PY) tools/build_times.py --runs

# two processes: the suite stays under a minute on two cores (tests/site, the browser's, runs alone)
test: $(VENV) data
	.venv/bin/pytest -n 2

lint: $(VENV)
	.venv/bin/ruff check .

# Checks of the built book (after `make book`): no number typed into prose, every chapter glues
# the same values when executed again, and every page is right in a real browser.
prose: $(VENV)
	$(PY) tools/prose_numbers.py book

# every page of book/, the chapters then the results page, which reads the chapters just executed
reproducible: $(VENV) data
	$(PY) tools/check_reproducible.py book

site-test: $(VENV) $(NODE)
	SITECHECK_SCREENSHOTS=_build/screenshots .venv/bin/pytest tests/site

# axe-core, which the site tests inject into each page, pinned in package-lock.json.
$(NODE): package.json package-lock.json
	npm ci --no-audit --no-fund

# The whole book as one PDF, _build/pdf/makemore-book.pdf (also copied into _build/html): a
# single-page HTML build printed by headless chromium (tools/make_pdf.py). After `make book`
# only the results page executes again (seconds): the saved doctrees and jupyter-cache are reused.
pdf: book
	.venv/bin/jupyter-book build . -W -n --keep-going --builder singlehtml
	$(PY) tools/make_pdf.py _build/singlehtml _build/pdf/makemore-book.pdf --site _build/html

# Every chapter as a notebook with the outputs the build computed, figures included, from the
# build's jupyter-cache (tools/offline_notebooks.py): _build/offline/*.ipynb.
notebooks: book
	$(PY) tools/offline_notebooks.py --out _build/offline

# A chapter's notebook as the site offers it, run outside the repository by a kernel in a fresh
# virtual environment: its first cell installs the package from the wheel `make dist` built,
# and it must glue what the book glued (tests/notebooks). Chapter 1 by default; all of them:
# make notebook-test MAKEMORE_NOTEBOOK_CHAPTERS=all
MAKEMORE_NOTEBOOK_CHAPTERS ?= 01_bigram
notebook-test: $(VENV)
	MAKEMORE_NOTEBOOK_CHAPTERS=$(MAKEMORE_NOTEBOOK_CHAPTERS) .venv/bin/pytest tests/notebooks \
		-p no:cacheprovider

# The package as the index will have it: _build/dist/makemore_book-*.whl and .tar.gz, built
# without a network on the pinned setuptools, and checked by twine (metadata, README render).
dist: $(VENV)
	rm -rf _build/dist
	$(PY) -m build --no-isolation --outdir _build/dist .
	.venv/bin/twine check --strict _build/dist/*

# Every external link of the book answers (Sphinx's linkcheck; needs the internet, so not in
# .ci/run: .github/workflows/links.yml runs it weekly). Nothing is executed: the config is
# _config.yml with execute_notebooks off (no warning for the glue and labels it then lacks),
# written beside it (local extensions resolve from its folder; hidden files are not pages).
# A broken link is listed (_build/linkcheck/_build/html/output.txt) and the exit status is 1.
LINKCHECK_CONFIG := .linkcheck-config.yml
links: $(VENV)
	$(PY) -c "import yaml; c = yaml.safe_load(open('_config.yml')); \
	c['execute']['execute_notebooks'] = 'off'; \
	c['sphinx']['config'].update(linkcheck_retries=3, linkcheck_timeout=30, \
	linkcheck_report_timeouts_as_broken=True); \
	c['sphinx']['config']['suppress_warnings'] += ['mystnb.glue', 'mystnb.glue_ref', 'ref']; \
	yaml.safe_dump(c, open('$(LINKCHECK_CONFIG)', 'w'))"
	.venv/bin/jupyter-book build . --builder linkcheck --config $(LINKCHECK_CONFIG) \
		--path-output _build/linkcheck; \
	status=$$?; rm -f $(LINKCHECK_CONFIG); exit $$status

bench: $(VENV)
	$(PY) bench/train_speed.py

clean:
	rm -rf _build
