"""The site's favicon and sharing image (tools/site_images.py): the files _config.yml names
are there, the sharing image is the 1200 x 630 link previews expect, and the tool refuses a
bad --out with one line and exit status 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))


def test_the_sharing_image_is_a_1200_by_630_png():
    name = CONFIG["sphinx"]["config"]["ogp_image"]
    with Image.open(ROOT / name) as image:
        assert image.format == "PNG"
        assert image.size == (1200, 630)
        # not a blank card: the title and the motif put many shades on it
        assert len(image.convert("RGB").getcolors(maxcolors=1 << 20)) > 50


def test_the_favicon_is_a_small_square_png_in_static():
    name = CONFIG["html"]["favicon"]
    assert name.startswith("_static/")
    with Image.open(ROOT / name) as image:
        assert image.format == "PNG"
        width, height = image.size
        assert width == height and 16 <= width <= 256


def test_site_images_refuses_an_out_that_is_a_file(tmp_path):
    not_a_folder = tmp_path / "file.txt"
    not_a_folder.write_text("x")
    run = subprocess.run([sys.executable, str(ROOT / "tools" / "site_images.py"),
                          "--out", str(not_a_folder)], capture_output=True, text=True)
    assert run.returncode == 2
    assert run.stderr.strip().count("\n") == 0 and "not a folder" in run.stderr
