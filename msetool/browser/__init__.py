"""Real-browser verification: run scenarios in headless Chromium (the only place msetool starts one)."""

from msetool.browser.harness import (
    CHROMIUM_ARGS,
    INSTALL_HINT,
    ChromiumHarness,
    Settle,
    appended_files,
    find_chromium,
    run_scenario,
)

__all__ = [
    "CHROMIUM_ARGS",
    "INSTALL_HINT",
    "ChromiumHarness",
    "Settle",
    "appended_files",
    "find_chromium",
    "run_scenario",
]
