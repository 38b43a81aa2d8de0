"""Headless Chromium driven over the Chrome DevTools Protocol on a pipe (no extra package).

Chromium started with ``--remote-debugging-pipe`` reads CDP commands from fd 3 and writes
replies and events to fd 4, NUL-separated JSON. That is enough to open a page, let its
scripts run, and read back what a reader would see, together with every console message,
uncaught exception and network request of the page.

``find_chromium()`` honours ``SDD_CHROMIUM``; tests skip without a browser unless
``SDD_REQUIRE_BROWSER=1`` (CI), where a missing browser fails.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import queue
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import pytest

# Flags that keep a headless Chromium from talking to anything but the page it is given.
QUIET_FLAGS = (
    "--headless",
    "--no-sandbox",  # containers / CI run as root
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-default-apps",
    "--metrics-recording-only",
    "--mute-audio",
    "--host-resolver-rules=MAP * ~NOTFOUND",  # any name lookup fails: no request can leave
)


def find_chromium() -> str | None:
    explicit = os.environ.get("SDD_CHROMIUM")
    if explicit:
        return shutil.which(explicit)  # a name on PATH or a path; None when not executable
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    return None


def require_browser() -> str:
    """The Chromium binary, or skip (fail when ``SDD_REQUIRE_BROWSER=1``)."""
    found = find_chromium()
    if found is None:
        reason = (
            "headless Chromium not found (apt-get install chromium, or set SDD_CHROMIUM); "
            "report.html and the Mermaid graph are then not checked in a browser"
        )
        if os.environ.get("SDD_REQUIRE_BROWSER") == "1":
            pytest.fail(reason + " — SDD_REQUIRE_BROWSER=1 requires it")
        pytest.skip(reason)
    return found


def chromium_version(binary: str) -> str:
    out = subprocess.run(
        [binary, "--version"], capture_output=True, text=True, timeout=30, check=False
    )
    return out.stdout.strip()


class CDPError(RuntimeError):
    pass


class Browser:
    """One headless Chromium with one page; use as a context manager."""

    def __init__(self, binary: str, *, width: int = 1400, height: int = 1000) -> None:
        self.binary = binary
        self.width, self.height = width, height
        self.events: list[dict[str, Any]] = []
        self._replies: queue.Queue[dict[str, Any]] = queue.Queue()
        self._next_id = 0
        self._session: str | None = None
        self._profile = tempfile.mkdtemp(prefix="sdd-chromium-")
        self._proc: subprocess.Popen[bytes] | None = None
        self._stderr: Any = None
        self._log_from = 0

    # -- process -------------------------------------------------------------------------------

    def __enter__(self) -> Browser:
        to_chrome_r, self._to_chrome = os.pipe()
        self._from_chrome, from_chrome_w = os.pipe()
        args = [
            self.binary,
            *QUIET_FLAGS,
            "--remote-debugging-pipe",
            f"--user-data-dir={self._profile}",
            f"--window-size={self.width},{self.height}",
            "--enable-logging=stderr",
            "--v=0",
            "about:blank",
        ]
        # The pipe must be fds 3 and 4 in the browser: let a shell place them, then exec.
        script = 'exec 3<&"$CDP_R" 4>&"$CDP_W"; exec "$@"'
        self._stderr = tempfile.TemporaryFile()
        env = {**os.environ, "CDP_R": str(to_chrome_r), "CDP_W": str(from_chrome_w)}
        self._proc = subprocess.Popen(
            ["/bin/bash", "-c", script, "chromium", *args],
            pass_fds=(to_chrome_r, from_chrome_w),
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=self._stderr,
        )
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        threading.Thread(target=self._read, daemon=True).start()
        target = self.send("Target.createTarget", {"url": "about:blank"}, session=False)
        attached = self.send(
            "Target.attachToTarget",
            {"targetId": target["targetId"], "flatten": True},
            session=False,
        )
        self._session = attached["sessionId"]
        for domain in ("Runtime", "Log", "Network", "Page"):
            self.send(f"{domain}.enable")
        self.send(
            "Emulation.setDeviceMetricsOverride",
            {"width": self.width, "height": self.height, "deviceScaleFactor": 1, "mobile": False},
        )
        return self

    def __exit__(self, *exc: object) -> None:
        proc = self._proc
        if proc is not None:
            with contextlib.suppress(CDPError, OSError):
                self.send("Browser.close", session=False, timeout=5)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()  # only the browser this object started
                proc.wait(timeout=10)
        for fd in (self._to_chrome, self._from_chrome):
            with contextlib.suppress(OSError):
                os.close(fd)
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None
        shutil.rmtree(self._profile, ignore_errors=True)

    def reset(self) -> None:
        """Forget what earlier pages did: events and the log so far (one browser, many tests)."""
        self.send("Page.navigate", {"url": "about:blank"})
        self.send(
            "Emulation.setDeviceMetricsOverride",
            {"width": self.width, "height": self.height, "deviceScaleFactor": 1, "mobile": False},
        )
        time.sleep(0.1)
        self.events.clear()
        self._log_from = self._log_size()

    def _log_size(self) -> int:
        if self._stderr is None:
            return 0
        self._stderr.seek(0, os.SEEK_END)
        return int(self._stderr.tell())

    def log(self) -> str:
        """Chromium's own stderr log (``--enable-logging=stderr``) since the last ``reset``."""
        if self._stderr is None:
            return ""
        self._stderr.seek(self._log_from)
        return str(self._stderr.read().decode("utf-8", "replace"))

    # -- protocol ------------------------------------------------------------------------------

    def _read(self) -> None:
        buf = b""
        while True:
            try:
                chunk = os.read(self._from_chrome, 65536)
            except OSError:
                return
            if not chunk:
                self._replies.put({"id": -1, "error": {"message": "browser closed the pipe"}})
                return
            buf += chunk
            while b"\0" in buf:
                raw, buf = buf.split(b"\0", 1)
                msg = json.loads(raw)
                if "id" in msg:
                    self._replies.put(msg)
                else:
                    self.events.append(msg)

    def send(
        self,
        method: str,
        params: dict[str, Any] | None = None,
        *,
        session: bool = True,
        timeout: float = 30,
    ) -> dict[str, Any]:
        self._next_id += 1
        msg: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session and self._session:
            msg["sessionId"] = self._session
        os.write(self._to_chrome, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            try:
                reply = self._replies.get(timeout=max(deadline - time.monotonic(), 0.01))
            except queue.Empty:
                raise CDPError(f"{method}: no reply in {timeout}s") from None
            if reply["id"] == -1:
                raise CDPError(f"{method}: {reply['error']['message']}")
            if reply["id"] != self._next_id:
                continue
            if "error" in reply:
                raise CDPError(f"{method}: {reply['error']}")
            return dict(reply.get("result", {}))

    def wait_event(self, method: str, *, since: int = 0, timeout: float = 30) -> dict[str, Any]:
        """The first ``method`` event at or after index ``since`` of ``events``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for ev in self.events[since:]:
                if ev.get("method") == method:
                    return ev
            time.sleep(0.05)
        raise CDPError(f"no {method} in {timeout}s")

    # -- page ----------------------------------------------------------------------------------

    def open(self, url: str, *, ready: str = "true") -> None:
        """Navigate, wait for the page's load event, then until the JS ``ready`` is true."""
        since = len(self.events)
        nav = self.send("Page.navigate", {"url": url})
        if nav.get("errorText"):
            raise CDPError(f"navigation to {url} failed: {nav['errorText']}")
        self.wait_event("Page.loadEventFired", since=since)
        self.wait_until(ready)

    def wait_until(self, expression: str, timeout: float = 30) -> None:
        probe = (
            f"(() => {{ try {{ return Boolean({expression}); }} catch (e) {{ return false; }} }})()"
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.eval(probe) is True:
                return
            time.sleep(0.05)
        raise CDPError(f"timed out waiting for {expression}")

    def sleep(self, seconds: float) -> None:
        """Let the page run (timers, late errors) for a while."""
        time.sleep(seconds)

    def eval(self, expression: str) -> Any:
        res = self.send(
            "Runtime.evaluate",
            {"expression": expression, "returnByValue": True, "awaitPromise": True},
        )
        if "exceptionDetails" in res:
            raise CDPError(f"{expression}: {res['exceptionDetails']}")
        return res.get("result", {}).get("value")

    def screenshot(self, path: Path) -> Path:
        """A full-page PNG."""
        height = int(self.eval("document.documentElement.scrollHeight") or self.height)
        self.send(
            "Emulation.setDeviceMetricsOverride",
            {
                "width": self.width,
                "height": min(height, 16000),
                "deviceScaleFactor": 1,
                "mobile": False,
            },
        )
        shot = self.send("Page.captureScreenshot", {"format": "png"})
        path.write_bytes(base64.b64decode(shot["data"]))
        return path

    # -- what the page did ---------------------------------------------------------------------

    def console_errors(self) -> list[str]:
        """Uncaught exceptions, console.error/assert calls and browser-logged errors
        (CSP violations, failed loads) of the page."""
        out: list[str] = []
        for ev in self.events:
            method, params = ev.get("method"), ev.get("params", {})
            if method == "Runtime.exceptionThrown":
                details = params.get("exceptionDetails", {})
                out.append(
                    f"exception: {details.get('exception', {}).get('description') or details.get('text')}"
                )
            elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                args = [a.get("value", a.get("description")) for a in params.get("args", [])]
                out.append(f"console.{params['type']}: {args}")
            elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
                out.append(f"log: {params['entry'].get('text')} ({params['entry'].get('url')})")
        return out

    def requests(self) -> list[str]:
        """Every URL the page asked the network stack for."""
        return [
            ev["params"]["request"]["url"]
            for ev in self.events
            if ev.get("method") == "Network.requestWillBeSent"
        ]

    def failed_requests(self) -> list[str]:
        return [
            f"{ev['params'].get('errorText')}"
            for ev in self.events
            if ev.get("method") == "Network.loadingFailed"
        ]
