"""Regenerates the README's screenshots: the carbon study, the market and search, at 390 and
1366 px, in Chinese and English. Seeds a small demo into a temporary database, serves it,
and photographs it with Debian's Chromium (Playwright):

    PYTHONPATH=src python docs/screenshots/make.py
"""

from __future__ import annotations

import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

import uvicorn
from playwright.sync_api import sync_playwright
from sqlalchemy import select

from tichub.app import create_app
from tichub.carbon.models import Study, StudyStatus
from tichub.core.config import Settings
from tichub.core.migrate import upgrade
from tichub.demo import seed as demo
from tichub.reports.note import Signer

HERE = Path(__file__).resolve().parent
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
WIDTHS = {"phone": (390, 844), "desktop": (1366, 900)}
ORIGIN = "tichub.example/reports"


def _serve(app: object) -> tuple[uvicorn.Server, str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,  # type: ignore[arg-type]
                                           log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    return server, f"http://127.0.0.1:{port}"


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "demo.db"
        upgrade(f"sqlite:///{path}")
        app = create_app(Settings(database_url=f"sqlite:///{path}", secret_key="screenshots",
                                  cookie_secure=False, log_origin=ORIGIN,
                                  log_key=Signer.generate(ORIGIN).encode(),
                                  log_integrate_every=0))
        with app.state.sessionmaker() as db:
            demo.seed_everything(db, app.state.log, scale=0.1)
            study = db.scalar(select(Study.id).order_by(Study.status != StudyStatus.certified,
                                                        Study.id))
        pages = {"carbon-study": f"/carbon/studies/{study}", "market": "/market",
                 "search": "/institutions?q=%E7%94%B5%E6%B1%A0"}
        server, url = _serve(app)
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
                for locale in ("zh", "en"):
                    for size, (width, height) in WIDTHS.items():
                        context = browser.new_context(viewport={"width": width,
                                                                "height": height})
                        context.add_cookies([{"name": "tichub_lang", "value": locale,
                                              "url": url}])
                        page = context.new_page()
                        page.goto(f"{url}/login")
                        page.fill("input[name=email]", "company@demo.tichub.cn")
                        page.fill("input[name=password]", demo.DEMO_PASSWORD)
                        page.click("form[action='/login'] button[type=submit]")
                        page.wait_for_url(f"{url}/")
                        for name, path in pages.items():
                            page.goto(url + path, wait_until="networkidle")
                            out = HERE / f"{name}-{size}-{locale}.png"
                            page.screenshot(path=str(out))
                            print(out.relative_to(HERE.parent.parent))
                        context.close()
                browser.close()
        finally:
            server.should_exit = True
            app.state.engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
