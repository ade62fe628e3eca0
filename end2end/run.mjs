// Runs the browser tests: starts a local SMTP sink, the stand-in GitHub (provider.mjs), the
// stand-in OpenID Connect issuer "Acme ID" (oidc.mjs) and Gatehouse (on a fresh private
// PostgreSQL in a temporary folder, signing in with both stand-ins), waits for /readyz, runs
// every journey in tests/ with node's test runner, and stops everything, even when a test
// fails. Failures leave a screenshot, the server log and the stand-ins' logs (provider.log,
// oidc.log) in end2end/artifacts/.
//
//   GATEHOUSE_BIN=/path/to/gatehouse node run.mjs [--screenshots] [--only=live,admin]
import { spawn } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import net from "node:net";
import { fileURLToPath } from "node:url";
import { startMailSink } from "./mailsink.mjs";
import { startGitHub } from "./provider.mjs";
import { startOidc } from "./oidc.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
// The processing backend's bearer token: Gatehouse's INTERNAL_API_TOKENS, and what the
// journeys that play the backend send (tests/helpers.mjs, `backend`).
const INTERNAL_TOKEN = "e2e-internal-token-0123456789abcdef0123";
const binary = process.env.GATEHOUSE_BIN;
if (!binary || !fs.existsSync(binary)) {
  console.error("end2end: set GATEHOUSE_BIN to the built gatehouse binary (bash .ci/test does)");
  process.exit(2);
}
const artifacts = path.join(here, "artifacts");
fs.rmSync(artifacts, { recursive: true, force: true });
fs.mkdirSync(artifacts, { recursive: true });

// Gatehouse's port, picked below Linux's ephemeral range (32768 and up), from which the
// stand-ins' listen(0) and every outgoing connection take theirs while Gatehouse starts.
const port = await freePort();
// A host name, not 127.0.0.1: WebAuthn (the passkeys' journeys) has no IP-address sites.
// Chromium is told that localhost is 127.0.0.1 (tests/helpers.mjs, `launch`).
const base = `http://localhost:${port}`;
const data = fs.mkdtempSync(path.join(os.tmpdir(), "gatehouse-e2e-"));
fs.chmodSync(data, 0o755); // PostgreSQL runs as the postgres user when we are root
const sink = await startMailSink();
const providerLog = fs.openSync(path.join(artifacts, "provider.log"), "w");
const github = await startGitHub({ log: (line) => fs.writeSync(providerLog, `${new Date().toISOString()} ${line}\n`) });
const oidcLog = fs.openSync(path.join(artifacts, "oidc.log"), "w");
const acme = await startOidc({
  redirectUris: [`${base}/auth/acme/callback`],
  log: (line) => fs.writeSync(oidcLog, `${new Date().toISOString()} ${line}\n`),
});
const log = fs.openSync(path.join(artifacts, "server.log"), "w");
const server = spawn(binary, [], {
  cwd: data,
  stdio: ["ignore", log, log],
  env: {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    RUST_LOG: "info",
    NO_COLOR: "1",
    DATA_DIR: path.join(data, "data"),
    BIND: `127.0.0.1:${port}`,
    PUBLIC_URL: base,
    TRUSTED_PROXY_HOPS: "1", // each browser context says its own address (tests/helpers.mjs)
    SMTP_URL: sink.smtpUrl,
    ADMIN_EMAILS: "admin@example.test",
    INTERNAL_API_TOKENS: INTERNAL_TOKEN,
    GITHUB_CLIENT_ID: github.clientId,
    GITHUB_CLIENT_SECRET: github.clientSecret,
    GITHUB_AUTHORIZE_URL: github.authorizeUrl,
    GITHUB_TOKEN_URL: github.tokenUrl,
    GITHUB_API_URL: github.apiUrl,
    OIDC_PROVIDERS: "acme",
    OIDC_ACME_ISSUER: acme.issuer,
    OIDC_ACME_CLIENT_ID: acme.clientId,
    OIDC_ACME_CLIENT_SECRET: acme.clientSecret,
    OIDC_ACME_NAME: "Acme ID",
    OIDC_ACME_TRUST_EMAIL: "true",
    BETTER_AUTH_COMPAT: "true",
    TRUSTED_ORIGINS: "http://app.e2e.test", // FRONT_END in tests/better-auth-client.test.mjs
  },
});

let status = 1;
try {
  const started = Date.now();
  for (;;) {
    try {
      const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
      if (ready.ok) break;
    } catch {}
    if (server.exitCode !== null) throw new Error("gatehouse exited before it was ready; see artifacts/server.log");
    if (Date.now() - started > 120_000) throw new Error("gatehouse was not ready within 120 s");
    await new Promise((ok) => setTimeout(ok, 250));
  }
  const files = process.argv.includes("--screenshots")
    ? ["tests/screenshots.test.mjs"]
    : fs.readdirSync(path.join(here, "tests")).filter((f) => f.endsWith(".test.mjs") && f !== "screenshots.test.mjs").map((f) => `tests/${f}`);
  // --only=live,admin: just those files (while working on them; .ci/test runs them all).
  const only = process.argv.find((a) => a.startsWith("--only="))?.slice("--only=".length).split(",");
  if (only) files.splice(0, files.length, ...files.filter((f) => only.some((name) => f === `tests/${name}.test.mjs`)));
  // Every journey twice: with JavaScript on (pages hydrated by the wasm client) and off.
  // Better Auth's client runs in node, not in the page: its file runs in the first pass only,
  // and so does the first load's.
  // Screenshots are taken once, hydrated.
  const failed = [];
  for (const javaScript of process.argv.includes("--screenshots") ? ["on"] : ["on", "off"]) {
    const pass = javaScript === "on" ? files : files.filter((f) => !f.endsWith("better-auth-client.test.mjs"));
    console.log(`# journeys with JavaScript ${javaScript}`);
    // The first load's figures alone first, on a machine not busy with the other journeys.
    // (It has nothing to do without JavaScript.)
    const alone = pass.filter((f) => f.endsWith("first-load.test.mjs"));
    const together = pass.filter((f) => !alone.includes(f));
    let passed = true;
    for (const group of javaScript === "on" ? [alone, together] : [together]) {
      if (group.length && (await journeys(group, javaScript)) !== 0) passed = false;
    }
    if (!passed) failed.push(javaScript);
  }
  if (failed.length) console.error(`end2end: journeys failed with JavaScript ${failed.join(" and ")}`);
  status = failed.length ? 1 : 0;
} catch (e) {
  console.error(`end2end: ${e.message}`);
} finally {
  server.kill("SIGINT");
  await new Promise((ok) => (server.exitCode !== null ? ok() : server.on("exit", ok)));
  sink.close();
  await github.close();
  await acme.close();
  fs.rmSync(data, { recursive: true, force: true });
  if (status === 0) fs.rmSync(artifacts, { recursive: true, force: true });
}
process.exit(status);

/** Runs the test files in node's test runner, with JavaScript on or off in the pages. */
async function journeys(files, javaScript) {
  // Not spawnSync: the mail sink lives in this process and must keep answering.
  // A journey that hangs fails after 3 minutes instead of holding the run.
  const run = spawn(process.execPath, ["--test", "--test-concurrency=2", "--test-timeout=180000", ...files], {
    cwd: here,
    stdio: "inherit",
    env: {
      ...process.env,
      BASE_URL: base,
      MAIL_URL: sink.httpUrl,
      SMTP_URL: sink.smtpUrl, // for a journey that starts a Gatehouse of its own
      INTERNAL_TOKEN,
      ARTIFACTS: artifacts,
      JOURNEY_JAVASCRIPT: javaScript,
      // Gatehouse's private PostgreSQL, where Better Auth itself gets a database of its own
      // (better-auth-server.mjs).
      GATEHOUSE_PG_SOCKET: path.join(data, "data", "run"),
    },
  });
  return new Promise((ok) => run.on("exit", (code) => ok(code ?? 1)));
}

async function freePort() {
  for (;;) {
    const port = 20_000 + crypto.randomInt(12_000);
    const free = await new Promise((ok) => {
      const probe = net.createServer();
      probe.once("error", () => ok(false));
      probe.listen(port, "127.0.0.1", () => probe.close(() => ok(true)));
    });
    if (free) return port;
  }
}
