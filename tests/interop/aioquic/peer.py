#!/usr/bin/env python3
"""WebTransport (draft-02) peers written on aioquic's H3Connection, for interop tests.

  peer.py client --url https://127.0.0.1:4433 [--case NAME ...]
      runs the interop cases against wt-server and prints one JSON line per case;
      exits non-zero if a case fails.
  peer.py server --port 4434 --cert cert.pem --key key.pem
      a WebTransport echo server (datagrams, uni streams back on a new uni stream, bidi
      streams in place) that wt-client runs its modes against.

aioquic has no capsule API and no WebTransport error-code mapping, and its own bidi
WebTransport streams are not marked as such in its stream table (spec.md §7.3); this file
supplies those pieces itself.
"""

import argparse
import asyncio
import json
import os
import ssl
import struct
import sys
import time
from collections import defaultdict
from urllib.parse import urlparse

from aioquic.asyncio import QuicConnectionProtocol, connect, serve
from aioquic.buffer import Buffer, encode_uint_var
from aioquic.h3.connection import H3_ALPN, FrameType, H3Connection
from aioquic.h3.events import (
    DataReceived,
    DatagramReceived,
    HeadersReceived,
    WebTransportStreamDataReceived,
)
from aioquic.quic.configuration import QuicConfiguration
from aioquic.quic.events import ConnectionTerminated, QuicEvent, StreamReset

CLOSE_SESSION = 0x2843
APP_FIRST = 0x52E4A40FA8DB


def app_to_h3(n: int) -> int:
    return APP_FIRST + n + n // 0x1E


def h3_to_app(h: int):
    if h < APP_FIRST or h > 0x52E5AC983162 or (h - 0x21) % 0x1F == 0:
        return None
    s = h - APP_FIRST
    return s - s // 0x1F


def close_capsule(code: int, reason: str) -> bytes:
    value = struct.pack("!I", code) + reason.encode()
    return encode_uint_var(CLOSE_SESSION) + encode_uint_var(len(value)) + value


def parse_capsules(data: bytes):
    """Yields (type, value) for every complete capsule in `data`."""
    buf = Buffer(data=data)
    while not buf.eof():
        t = buf.pull_uint_var()
        n = buf.pull_uint_var()
        yield t, buf.pull_bytes(n)


class Session:
    """What one WebTransport session has received."""

    def __init__(self):
        self.response = asyncio.get_event_loop().create_future()
        self.datagrams = asyncio.Queue()
        self.connect_data = b""
        self.connect_fin = asyncio.Event()
        self.streams = {}  # stream id -> bytearray
        self.fins = defaultdict(asyncio.Event)
        self.resets = {}  # stream id -> h3 code
        self.new_streams = asyncio.Queue()


class Peer(QuicConnectionProtocol):
    """An aioquic connection with an H3Connection and WebTransport bookkeeping."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.h3 = H3Connection(self._quic, enable_webtransport=True)
        self.sessions = {}
        self.stream_session = {}
        self.on_request = None  # server: callback(stream_id, headers)
        self.changed = asyncio.Event()

    def mark_wt_bidi(self, stream_id: int, session_id: int):
        # aioquic does not mark its own bidi WebTransport streams (spec.md §7.3).
        with self.h3._get_or_create_stream(stream_id) as s:
            s.frame_type = FrameType.WEBTRANSPORT_STREAM
            s.session_id = session_id

    def quic_event_received(self, event: QuicEvent) -> None:
        if isinstance(event, StreamReset):
            sid = self.stream_session.get(event.stream_id)
            if sid is not None and sid in self.sessions:
                s = self.sessions[sid]
                s.resets[event.stream_id] = event.error_code
                s.fins[event.stream_id].set()
            if event.stream_id in self.sessions:
                self.sessions[event.stream_id].connect_fin.set()
        if isinstance(event, ConnectionTerminated):
            for s in self.sessions.values():
                s.connect_fin.set()
                if not s.response.done():
                    s.response.set_exception(ConnectionError(event.reason_phrase))
        for h3_event in self.h3.handle_event(event):
            self.h3_event(h3_event)
        self.changed.set()

    def h3_event(self, e):
        if isinstance(e, HeadersReceived):
            if e.stream_id in self.sessions:
                s = self.sessions[e.stream_id]
                if not s.response.done():
                    s.response.set_result(dict((k.decode(), v.decode()) for k, v in e.headers))
            elif self.on_request is not None:
                self.on_request(e.stream_id, e.headers)
            if e.stream_ended and e.stream_id in self.sessions:
                self.sessions[e.stream_id].connect_fin.set()
        elif isinstance(e, DataReceived):
            if e.stream_id in self.sessions:
                s = self.sessions[e.stream_id]
                s.connect_data += e.data
                if e.stream_ended:
                    s.connect_fin.set()
        elif isinstance(e, DatagramReceived):
            if e.stream_id in self.sessions:
                self.sessions[e.stream_id].datagrams.put_nowait(e.data)
        elif isinstance(e, WebTransportStreamDataReceived):
            s = self.sessions.get(e.session_id)
            if s is None:
                return
            if e.stream_id not in s.streams:
                s.streams[e.stream_id] = bytearray()
                self.stream_session[e.stream_id] = e.session_id
                s.new_streams.put_nowait(e.stream_id)
            s.streams[e.stream_id] += e.data
            if e.stream_ended:
                s.fins[e.stream_id].set()

    # -- client helpers --

    async def open_session(self, authority: str, path: str, protocols=None):
        sid = self._quic.get_next_available_stream_id()
        s = Session()
        self.sessions[sid] = s
        headers = [
            (b":method", b"CONNECT"),
            (b":protocol", b"webtransport"),
            (b":scheme", b"https"),
            (b":authority", authority.encode()),
            (b":path", path.encode()),
            (b"sec-webtransport-http3-draft02", b"1"),
            (b"origin", f"https://{authority}".encode()),
        ]
        if protocols:
            value = ", ".join(json.dumps(p) for p in protocols)
            headers.append((b"wt-available-protocols", value.encode()))
        self.h3.send_headers(sid, headers)
        self.transmit()
        response = await s.response
        return sid, s, response

    def open_stream(self, sid: int, uni: bool) -> int:
        stream = self.h3.create_webtransport_stream(sid, is_unidirectional=uni)
        if not uni:
            self.mark_wt_bidi(stream, sid)
        self.stream_session[stream] = sid
        return stream

    def send(self, stream: int, data: bytes, fin: bool):
        self._quic.send_stream_data(stream, data, end_stream=fin)
        self.transmit()

    async def wait(self, cond, timeout=10.0):
        deadline = time.monotonic() + timeout
        while not cond():
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("timed out")
            self.changed.clear()
            try:
                await asyncio.wait_for(self.changed.wait(), left)
            except asyncio.TimeoutError:
                pass


def pattern(n: int, seed: int) -> bytes:
    return bytes((i * 31 + seed) & 0xFF for i in range(n))


class Client:
    def __init__(self, url: str):
        u = urlparse(url)
        self.host, self.port = u.hostname, u.port or 443
        self.authority = f"{self.host}:{self.port}"

    async def connection(self):
        config = QuicConfiguration(is_client=True, alpn_protocols=H3_ALPN, max_datagram_frame_size=65536)
        config.verify_mode = ssl.CERT_NONE
        return connect(self.host, self.port, configuration=config, create_protocol=Peer)

    async def run(self, name: str):
        async with await self.connection() as peer:
            return await getattr(self, "case_" + name)(peer)

    async def case_connect(self, peer):
        sid, s, r = await peer.open_session(self.authority, "/echo")
        assert r[":status"] == "200", r
        assert r.get("sec-webtransport-http3-draft") == "draft02", r
        peer.h3.send_data(sid, b"", end_stream=True)
        peer.transmit()
        await asyncio.wait_for(s.connect_fin.wait(), 5)
        return "status 200, draft02 header, clean FIN answered"

    async def case_datagram_echo(self, peer):
        sid, s, _ = await peer.open_session(self.authority, "/echo")
        sent = [f"datagram {i}".encode() for i in range(5)]
        for d in sent:
            peer.h3.send_datagram(sid, d)
        peer.transmit()
        got = [await asyncio.wait_for(s.datagrams.get(), 5) for _ in sent]
        assert sorted(got) == sorted(sent), got
        return f"{len(got)} datagrams echoed"

    async def case_uni_echo(self, peer):
        sid, s, _ = await peer.open_session(self.authority, "/echo")
        data = pattern(65536, 3)
        st = peer.open_stream(sid, uni=True)
        peer.send(st, data, True)
        back = await asyncio.wait_for(s.new_streams.get(), 10)
        await asyncio.wait_for(s.fins[back].wait(), 10)
        assert bytes(s.streams[back]) == data
        return f"{len(data)} bytes echoed on server uni stream {back}"

    async def echo_bidi(self, peer, sid, s, size, seed):
        data = pattern(size, seed)
        st = peer.open_stream(sid, uni=False)
        s.streams.setdefault(st, bytearray())
        peer.send(st, data, True)
        await asyncio.wait_for(s.fins[st].wait(), 30)
        assert bytes(s.streams[st]) == data, (len(s.streams[st]), size)
        return st

    async def case_bidi_echo_1mib(self, peer):
        sid, s, _ = await peer.open_session(self.authority, "/echo")
        await self.echo_bidi(peer, sid, s, 1 << 20, 4)
        return "1 MiB echoed byte-exact"

    async def case_concurrent_bidi_10(self, peer):
        sid, s, _ = await peer.open_session(self.authority, "/echo")
        await asyncio.gather(*(self.echo_bidi(peer, sid, s, 16384, i) for i in range(10)))
        return "10 concurrent bidi streams echoed"

    async def case_server_opened(self, peer):
        sid, s, _ = await peer.open_session(self.authority, "/open")
        first = await asyncio.wait_for(s.new_streams.get(), 10)
        second = await asyncio.wait_for(s.new_streams.get(), 10)
        bidi = first if first % 4 == 1 else second
        uni = second if bidi == first else first
        assert bidi % 4 == 1 and uni % 4 == 3, (first, second)
        peer.mark_wt_bidi(bidi, sid)
        await asyncio.wait_for(s.fins[uni].wait(), 10)
        assert len(s.streams[uni]) == 4096
        await peer.wait(lambda: len(s.streams[bidi]) >= 4096)
        peer.send(bidi, b"ping", True)
        await asyncio.wait_for(s.fins[bidi].wait(), 10)
        assert bytes(s.streams[bidi][4096:]) == b"ping"
        return "server uni (4096 bytes) and bidi (4096 bytes, then echo) received"

    async def case_server_close(self, peer):
        sid, s, _ = await peer.open_session(self.authority, "/close?code=42&reason=bye")
        await asyncio.wait_for(s.connect_fin.wait(), 10)
        caps = list(parse_capsules(s.connect_data))
        close = [v for t, v in caps if t == CLOSE_SESSION]
        assert close, caps
        code, reason = struct.unpack("!I", close[0][:4])[0], close[0][4:].decode()
        assert (code, reason) == (42, "bye"), (code, reason)
        return "WT_CLOSE_SESSION code=42 reason=bye, then FIN"

    async def report(self, peer, report_id):
        sid, s, _ = await peer.open_session(self.authority, f"/report?id={report_id}")
        st = await asyncio.wait_for(s.new_streams.get(), 10)
        await asyncio.wait_for(s.fins[st].wait(), 10)
        return json.loads(bytes(s.streams[st]))

    async def case_client_close_seen_by_server(self, peer):
        rid = f"aioquic-close-{os.getpid()}"
        sid, s, _ = await peer.open_session(self.authority, f"/echo?id={rid}")
        peer.h3.send_data(sid, close_capsule(7, "client-bye"), end_stream=True)
        peer.transmit()
        await asyncio.wait_for(s.connect_fin.wait(), 10)
        rep = await self.report(peer, rid)
        assert rep["found"] and rep["code"] == 7 and rep["reason"] == "client-bye", rep
        return f"server saw {rep}"

    async def case_reset_codes(self, peer):
        rid = f"aioquic-reset-{os.getpid()}"
        sid, s, _ = await peer.open_session(self.authority, f"/echo?id={rid}")
        st = peer.open_stream(sid, uni=False)
        s.streams.setdefault(st, bytearray())
        peer.send(st, b"x", False)
        await peer.wait(lambda: len(s.streams[st]) >= 1)
        peer._quic.reset_stream(st, app_to_h3(7))
        peer.transmit()
        await peer.wait(lambda: st in s.resets)
        mirrored = h3_to_app(s.resets[st])
        assert mirrored == 7, s.resets[st]
        peer.h3.send_data(sid, close_capsule(0, ""), end_stream=True)
        peer.transmit()
        rep = await self.report(peer, rid)
        assert 7 in rep["resets"], rep
        return "client reset 7 mirrored by the server with 7; report lists it"

    async def case_rejected(self, peer):
        sid, s, r = await peer.open_session(self.authority, "/nope")
        assert r[":status"] == "404", r
        return "404"

    async def case_protocols(self, peer):
        sid, s, r = await peer.open_session(self.authority, "/echo", protocols=["echo-v1", "other-v2"])
        assert r.get("wt-protocol") == '"echo-v1"', r
        return 'wt-protocol: "echo-v1"'


CASES = [
    "connect",
    "datagram_echo",
    "uni_echo",
    "bidi_echo_1mib",
    "concurrent_bidi_10",
    "server_opened",
    "server_close",
    "client_close_seen_by_server",
    "reset_codes",
    "rejected",
    "protocols",
]


async def run_client(url, cases):
    client = Client(url)
    failed = 0
    for name in cases:
        start = time.monotonic()
        try:
            detail = await asyncio.wait_for(client.run(name), 30)
            ok = True
        except BaseException as e:  # noqa: BLE001 - report every failure
            detail, ok = f"{type(e).__name__}: {e}", False
            failed += 1
        ms = int((time.monotonic() - start) * 1000)
        print(json.dumps({"peer": "aioquic", "case": name, "ok": ok, "ms": ms, "detail": detail}), flush=True)
    return failed


class EchoServer(Peer):
    """Accepts every CONNECT and echoes (datagrams, uni streams on a new uni stream, bidi)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.on_request = self.request
        self.echoed = set()

    def request(self, stream_id, headers):
        h = dict(headers)
        if h.get(b":method") != b"CONNECT" or h.get(b":protocol") != b"webtransport":
            self.h3.send_headers(stream_id, [(b":status", b"400")], end_stream=True)
            return
        self.sessions[stream_id] = Session()
        self.h3.send_headers(
            stream_id, [(b":status", b"200"), (b"sec-webtransport-http3-draft", b"draft02")]
        )
        self.transmit()

    def h3_event(self, e):
        super().h3_event(e)
        if isinstance(e, DatagramReceived) and e.stream_id in self.sessions:
            self.h3.send_datagram(e.stream_id, e.data)
        elif isinstance(e, WebTransportStreamDataReceived) and e.session_id in self.sessions:
            s = self.sessions[e.session_id]
            if e.stream_id % 4 == 0:
                # Client bidi: echo in place as it arrives.
                if e.data or e.stream_ended:
                    self._quic.send_stream_data(e.stream_id, e.data, end_stream=e.stream_ended)
            elif e.stream_ended and e.stream_id not in self.echoed:
                self.echoed.add(e.stream_id)
                back = self.h3.create_webtransport_stream(e.session_id, is_unidirectional=True)
                self._quic.send_stream_data(back, bytes(s.streams[e.stream_id]), end_stream=True)
        elif isinstance(e, DataReceived) and e.stream_id in self.sessions and e.stream_ended:
            # The client closed the session: answer with FIN.
            self.h3.send_data(e.stream_id, b"", end_stream=True)
        self.transmit()


async def run_server(port, cert, key):
    config = QuicConfiguration(is_client=False, alpn_protocols=H3_ALPN, max_datagram_frame_size=65536)
    config.load_cert_chain(cert, key)
    await serve("127.0.0.1", port, configuration=config, create_protocol=EchoServer)
    print(json.dumps({"listening": f"https://127.0.0.1:{port}"}), flush=True)
    await asyncio.Future()


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("client")
    c.add_argument("--url", required=True)
    c.add_argument("--case", action="append")
    s = sub.add_parser("server")
    s.add_argument("--port", type=int, default=4434)
    s.add_argument("--cert", required=True)
    s.add_argument("--key", required=True)
    a = p.parse_args()
    if a.cmd == "client":
        failed = asyncio.run(run_client(a.url, a.case or CASES))
        sys.exit(1 if failed else 0)
    asyncio.run(run_server(a.port, a.cert, a.key))


if __name__ == "__main__":
    main()
