"""The preview page in headless Chromium: both panes show moving video, no console errors, the token holds."""

from __future__ import annotations

import shutil
import threading
import time
import urllib.error
import urllib.request

import pytest

from live_media import free_port
from stream.config import load_live_config
from stream.live.service import LiveService

pytestmark = [pytest.mark.needs_browser, pytest.mark.slow]
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]

# A hash of what each pane shows now (drawn to a canvas: the MJPEG <img> holds the latest picture).
PANE_HASHES = """() => ['before', 'after'].map(id => {
  const img = document.getElementById(id);
  if (!img.naturalWidth) return null;
  const canvas = document.createElement('canvas');
  canvas.width = img.naturalWidth; canvas.height = img.naturalHeight;
  const context = canvas.getContext('2d');
  context.drawImage(img, 0, 0);
  const data = context.getImageData(0, 0, canvas.width, canvas.height).data;
  let sum = 0, mean = 0;
  for (let i = 0; i < data.length; i += 4) { sum = (sum * 31 + data[i] + data[i + 1]) % 1000000007; mean += data[i + 1]; }
  return [sum, mean / (data.length / 4)];
})"""


@pytest.fixture
def preview_service():
    port = free_port()
    config = load_live_config(None, source="test://night?size=320x180&fps=15",
                              outputs=[f"preview://127.0.0.1:{port}?token=s3cret"], overrides={"name": "porch"})
    service = LiveService(config, lambda camera, message: None)
    runner = threading.Thread(target=service.run, daemon=True)
    runner.start()
    yield port
    service.request_stop()
    runner.join(timeout=30)


def test_page_shows_both_panes_moving_without_console_errors(preview_service):
    from playwright.sync_api import sync_playwright

    port = preview_service
    problems: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=shutil.which("chromium"), args=CHROMIUM_FLAGS)
        page = browser.new_page()
        page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
        page.on("pageerror", lambda error: problems.append(str(error)))
        page.goto(f"http://127.0.0.1:{port}/?token=s3cret")
        page.wait_for_function("() => document.getElementById('before').naturalWidth > 0 && "
                               "document.getElementById('after').naturalWidth > 0", timeout=30000)
        first = page.evaluate(PANE_HASHES)
        time.sleep(1.5)
        second = page.evaluate(PANE_HASHES)
        page.wait_for_function("() => document.getElementById('stats').textContent.includes('fps')", timeout=10000)
        stats = page.inner_text("#stats")
        browser.close()
    assert first[0][0] != second[0][0] and first[1][0] != second[1][0], "a pane is frozen"
    assert second[1][1] > second[0][1] + 10, "the after pane is not brighter than the before pane"
    assert "latency" in stats
    assert problems == []


def test_token_is_required(preview_service):
    port = preview_service
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(f"http://127.0.0.1:{port}/stats.json", timeout=5)
    assert caught.value.code == 401
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/stats.json?token=s3cret", timeout=5) as response:
        assert b"porch" in response.read()
