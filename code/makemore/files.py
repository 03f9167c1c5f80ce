"""Writing files whole or not at all: the package's one atomic write.

A data cache, a results record and a checkpoint are all read by something else later (the next
build, the results page, `makemore sample`). Each is written to a temporary file in the target
folder and renamed into place, so a crash or an interrupt never leaves half a file where a
reader would find it (rename is atomic on POSIX).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write(path: str | os.PathLike, write: Callable[[IO[Any]], None],
                 mode: str = "wb") -> Path:
    """Call `write(file)` on a temporary file beside `path`, then rename it to `path`.

    `mode` is "wb" (bytes) or "w" (UTF-8 text). The folder is created if needed. On any failure
    (or an interrupt) the temporary file is removed and `path` is left as it was.
    """
    if mode not in ("wb", "w"):
        raise ValueError(f"mode must be 'wb' or 'w', not {mode!r}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, mode, **({"encoding": "utf-8"} if mode == "w" else {})) as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give it a normal file's mode
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
