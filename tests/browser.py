"""A page as a person sees it: headless Chromium (Debian's `chromium` package) renders an HTML
file at a given window width and returns the DOM after its scripts ran, scripts removed.
Tests that need it skip, with the reason, where no Chromium is installed."""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

BROWSERS = ("chromium", "chromium-browser", "google-chrome")


def browser() -> str:
    for name in BROWSERS:
        if path := shutil.which(name):
            return path
    pytest.skip("no headless Chromium (Debian: apt-get install chromium)")


def rendered_dom(page: Path, *, width: int = 1400, height: int = 1000) -> str:
    """The DOM of ``page`` after its scripts ran (React reports render their pages), with
    every <script> element removed so that only what is shown remains."""
    done = subprocess.run(
        [browser(), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
         f"--window-size={width},{height}", "--virtual-time-budget=8000", "--dump-dom",
         Path(page).resolve().as_uri()],
        capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return re.sub(r"<script\b.*?</script>", "", done.stdout, flags=re.S)
