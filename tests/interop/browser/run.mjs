// Runs cases.html in headless Chromium or Firefox (Debian packages, driven by puppeteer-core)
// against a running wt-server, and prints one JSON line per case.
//
//   node run.mjs --browser chromium|chromium-draft07|firefox --url https://127.0.0.1:4433 --hash HEX
//
// Exit status: 0 if every case passed or was skipped for a documented browser limitation.
import http from "node:http";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import puppeteer from "puppeteer-core";

const here = path.dirname(fileURLToPath(import.meta.url));
const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith("--") ? [...acc, [a.slice(2), all[i + 1]]] : acc), []),
);
const browserName = args.browser || "chromium";
const timeoutMs = Number(args.timeout || 120000);

// The page is served over plain HTTP on localhost, which is a secure context.
const server = http.createServer((req, res) => {
  const file = new URL(req.url, "http://localhost").pathname.slice(1) || "cases.html";
  if (!["cases.html", "cases.js"].includes(file)) {
    res.writeHead(404).end();
    return;
  }
  res.writeHead(200, { "content-type": file.endsWith(".js") ? "text/javascript" : "text/html" });
  res.end(fs.readFileSync(path.join(here, file)));
});
await new Promise((r) => server.listen(0, "127.0.0.1", r));
const pagePort = server.address().port;

const profile = fs.mkdtempSync(path.join(os.tmpdir(), `wt-${browserName}-`));
let launch;
if (browserName.startsWith("chromium")) {
  const flags = [
    "--no-sandbox",
    `--user-data-dir=${profile}`,
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ];
  if (browserName === "chromium-draft07") flags.push("--enable-features=EnableWebTransportDraft07");
  launch = { executablePath: args.executable || "/usr/bin/chromium", headless: true, args: flags };
} else {
  launch = {
    browser: "firefox",
    executablePath: args.executable || "/usr/bin/firefox-esr",
    headless: true,
    userDataDir: profile,
    env: { ...process.env, MOZ_DISABLE_NONLOCAL_CONNECTIONS: "1" },
    extraPrefsFirefox: {
      "toolkit.telemetry.enabled": false,
      "datareporting.policy.dataSubmissionEnabled": false,
      "app.update.enabled": false,
      "network.captive-portal-service.enabled": false,
      "network.connectivity-service.enabled": false,
      "browser.safebrowsing.malware.enabled": false,
      "browser.safebrowsing.phishing.enabled": false,
    },
  };
}

let exit = 1;
const browser = await puppeteer.launch({ ...launch, protocolTimeout: timeoutMs });
const killer = setTimeout(() => {
  console.error(`timeout after ${timeoutMs} ms`);
  process.exit(2);
}, timeoutMs);
try {
  const page = await browser.newPage();
  const query = new URLSearchParams({ url: args.url, hash: args.hash });
  if (args.cases) query.set("cases", args.cases);
  await page.goto(`http://localhost:${pagePort}/cases.html?${query}`);
  await page.waitForFunction("window.__done === true", { timeout: timeoutMs, polling: 200 });
  const results = await page.evaluate(() => window.__results);
  const version = await browser.version();
  let failed = 0;
  for (const r of results) {
    console.log(JSON.stringify({ peer: browserName, version, ...r }));
    if (!r.ok) failed++;
  }
  exit = failed ? 1 : 0;
} finally {
  clearTimeout(killer);
  await browser.close();
  server.close();
  fs.rmSync(profile, { recursive: true, force: true });
}
process.exit(exit);
