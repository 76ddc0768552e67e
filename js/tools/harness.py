"""Opens tools/harness.html in headless Chromium with Playwright (real time, unlike
chromium --screenshot's virtual time), prints what the page logs and its console errors, and
saves a screenshot. The harness must be served: `python3 -m http.server --bind 127.0.0.1 8765`
from the repo root. Usage: python3 tools/harness.py [query] [screenshot.png]
"""

import sys

from playwright.sync_api import sync_playwright

query = sys.argv[1] if len(sys.argv) > 1 else ""
shot = sys.argv[2] if len(sys.argv) > 2 else "/tmp/heatwidget-harness.png"
url = f"http://127.0.0.1:8765/js/tools/harness.html?{query}"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]

with sync_playwright() as p:
    browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=FLAGS)
    page = browser.new_page(viewport={"width": 1024, "height": 768})
    blocked = []

    def route(r):
        if r.request.url.startswith(("http://127.0.0.1", "data:", "blob:")):
            return r.continue_()
        blocked.append(r.request.url)
        return r.abort()

    page.route("**/*", route)
    page.on(
        "console", lambda m: m.type in ("error", "warning") and print(f"console.{m.type}: {m.text}")
    )
    page.on("pageerror", lambda e: print(f"pageerror: {e}"))
    page.goto(url)
    page.wait_for_selector("body[data-done='1']", timeout=60_000)
    print(page.inner_text("#out").strip())
    print(f"blocked requests: {len(blocked)}")
    page.screenshot(path=shot)
    print(f"screenshot: {shot}")
    browser.close()
