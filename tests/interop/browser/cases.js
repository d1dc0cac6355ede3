// WebTransport interop cases, run in a real browser against wt-server.
// Query: ?url=https://127.0.0.1:4433&hash=<sha-256 hex>&cases=a,b,c
// Results land in window.__results (one object per case) and window.__done becomes true.
"use strict";

const params = new URLSearchParams(location.search);
const base = params.get("url");
const hash = new Uint8Array(params.get("hash").match(/../g).map((h) => parseInt(h, 16)));
const options = () => ({ serverCertificateHashes: [{ algorithm: "sha-256", value: hash }] });
const log = (s) => (document.getElementById("log").textContent += s + "\n");
const isFirefox = navigator.userAgent.includes("Firefox");

class Skip extends Error {}

function withTimeout(p, ms, what) {
  return Promise.race([p, new Promise((_, rej) => setTimeout(() => rej(new Error(`timeout: ${what}`)), ms))]);
}

function pattern(n, seed) {
  const a = new Uint8Array(n);
  for (let i = 0; i < n; i++) a[i] = (i * 31 + seed) & 0xff;
  return a;
}

function equal(a, b) {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

async function readAll(readable) {
  const reader = readable.getReader();
  const parts = [];
  let n = 0;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    parts.push(value);
    n += value.length;
  }
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

async function readExactly(reader, n) {
  const out = new Uint8Array(n);
  let o = 0;
  while (o < n) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`stream ended after ${o} of ${n} bytes`);
    out.set(value.subarray(0, n - o), o);
    o += Math.min(value.length, n - o);
  }
  return out;
}

async function session(path, extra = {}) {
  const wt = new WebTransport(base + path, { ...options(), ...extra });
  await withTimeout(wt.ready, 5000, "ready");
  return wt;
}

async function bidiEcho(wt, size, seed) {
  const data = pattern(size, seed);
  const s = await wt.createBidirectionalStream();
  const writer = s.writable.getWriter();
  const reading = readAll(s.readable);
  await writer.write(data);
  await writer.close();
  const back = await reading;
  if (!equal(back, data)) throw new Error(`bidi echo mismatch: ${back.length} of ${size} bytes`);
}

async function report(id) {
  const wt = await session(`/report?id=${id}`);
  const reader = wt.incomingUnidirectionalStreams.getReader();
  const { value } = await withTimeout(reader.read(), 5000, "report stream");
  const text = new TextDecoder().decode(await readAll(value));
  wt.close();
  return JSON.parse(text);
}

const cases = {
  async connect() {
    const wt = await session("/echo");
    wt.close();
    await wt.closed;
    return "ready, then closed";
  },

  async datagram_echo() {
    // Datagrams are unreliable (and Chromium expires queued ones), so each one is sent again
    // every 200 ms until its echo arrives.
    const wt = await session("/echo");
    const writer = wt.datagrams.writable.getWriter();
    const reader = wt.datagrams.readable.getReader();
    const pending = new Set([...Array(5).keys()].map((i) => `datagram ${i}`));
    let sends = 0;
    const resend = async () => {
      for (const d of pending) {
        sends++;
        await writer.write(new TextEncoder().encode(d));
      }
    };
    await resend();
    const timer = setInterval(resend, 200);
    try {
      while (pending.size > 0) {
        const { value } = await withTimeout(reader.read(), 5000, `datagram echo (maxDatagramSize ${wt.datagrams.maxDatagramSize})`);
        pending.delete(new TextDecoder().decode(value));
      }
    } finally {
      clearInterval(timer);
    }
    wt.close();
    return `5 datagrams echoed (${sends} sent, maxDatagramSize ${wt.datagrams.maxDatagramSize})`;
  },

  async uni_echo() {
    const wt = await session("/echo");
    const data = pattern(65536, 3);
    const s = await wt.createUnidirectionalStream();
    const writer = s.getWriter();
    await writer.write(data);
    await writer.close();
    const { value } = await withTimeout(wt.incomingUnidirectionalStreams.getReader().read(), 5000, "echo stream");
    const back = await readAll(value);
    if (!equal(back, data)) throw new Error(`uni echo mismatch (${back.length} bytes)`);
    wt.close();
    return "64 KiB echoed on a server uni stream";
  },

  async bidi_echo_1mib() {
    const wt = await session("/echo");
    await bidiEcho(wt, 1 << 20, 4);
    wt.close();
    return "1 MiB echoed byte-exact";
  },

  async concurrent_bidi_10() {
    const wt = await session("/echo");
    await Promise.all([...Array(10).keys()].map((i) => bidiEcho(wt, 16384, i)));
    wt.close();
    return "10 concurrent bidi streams echoed";
  },

  async server_opened() {
    const wt = await session("/open");
    const uni = await withTimeout(wt.incomingUnidirectionalStreams.getReader().read(), 5000, "server uni");
    const u = await readAll(uni.value);
    if (u.length !== 4096) throw new Error(`uni stream had ${u.length} bytes`);
    let bidi;
    try {
      bidi = await withTimeout(wt.incomingBidirectionalStreams.getReader().read(), 3000, "server bidi");
    } catch (e) {
      if (isFirefox) throw new Skip("browser limitation: Firefox does not surface server-initiated bidi streams (the server opened it: uni stream checked)");
      throw e;
    }
    const reader = bidi.value.readable.getReader();
    await readExactly(reader, 4096);
    const writer = bidi.value.writable.getWriter();
    await writer.write(new TextEncoder().encode("ping"));
    await writer.close();
    const rest = [];
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      rest.push(...value);
    }
    if (new TextDecoder().decode(new Uint8Array(rest)) !== "ping") throw new Error("bidi echo after 4096 bytes failed");
    wt.close();
    return "server uni (4096 bytes) and bidi (4096 bytes, then echo)";
  },

  async server_close() {
    const wt = await session("/close?code=42&reason=bye");
    const info = await withTimeout(wt.closed, 5000, "closed");
    if (info.closeCode !== 42 || info.reason !== "bye") throw new Error(`closed with ${JSON.stringify(info)}`);
    return "closed: code 42, reason bye";
  },

  async client_close_seen_by_server() {
    const id = `browser-close-${Math.random().toString(16).slice(2)}`;
    const wt = await session(`/echo?id=${id}`);
    wt.close({ closeCode: 7, reason: "client-bye" });
    await wt.closed;
    const rep = await report(id);
    if (!rep.found || rep.code !== 7 || rep.reason !== "client-bye") throw new Error(JSON.stringify(rep));
    return `server saw ${JSON.stringify(rep)}`;
  },

  async reset_codes() {
    const id = `browser-reset-${Math.random().toString(16).slice(2)}`;
    const wt = await session(`/echo?id=${id}`);
    const s = await wt.createBidirectionalStream();
    const writer = s.writable.getWriter();
    const reader = s.readable.getReader();
    await writer.write(new TextEncoder().encode("x"));
    await readExactly(reader, 1);
    await writer.abort(new WebTransportError({ message: "reset", streamErrorCode: 7 }));
    let mirrored = null;
    try {
      await withTimeout(reader.read(), 5000, "mirrored reset");
    } catch (e) {
      mirrored = e;
    }
    wt.close();
    const rep = await report(id);
    if (!rep.resets.includes(7)) throw new Error(`server report: ${JSON.stringify(rep)}`);
    if (!mirrored) throw new Error("the server's mirrored reset did not arrive");
    if (mirrored.streamErrorCode === 7) return "client reset 7 seen by the server; server reset 7 seen by the page";
    if (isFirefox) throw new Skip(`browser limitation: Firefox reports the server's reset without its code (${mirrored}); server saw client code 7`);
    throw new Error(`mirrored reset carried ${mirrored.streamErrorCode} (${mirrored})`);
  },

  async rejected() {
    const wt = new WebTransport(base + "/nope", options());
    try {
      await withTimeout(wt.ready, 5000, "ready");
    } catch (e) {
      return `ready rejected (${e.name})`;
    }
    throw new Error("ready resolved for a rejected path");
  },

  async protocols() {
    const wt = await session("/echo", { protocols: ["echo-v1", "other-v2"] });
    const p = wt.protocol;
    wt.close();
    if (p === "echo-v1") return "protocol echo-v1 chosen";
    if (isFirefox && !p) throw new Skip("browser limitation: Firefox does not send WT-Available-Protocols; the server accepted the session without a protocol");
    throw new Error(`protocol ${JSON.stringify(p)}`);
  },
};

(async () => {
  const names = (params.get("cases") || Object.keys(cases).join(",")).split(",");
  window.__results = [];
  for (const name of names) {
    const start = performance.now();
    let result;
    try {
      const detail = await withTimeout(cases[name](), 20000, name);
      result = { case: name, ok: true, detail };
    } catch (e) {
      if (e instanceof Skip) result = { case: name, ok: true, skipped: true, detail: e.message };
      else result = { case: name, ok: false, detail: `${e && e.name}: ${e && e.message}` };
    }
    result.ms = Math.round(performance.now() - start);
    window.__results.push(result);
    log(JSON.stringify(result));
  }
  window.__done = true;
})();
