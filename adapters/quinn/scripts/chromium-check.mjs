// Tiny CDP client: open a page in a running headless Chromium and wait for the demo's status.
const [port, url] = process.argv.slice(2);
const sleep = ms => new Promise(r => setTimeout(r, ms));
let target;
for (let i = 0; i < 50 && !target; i++) {
  try {
    const r = await fetch(`http://127.0.0.1:${port}/json/new?${encodeURIComponent(url)}`, { method: "PUT" });
    target = await r.json();
  } catch { await sleep(200); }
}
const ws = new WebSocket(target.webSocketDebuggerUrl);
await new Promise(r => ws.addEventListener("open", r));
let id = 0; const pending = new Map();
ws.addEventListener("message", ev => { const m = JSON.parse(ev.data); if (pending.has(m.id)) { pending.get(m.id)(m); pending.delete(m.id); } });
const call = (method, params = {}) => new Promise(r => { const n = ++id; pending.set(n, r); ws.send(JSON.stringify({ id: n, method, params })); });
for (let i = 0; i < 60; i++) {
  const r = await call("Runtime.evaluate", { expression: "document.getElementById('status')?.textContent + '\\n' + document.getElementById('log')?.textContent", returnByValue: true });
  const text = r.result?.result?.value ?? "";
  if (!text.startsWith("running")) { console.log(text); process.exit(text.startsWith("ALL ECHOES OK") ? 0 : 1); }
  await sleep(500);
}
console.log("timed out; last state unknown"); process.exit(2);
