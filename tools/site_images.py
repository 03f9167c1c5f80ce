"""The site's two images, drawn with matplotlib from the book's data (no external assets).

- `_static/sharing.png`, 1200 x 630 pixels: the picture a link preview shows (`ogp_image` in
  `_config.yml`): the book's title beside its first figure's motif, the table of how often
  each character follows another in names.txt (Chapter 1's count table), in shades of blue.
- `_static/favicon.png`, 64 x 64 pixels: the same table's most frequent corner, as a tile.

Run it again only to change them (`.venv/bin/python tools/site_images.py`); the files are
committed, and tests/test_site_images.py checks their sizes and that the config uses them.
Bad arguments get one line and exit status 2.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SHARING = (1200, 630)
FAVICON = (64, 64)
DPI = 100


def bigram_counts() -> np.ndarray:
    """How often each symbol follows another in the book's word list ('.' starts and ends)."""
    from makemore import data

    words = data.load_corpus(require_names=True).words
    symbols = ["."] + sorted({c for w in words for c in w})
    index = {s: i for i, s in enumerate(symbols)}
    counts = np.zeros((len(symbols), len(symbols)))
    for w in words:
        chars = ["."] + list(w) + ["."]
        for a, b in zip(chars, chars[1:], strict=False):
            counts[index[a], index[b]] += 1
    return counts


def sharing_image(counts: np.ndarray, title: str, out: Path) -> None:
    width, height = SHARING
    fig = plt.figure(figsize=(width / DPI, height / DPI), dpi=DPI, facecolor="#f7f9fc")
    motif = fig.add_axes((0.55, 0.08, 0.42 * height / width * 1.9, 0.84))
    motif.imshow(np.log1p(counts), cmap="Blues", interpolation="nearest")
    motif.set_axis_off()
    # the title on two lines at its comma, so it keeps to the left half
    fig.text(0.05, 0.9, title.replace(", ", ",\n", 1), fontsize=50, fontweight="bold",
             color="#14213d", va="top", linespacing=1.1)
    fig.text(0.05, 0.45, "Karpathy's makemore lectures,\nrebuilt and executed",
             fontsize=26, color="#33415c", va="top", linespacing=1.3)
    fig.text(0.05, 0.12, "every number computed by the build", fontsize=18, color="#5c677d")
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=DPI, facecolor=fig.get_facecolor())
    plt.close(fig)


def favicon(counts: np.ndarray, out: Path) -> None:
    width, height = FAVICON
    fig = plt.figure(figsize=(width / DPI, height / DPI), dpi=DPI)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.imshow(np.log1p(counts[:8, :8]), cmap="Blues", interpolation="nearest",
              vmin=0, vmax=np.log1p(counts).max())
    ax.set_axis_off()
    fig.savefig(out, dpi=DPI)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "_static",
                        help="the folder to write sharing.png and favicon.png into")
    args = parser.parse_args(argv)
    if args.out.exists() and not args.out.is_dir():
        print(f"site_images: {args.out} is not a folder", file=sys.stderr)
        return 2
    import yaml

    title = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))["title"]
    counts = bigram_counts()
    sharing_image(counts, title, args.out / "sharing.png")
    favicon(counts, args.out / "favicon.png")
    print(f"wrote {args.out / 'sharing.png'} and {args.out / 'favicon.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
