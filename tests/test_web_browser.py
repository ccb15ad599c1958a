"""End-to-end tests of ``s2vg serve`` in a real headless Chromium driven by Playwright.

The browser is Debian's ``chromium`` (``apt-get install chromium``; ``playwright install``
cannot download here), launched with every network lookup except localhost refused. Each
test starts the server on a free 127.0.0.1 port in a thread and stops it. With
``CI=true`` a missing browser or Playwright is a failure, elsewhere a skip.

``S2VG_WEB_SCREENSHOT=docs/web_ui.png`` also renders the README's screenshot from the
sample clip in ``../shared`` (skipped otherwise).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
from pathlib import Path

import av
import pytest

from s2vg.config import ServeConfig
from s2vg.io import probe

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE localhost , EXCLUDE 127.0.0.1",
]
FAST = {"#depth": "heuristic", "#inpainter": "classical"}
IN_CI = os.environ.get("CI", "").lower() == "true"


def _chromium() -> str | None:
    """``$S2VG_CHROMIUM`` when set (even if it does not exist), else Debian's chromium."""
    if "S2VG_CHROMIUM" in os.environ:
        candidates: tuple[str | None, ...] = (os.environ["S2VG_CHROMIUM"],)
    else:
        candidates = ("/usr/bin/chromium", shutil.which("chromium"))
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            return candidate
    return None


def _missing(what: str) -> None:
    if IN_CI:
        pytest.fail(f"{what} (CI=true: .ci/run must install it)")
    pytest.skip(what)


@pytest.fixture(scope="module")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("playwright is not installed (pip install playwright)")
    pytest.importorskip("fastapi", reason="the web extra (fastapi, uvicorn) is not installed")
    executable = _chromium()
    if executable is None:
        _missing("Chromium is not installed (apt-get install chromium)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture()
def server(tmp_path: Path):
    from s2vg.web import BackgroundServer

    root = tmp_path / "root"
    root.mkdir()
    (tmp_path / "outside.mp4").write_bytes(b"")
    config = ServeConfig(port=0, work_dir=str(tmp_path / "work"), root=str(root), max_upload_mb=0.25)
    with BackgroundServer(config) as running:
        yield running


@contextlib.contextmanager
def open_page(browser, url: str):
    context = browser.new_context(accept_downloads=True, viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        page.goto(url)
        page.wait_for_selector("body[data-ready='1']")
        yield page
    finally:
        context.close()


@pytest.fixture()
def page(browser, server):
    with open_page(browser, server.url) as page:
        yield page


def make_clip(path: Path, frames: int = 6, height: int = 48, width: int = 64) -> Path:
    from test_web_api import make_clip as api_make_clip

    return api_make_clip(path, frames=frames, height=height, width=width)


def choose(page, options: dict[str, str]) -> None:
    for selector, value in options.items():
        page.select_option(selector, value)


def upload(page, path: Path) -> None:
    page.set_input_files("#file", str(path))


def wait_source(page, name: str) -> None:
    """Wait until the page shows ``name`` as the current, uploaded video."""
    page.wait_for_function(f"document.querySelector('#source-info').textContent.startsWith('{name} (uploaded)')", timeout=60_000)


def error_text(page) -> str:
    page.wait_for_selector("#error:not([hidden])", timeout=30_000)
    return page.inner_text("#error-text")


def test_upload_preview_convert_download(page, tmp_path: Path) -> None:
    clip = make_clip(tmp_path / "clip.mp4")
    upload(page, clip)
    wait_source(page, "clip.mp4")
    assert "64×48, 6 frames" in page.inner_text("#source-info")
    choose(page, FAST)

    page.fill("#preview-frame", "3")
    page.click("#preview-btn")
    page.wait_for_function(
        "['#preview-sbs', '#preview-anaglyph'].every(s => document.querySelector(s).naturalWidth > 0)", timeout=60_000
    )
    assert page.eval_on_selector("#preview-sbs", "img => img.naturalWidth") == 128
    assert page.eval_on_selector("#preview-anaglyph", "img => img.naturalWidth") == 64
    assert page.inner_text("#preview-status") == "Frame 3"

    page.click("#convert")
    row = page.locator("#jobs tbody tr").first
    row.locator(".job-status", has_text="done").wait_for(timeout=120_000)
    assert row.locator(".job-percent").inner_text().strip() == "100 %"
    assert page.eval_on_selector("#jobs tbody tr progress", "bar => bar.value") == 100
    assert page.is_hidden("#error")

    with page.expect_download() as download_info:
        row.locator("a.download").first.click()
    download = download_info.value
    assert download.suggested_filename == "clip_LRF_Full_SBS.mp4"
    saved = tmp_path / "downloaded.mp4"
    download.save_as(saved)
    info = probe(saved)
    assert (info.width, info.height, info.frames) == (2 * 64, 48, 6)
    page.screenshot(path=str(tmp_path / "web_ui.png"), full_page=True)


def test_refusals_are_shown_and_the_server_keeps_serving(page, server, tmp_path: Path) -> None:
    text = tmp_path / "holiday.mp4"
    text.write_text("this is a text file with a video's name\n" * 20)
    upload(page, text)
    assert re.search(r"Upload refused: holiday\.mp4 is not a video or image", error_text(page))

    page.click("#error-close")
    big = tmp_path / "big.mp4"
    big.write_bytes(bytes(300 * 1024))  # the server's limit is 0.25 MiB
    upload(page, big)
    assert "larger than the limit of 0.25 MiB" in error_text(page)

    page.click("#error-close")
    assert page.is_visible("#picker")
    page.fill("#path", "../outside.mp4")
    page.click("#open-path")
    assert "outside the served folder" in error_text(page)

    # Still serving: a good upload right after is accepted and clears the message.
    upload(page, make_clip(tmp_path / "fine.mp4"))
    wait_source(page, "fine.mp4")
    assert page.is_hidden("#error")
    assert not page.is_disabled("#convert")


def test_a_failed_job_shows_its_error(page, tmp_path: Path) -> None:
    upload(page, make_clip(tmp_path / "clip.mp4"))
    wait_source(page, "clip.mp4")
    # Depth Anything without weights fails in the worker, with a one-line reason.
    choose(page, {"#depth": "depth-anything-v2-small", "#inpainter": "classical"})
    page.click("#convert")
    row = page.locator("#jobs tbody tr").first
    row.locator(".job-status", has_text=re.compile("done|failed")).wait_for(timeout=120_000)
    if row.get_attribute("data-status") == "done":
        pytest.skip("Depth Anything V2 weights are cached on this machine")
    assert row.locator(".job-error").inner_text().strip() != ""
    # The next job runs.
    choose(page, FAST)
    page.click("#convert")
    page.locator("#jobs tbody tr").first.locator(".job-status", has_text="done").wait_for(timeout=120_000)


@pytest.mark.skipif(not os.environ.get("S2VG_WEB_SCREENSHOT"), reason="set S2VG_WEB_SCREENSHOT=docs/web_ui.png to render the README screenshot")
def test_readme_screenshot(browser, tmp_path: Path) -> None:
    """The README's picture: the sample clip previewed and converted, as the browser shows it."""
    from s2vg.web import BackgroundServer

    images = Path(__file__).resolve().parents[2] / "shared" / "samples" / "astronaut" / "images"
    if not images.is_dir():
        pytest.skip("../shared/samples/astronaut is not present")
    from s2vg.io import read_frames
    from s2vg.io.writer import VideoWriter

    frames, _ = read_frames(images, max_frames=8)
    clip = tmp_path / "astronaut.mp4"
    with VideoWriter(clip, fps=8, width=frames.shape[2], height=frames.shape[1], preset="ultrafast") as out:
        out.write(frames)
    config = ServeConfig(port=0, work_dir=str(tmp_path / "work"))
    with BackgroundServer(config) as server, open_page(browser, server.url) as page:
        upload(page, clip)
        wait_source(page, "astronaut.mp4")
        choose(page, FAST)
        page.fill("#preview-frame", "4")
        page.click("#preview-btn")
        page.wait_for_function("document.querySelector('#preview-sbs').naturalWidth > 0", timeout=120_000)
        page.click("#convert")
        page.locator("#jobs tbody tr .job-status", has_text="done").wait_for(timeout=300_000)
        assert page.is_hidden("#error")
        target = Path(os.environ["S2VG_WEB_SCREENSHOT"])
        target.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(target), full_page=True)
    shot = next(av.open(str(target)).decode(video=0)).to_ndarray(format="rgb24")
    assert shot.shape[1] == 1280 and shot.std() > 10  # a real picture, not a blank page


@pytest.mark.skipif(os.environ.get("S2VG_INNER_RUN") == "1", reason="only from the outer test run")
@pytest.mark.parametrize(("ci", "outcome"), [("true", "1 error"), ("", "1 skipped")])
def test_missing_browser_fails_in_ci_and_skips_elsewhere(ci: str, outcome: str) -> None:
    """The fixture fails (an error: pytest exits non-zero) with CI=true, and skips otherwise."""
    import subprocess
    import sys

    env = {**os.environ, "CI": ci, "S2VG_CHROMIUM": "/nonexistent/chromium", "S2VG_INNER_RUN": "1"}
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", __file__, "-k", "test_upload_preview_convert_download"],
        capture_output=True, text=True, env=env, cwd=Path(__file__).parent, timeout=120,
    )
    assert outcome in run.stdout, run.stdout[-2000:]
    assert "Chromium is not installed" in run.stdout
    assert (run.returncode != 0) == (ci == "true")
