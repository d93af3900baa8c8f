"""A page as headless Chromium renders it: its DOM after its scripts ran (``--dump-dom``), read back into the rows of a
report (:class:`Rows`). Tests that use it skip, with the reason, only where no Chromium is installed (``.ci/run``
installs Debian's ``chromium``)."""

from __future__ import annotations

import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

BROWSER = next((shutil.which(b) for b in ("chromium", "chromium-browser", "google-chrome") if shutil.which(b)), None)
needs_browser = pytest.mark.skipif(BROWSER is None, reason="no Chromium installed (Debian: apt-get install chromium)")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


class Rows(HTMLParser):
    """The item rows of a dumped page: their attributes and text, the elements inside each (tag and attributes), and
    the text of the ``#shown`` counter."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[tuple[dict[str, str | None], list[str]]] = []
        self.inside: list[list[tuple[str, dict[str, str | None]]]] = []
        self.shown = ""
        self.title = ""
        self._in_row = self._in_shown = self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "tr" and found.get("class") == "item":
            self.rows.append((found, []))
            self.inside.append([])
            self._in_row = True
        elif self._in_row:
            self.inside[-1].append((tag, found))
        self._in_shown = found.get("id") == "shown"
        self._in_title = tag == "title" and not self._in_row

    @property
    def shown_text(self) -> str:
        return self.shown.strip()

    def handle_endtag(self, tag: str) -> None:
        if tag == "tr":
            self._in_row = False
        self._in_shown = self._in_title = False

    def handle_data(self, data: str) -> None:
        if self._in_row:
            self.rows[-1][1].append(data)
        if self._in_shown:
            self.shown += data
        if self._in_title:
            self.title += data


def dump(page: Path, fragment: str, profile: Path) -> Rows:
    """The DOM of ``page#fragment`` after its scripts ran, as Chromium dumps it."""
    assert BROWSER is not None
    done = subprocess.run(
        [BROWSER, *FLAGS, f"--user-data-dir={profile}", "--dump-dom", f"{page.as_uri()}#{fragment}"],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    rows = Rows()
    rows.feed(done.stdout)
    return rows
