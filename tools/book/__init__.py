"""What the book's tools know about the book, said once.

- `layout`: the book's pages in the order of `_toc.yml`, which of them execute, which read the
  records the chapters glue and which write them (one rule), the glue of an executed page, the
  timings a page declared, and the environment the tools set for the kernels;
- `myst`: a page read by the parser the build uses (myst-parser's markdown-it with the
  extensions of `_config.yml`): code cells, code blocks, and the prose a reader reads;
- `browser`: headless Chromium serving a folder on localhost, for the site tests and the PDF.

How it is imported. `tools/` is a package and this is `tools.book`, imported by that one name
from everywhere: pytest puts the repository's root on `sys.path` (`pythonpath` in
pyproject.toml), and the scripts in `tools/` and the extensions in `_ext/` put it there in one
line (`sys.path.insert(0, ROOT)`) before importing it, since Python starts them with their own
folder on the path instead. No file is loaded by path (`spec_from_file_location`), and nothing
is installed: the tools are not part of the `makemore` package a reader installs. They may
import it, and do, for the names it defines (the glue it writes, the environment it reads).
"""
