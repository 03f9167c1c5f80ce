"""The book's tools: the scripts `make` runs around the build, and `tools.book`, what they share.

A package so that the tests import the scripts (`from tools import check_reproducible`) and the
scripts, the Sphinx extensions in `_ext/` and the tests import `tools.book` by one name, with the
repository's root on `sys.path` (see tools/book/__init__.py).
"""
