"""A report as PDF: the page printed by headless Chromium with its print stylesheet (A4, 15 mm).

The report embeds its images and its Chinese glyphs, so the PDF needs no network and no CJK
fonts on the machine; only a Chromium (Debian: ``apt-get install chromium``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from workbench.core.errors import WorkbenchError

__all__ = ["write_pdf", "find_chromium", "CHROMIUM_FLAGS", "CHROMIUM_INSTALL"]

#: Browsers tried in order (``WORKBENCH_CHROMIUM`` names another).
_BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")

#: Flags of every headless Chromium the workbench starts (the PDF and the browser test): no
#: sandbox (containers), no GPU, and nothing that reaches the network by itself.
CHROMIUM_FLAGS: tuple[str, ...] = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
)

#: How to get one, for the error message.
CHROMIUM_INSTALL = ("install Chromium (Debian/Ubuntu: sudo apt-get install chromium; macOS: brew install "
                    "--cask chromium) or set WORKBENCH_CHROMIUM to a Chromium or Chrome executable")


def find_chromium() -> str | None:
    """The Chromium executable to use: ``WORKBENCH_CHROMIUM`` if set, else the first of
    chromium, chromium-browser, google-chrome on the ``PATH``; None when there is none."""
    named = os.environ.get("WORKBENCH_CHROMIUM")
    if named:
        return shutil.which(named) or (named if Path(named).is_file() else None)
    return next((found for name in _BROWSERS if (found := shutil.which(name))), None)


def write_pdf(html: Path, pdf: Path | None = None, *, timeout: float = 180.0) -> Path:
    """Print a report to PDF with headless Chromium.

    Parameters
    ----------
    html : path
        The rendered ``report.html``.
    pdf : path, optional
        Where to write; default: next to ``html`` with the suffix ``.pdf``.
    timeout : float, default 180
        Seconds Chromium may take.

    Returns
    -------
    Path
        ``pdf``.

    Raises
    ------
    WorkbenchError
        No Chromium found (with how to install one), or Chromium failed or wrote no PDF (with
        the end of its output).
    """
    html = Path(html).resolve()
    out = Path(pdf).resolve() if pdf is not None else html.with_suffix(".pdf")
    if not html.is_file():
        raise WorkbenchError(f"report {html} not found: render it before printing it to PDF")
    browser = find_chromium()
    if browser is None:
        raise WorkbenchError(f"cannot write {out.name}: no Chromium found to print the report; {CHROMIUM_INSTALL}")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix="wb-chromium-") as profile:
        command = [browser, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--no-pdf-header-footer",
                   f"--print-to-pdf={out}", html.as_uri()]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired as err:
            raise WorkbenchError(f"Chromium did not print {html.name} within {timeout:.0f} s") from err
    if done.returncode != 0 or not out.is_file() or out.stat().st_size == 0:
        tail = "\n".join((done.stderr or done.stdout or "").strip().splitlines()[-5:])
        raise WorkbenchError(f"Chromium ({browser}) could not print {html.name} to PDF "
                             f"(exit {done.returncode}): {tail or 'no output'}")
    return out
