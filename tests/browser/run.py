"""Runs the console's browser tests: builds the service, starts it on a free port with a
temporary SQLite file, and drives it in Debian's Chromium with Playwright (never a browser
download). Each test_* function of test_console.py gets a fresh browser context.

    python3 tests/browser/run.py [NAME ...]   # only the tests whose names contain NAME

Screenshots of each page go to target/ui-screenshots/.
"""

import os
import socket
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
ADMIN = "browser-admin-token-0123456789abcdefghijkl"
SECRETS_KEY = "QkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkI="
# Chromium's own connections would be refused by a closed network, many at a time.
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def build():
    subprocess.run(["cargo", "build", "--locked", "--bin", "base-image-policy"], cwd=ROOT, check=True)
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    if not target.is_absolute():
        target = ROOT / target
    return target / "debug" / "base-image-policy"


def start(binary, directory):
    port = free_port()
    env = {
        "PATH": os.environ.get("PATH", ""),
        "DATABASE_URL": f"sqlite://{directory}/console.db",
        "LISTEN_ADDR": f"127.0.0.1:{port}",
        "ADMIN_TOKEN": ADMIN,
        "SECRETS_KEY": SECRETS_KEY,
        "RUST_LOG": "warn",
    }
    log = open(Path(directory) / "service.log", "w")
    process = subprocess.Popen([str(binary)], env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the service exited with {process.returncode}: see {log.name}")
        try:
            with urllib.request.urlopen(base + "/readyz", timeout=1) as answer:
                if answer.status == 200:
                    return process, base
        except OSError:
            time.sleep(0.05)  # the service is still starting: poll its readiness again
    process.kill()
    raise SystemExit("the service did not become ready within 30 s")


def main(selected):
    from playwright.sync_api import sync_playwright

    import console_env
    import test_console

    tests = [(name, fn) for name, fn in vars(test_console).items()
             if name.startswith("test_") and callable(fn)
             and (not selected or any(s in name for s in selected))]
    shots = ROOT / "target" / "ui-screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    binary = build()
    passed, failed = 0, []
    with tempfile.TemporaryDirectory(prefix="bip-browser-") as directory:
        process, base = start(binary, directory)
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                env = console_env.Env(base, ADMIN, browser, shots)
                for name, test in tests:
                    started = time.monotonic()
                    try:
                        test(env)
                        passed += 1
                        print(f"ok   {name} ({time.monotonic() - started:.1f} s)", flush=True)
                    except Exception:
                        failed.append(name)
                        print(f"FAIL {name}\n{traceback.format_exc()}", flush=True)
                    finally:
                        env.close_contexts()
                browser.close()
        finally:
            process.terminate()
            process.wait(timeout=20)
    print(f"browser: {passed} passed, {len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    if not Path(CHROMIUM).exists():
        raise SystemExit(f"{CHROMIUM} is missing: apt-get install chromium (scripts/test does)")
    sys.path.insert(0, str(Path(__file__).parent))
    sys.exit(main(sys.argv[1:]))
