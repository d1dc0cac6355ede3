#!/usr/bin/env python3
"""Runs the interop matrix: real peers against wt-server, and wt-client against a real server.

  python3 tests/interop/run.py [--backends quinn,s2n-quic] [--peers aioquic,chromium,chromium-draft07,firefox]

Peers against wt-server (each backend): the aioquic client (tests/interop/aioquic/peer.py) and
headless Chromium (draft-02, and draft-07 with --enable-features=EnableWebTransportDraft07) and
Firefox driven by puppeteer-core (tests/interop/browser/run.mjs). Then wt-client in every mode
(each backend) against the aioquic echo server. Every step has a timeout; every server binds
127.0.0.1 only. The binaries come from `cargo build -p wt-tools --bins` (target/debug).

Prints one line per case and, last, 'interop: N passed, N failed' (skips for documented browser
limitations count as passed and are listed). Exit status 1 if anything failed.
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
PYTHON = os.environ.get("AIOQUIC_PYTHON", sys.executable)
TARGET = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
BIN = TARGET / "debug"


def log(msg):
    print(msg, flush=True)


class Server:
    """wt-server on loopback, with a fresh self-signed certificate."""

    def __init__(self, backend, port):
        self.backend = backend
        cmd = [str(BIN / "wt-server"), "--backend", backend, "--addr", f"127.0.0.1:{port}",
               "--http-addr", "127.0.0.1:0"]
        self.out = tempfile.TemporaryFile(mode="w+")
        self.proc = subprocess.Popen(cmd, stdout=self.out, stderr=subprocess.STDOUT, text=True)
        self.url = f"https://127.0.0.1:{port}"
        deadline = time.time() + 20
        self.hash = None
        while time.time() < deadline and self.hash is None:
            time.sleep(0.2)
            self.out.seek(0)
            m = re.search(r"SHA-256: ([0-9a-f]{64})", self.out.read())
            if m:
                self.hash = m.group(1)
            if self.proc.poll() is not None:
                break
        if self.hash is None:
            self.out.seek(0)
            raise RuntimeError(f"wt-server ({backend}) did not start:\n{self.out.read()}")

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def run_json_lines(cmd, timeout, cwd=None, env=None):
    """Runs a peer that prints one JSON object per case; returns (results, output)."""
    try:
        p = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
        out = p.stdout + p.stderr
    except subprocess.TimeoutExpired as e:
        out = (e.stdout or b"").decode() if isinstance(e.stdout, bytes) else (e.stdout or "")
        out += f"\n(timed out after {timeout} s)"
    results = []
    for line in out.splitlines():
        line = line.strip()
        if line.startswith("{") and '"case"' in line:
            try:
                results.append(json.loads(line))
            except json.JSONDecodeError:
                pass
    return results, out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--backends", default=os.environ.get("INTEROP_BACKENDS", "quinn"))
    ap.add_argument("--peers", default=os.environ.get("INTEROP_PEERS", "aioquic,chromium,chromium-draft07,firefox"))
    ap.add_argument("--no-wt-client", action="store_true")
    a = ap.parse_args()
    peers = [p for p in a.peers.split(",") if p]
    passed, failed, skipped = 0, 0, []
    matrix = []

    def record(peer, backend, results, out, expected):
        nonlocal passed, failed
        seen = {r["case"] for r in results}
        for r in results:
            status = "skipped" if r.get("skipped") else ("ok" if r["ok"] else "FAILED")
            log(f"{peer:16} {backend:9} {r['case']:28} {status:8} {r.get('detail', '')}")
            matrix.append((peer, backend, r["case"], status))
            if r["ok"]:
                passed += 1
                if r.get("skipped"):
                    skipped.append(f"{peer}/{backend}/{r['case']}: {r['detail']}")
            else:
                failed += 1
        missing = [c for c in expected if c not in seen]
        if missing or not results:
            failed += max(1, len(missing))
            log(f"{peer:16} {backend:9} missing results for {missing or 'all cases'}; output:\n{out[-3000:]}")

    cases = [
        "connect", "datagram_echo", "uni_echo", "bidi_echo_1mib", "concurrent_bidi_10", "server_opened",
        "server_close", "client_close_seen_by_server", "reset_codes", "rejected", "protocols",
    ]
    backends = [b for b in a.backends.split(",") if b]
    port = 24433
    for backend in backends:
        port += 1
        server = Server(backend, port)
        try:
            for peer in peers:
                if peer == "aioquic":
                    cmd = [PYTHON, str(HERE / "aioquic" / "peer.py"), "client", "--url", server.url]
                    results, out = run_json_lines(cmd, timeout=240)
                else:
                    cmd = ["node", "run.mjs", "--browser", peer, "--url", server.url, "--hash", server.hash,
                           "--timeout", "240000"]
                    results, out = run_json_lines(cmd, timeout=300, cwd=HERE / "browser")
                record(peer, backend, results, out, cases)
        finally:
            server.stop()

    if not a.no_wt_client:
        # wt-client (each backend) against the aioquic echo server.
        with tempfile.TemporaryDirectory() as tmp:
            cert, key = Path(tmp) / "cert.pem", Path(tmp) / "key.pem"
            subprocess.run(
                ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                 "-days", "10", "-nodes", "-subj", "/CN=localhost",
                 "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
                 "-keyout", str(key), "-out", str(cert)],
                check=True, capture_output=True, timeout=30,
            )
            der = subprocess.run(["openssl", "x509", "-in", str(cert), "-outform", "der"],
                                 check=True, capture_output=True, timeout=30).stdout
            import hashlib
            digest = hashlib.sha256(der).hexdigest()
            aq = subprocess.Popen([PYTHON, str(HERE / "aioquic" / "peer.py"), "server", "--port", "24499",
                                   "--cert", str(cert), "--key", str(key)],
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            try:
                aq.stdout.readline()  # {"listening": ...}
                for backend in backends:
                    for mode in ["datagram", "uni", "bidi"]:
                        cmd = [str(BIN / "wt-client"), "--backend", backend, "--url",
                               "https://127.0.0.1:24499/echo", "--mode", mode, "--cert-hash", digest]
                        try:
                            p = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
                            ok, out = p.returncode == 0, p.stdout + p.stderr
                        except subprocess.TimeoutExpired:
                            ok, out = False, "timed out"
                        detail = " ".join(l for l in out.splitlines() if l.startswith(mode + ":"))
                        peer = f"wt-client/{backend}"
                        log(f"{peer:18} {'aioquic':9} {mode:28} {'ok' if ok else 'FAILED':8} {detail or out[-500:]}")
                        matrix.append((peer, "aioquic-server", mode, "ok" if ok else "FAILED"))
                        passed += ok
                        failed += not ok
            finally:
                aq.terminate()
                aq.wait(5)

    if skipped:
        log("skipped for documented browser limitations:")
        for s in skipped:
            log(f"  {s}")
    log(f"interop: {passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
