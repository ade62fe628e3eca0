// REQUIRE_ADMIN_MFA: an admin without a second factor is sent to add one, and /admin opens
// once they have. A Gatehouse of the journey's own runs with the gate on (the run's other
// server has it off, as over http by default), on a database of its own in the run's
// PostgreSQL, sending its mail to the run's sink.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { accessible, address, context, journey, member, noticed, totp } from "./helpers.mjs";

async function freePort() {
  const probe = net.createServer();
  await new Promise((ok) => probe.listen(0, "127.0.0.1", ok));
  const { port } = probe.address();
  await new Promise((ok) => probe.close(ok));
  return port;
}

/** Gatehouse with REQUIRE_ADMIN_MFA, `admin` its one admin; stop() ends it. */
async function startGuarded(admin) {
  const socketDir = process.env.GATEHOUSE_PG_SOCKET;
  const client = new pg.Client({ host: socketDir, user: "gatehouse", database: "gatehouse" });
  await client.connect();
  await client.query("CREATE DATABASE gatehouse_mfa").catch((e) => {
    if (e.code !== "42P04") throw e; // made by the other pass (JavaScript on or off)
  });
  await client.end();
  const port = await freePort();
  const base = `http://localhost:${port}`;
  const data = fs.mkdtempSync(path.join(os.tmpdir(), "gatehouse-mfa-"));
  const log = fs.openSync(path.join(process.env.ARTIFACTS, "server-mfa.log"), "a");
  const server = spawn(process.env.GATEHOUSE_BIN, [], {
    cwd: data,
    stdio: ["ignore", log, log],
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      RUST_LOG: "info",
      NO_COLOR: "1",
      DATA_DIR: path.join(data, "data"),
      DATABASE_URL: `postgresql://gatehouse@${encodeURIComponent(socketDir)}/gatehouse_mfa`,
      BIND: `127.0.0.1:${port}`,
      PUBLIC_URL: base,
      TRUSTED_PROXY_HOPS: "1",
      SMTP_URL: process.env.SMTP_URL,
      ADMIN_EMAILS: admin,
      REQUIRE_ADMIN_MFA: "true",
    },
  });
  const stop = async () => {
    server.kill("SIGINT");
    await new Promise((ok) => (server.exitCode !== null ? ok() : server.on("exit", ok)));
    fs.rmSync(data, { recursive: true, force: true });
  };
  const started = Date.now();
  for (;;) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/readyz`)).ok) return { base, stop };
    } catch {}
    if (server.exitCode !== null || Date.now() - started > 60_000) {
      await stop();
      throw new Error("the guarded Gatehouse did not start; see artifacts/server-mfa.log");
    }
    await new Promise((ok) => setTimeout(ok, 200));
  }
}

journey("an admin without a second factor is sent to add one; /admin opens after", async (browser) => {
  const email = address("mfa-admin");
  const guarded = await startGuarded(email);
  try {
    const { page } = await context(browser, { baseURL: guarded.base });
    await member(page, "Mary Admin", email);
    await page.goto("/admin");
    await page.getByText("Administrators need two-step sign-in").waitFor();
    assert.equal(await page.locator("main").getByText(email).count(), 0, "no user list yet");
    await accessible(page);

    await page.getByRole("link", { name: "Set up two-step sign-in" }).first().click();
    await page.waitForURL(/\/two-factor/);
    await page.getByRole("button", { name: "Set up an authenticator app" }).click();
    await page.getByRole("img", { name: "QR code for your authenticator app" }).waitFor();
    const key = (await page.locator("code.secret").textContent()).trim();
    await page.getByLabel("Code from the app").fill(totp(key));
    await page.getByRole("button", { name: "Turn on two-step sign-in" }).click();
    await noticed(page, /notice=two-factor-on/);

    await page.goto("/admin");
    await page.locator("main").getByText(email).first().waitFor();
    assert.equal(await page.getByText("Administrators need two-step sign-in").count(), 0);
  } finally {
    await guarded.stop();
  }
});
