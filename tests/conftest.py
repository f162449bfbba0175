"""Shared fixtures: ffmpeg-made media (cached) and the headless Chromium the browser tests use."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import media

CHROMIUM = os.environ.get("MSETOOL_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
]


@pytest.fixture(scope="session")
def avc_aac_fmp4() -> Path:
    return media.fmp4_avc_aac()


@pytest.fixture(scope="session")
def avc_fmp4() -> Path:
    return media.fmp4_avc()


@pytest.fixture(scope="session")
def aac_fmp4() -> Path:
    return media.fmp4_aac()


@pytest.fixture(scope="session")
def avc_segments(tmp_path_factory: pytest.TempPathFactory, avc_fmp4: Path) -> tuple[Path, list[Path]]:
    """init.mp4 + seg1..N.m4s of a 4 s H.264 stream, 1 s fragments."""
    return media.split_fmp4(avc_fmp4, tmp_path_factory.mktemp("avc-segs"))


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """A headless Chromium driven by Playwright. In CI (CI=true) a missing browser fails, never skips."""
    if not (os.path.exists(CHROMIUM) or shutil.which(CHROMIUM)):
        if os.environ.get("CI") == "true":
            pytest.fail(f"Chromium not found at {CHROMIUM}; .ci/run installs the Debian 'chromium' package")
        pytest.skip(f"Chromium not found at {CHROMIUM} (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()
