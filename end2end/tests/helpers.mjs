import crypto from "node:crypto";
// What every journey uses: Chromium, pages with and without JavaScript, the mail sink, the
// common steps of signing up and in (also with the stand-in GitHub and the stand-in OpenID
// Connect issuer), the admin, the accessibility check, and a trace on failure.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { chromium } from "playwright-core";
import { AxeBuilder } from "@axe-core/playwright";

export const BASE = process.env.BASE_URL;
export const PASSWORD = "correct horse battery staple";
export const ADMIN = "admin@example.test"; // ADMIN_EMAILS in run.mjs
const MAIL = process.env.MAIL_URL;
const ARTIFACTS = process.env.ARTIFACTS;

/**
 * The pass's mode: run.mjs runs every journey twice, with JavaScript on (the pages hydrated
 * by the wasm client) and with it off. A context can still choose (`javaScriptEnabled`).
 */
export const JAVASCRIPT = process.env.JOURNEY_JAVASCRIPT !== "off";
const MODE = JAVASCRIPT ? "" : " (JavaScript off)";

export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--host-resolver-rules=MAP localhost 127.0.0.1"],
  });
}

/**
 * A fresh browser context (its own cookies), with JavaScript as the pass has it unless
 * `javaScriptEnabled` says. With JavaScript, every page Gatehouse serves must hydrate: each
 * `goto` waits for the client's marker and fails without it.
 * Each is a person at their own address: Gatehouse runs behind one trusted proxy here
 * (TRUSTED_PROXY_HOPS=1 in run.mjs), and the context says where it comes from, so the
 * journeys do not all draw on one address's sign-in quota.
 */
export async function context(browser, options = {}) {
  const from = Array.from({ length: 3 }, () => Math.floor(Math.random() * 256)).join(".");
  const ctx = await browser.newContext({ baseURL: BASE, extraHTTPHeaders: { "x-forwarded-for": `10.${from}` }, javaScriptEnabled: JAVASCRIPT, ...options });
  const javaScript = options.javaScriptEnabled ?? JAVASCRIPT;
  ctx.on("page", (page) => {
    watchConsole(browser, page);
    page.javaScript = javaScript;
    if (javaScript) awaitHydration(page);
  });
  return { ctx, page: await ctx.newPage() };
}

/** What went wrong on a browser's pages' consoles, by browser; `journey` fails on any. */
const consoleProblems = new WeakMap();

/**
 * Records a page's script errors and console errors (a script the CSP refused is one).
 * Answers with an error status are logged by Chromium too ("Failed to load resource"): the
 * journeys that ask for them check them themselves.
 */
function watchConsole(browser, page) {
  const problems = consoleProblems.get(browser) ?? [];
  consoleProblems.set(browser, problems);
  page.on("pageerror", (error) => problems.push(`${page.url()}: script error: ${error.message}`));
  page.on("console", (message) => {
    if (message.type() !== "error" || message.text().startsWith("Failed to load resource")) return;
    problems.push(`${page.url()}: console: ${message.text()}`);
  });
}

/** Makes `page.goto` of one of Gatehouse's pages return once the client has hydrated it. */
function awaitHydration(page) {
  const goto = page.goto.bind(page);
  page.goto = async (url, options) => {
    const response = await goto(url, options);
    const html = (response?.headers()["content-type"] ?? "").startsWith("text/html");
    if (html && new URL(page.url()).origin === BASE) {
      await page.waitForSelector("html[data-hydrated]", { state: "attached", timeout: 5_000 }).catch(() => {
        throw new Error(`${page.url()} did not hydrate within 5 s`);
      });
    }
    return response;
  };
}

/**
 * Runs `act`, which ends on another page, and fails if the browser loaded that page whole:
 * with JavaScript on, the client navigates itself. Without JavaScript it only runs `act`.
 */
export async function withoutReload(page, act) {
  if (page.javaScript) await page.evaluate(() => (window.gatehouseSamePage = true));
  await act();
  if (page.javaScript) assert.equal(await page.evaluate(() => window.gatehouseSamePage), true, `${page.url()} was a full page load`);
}

/**
 * Waits until the page is at `url` and shows the note an action's redirect names
 * (`?notice=…`): in a hydrated page the note comes with the page's data asked for again,
 * so what the page shows after it is what the change made.
 */
export async function noticed(page, url) {
  await page.waitForURL(url);
  await page.locator(".notice").waitFor();
}

/** Plays the processing backend: a call to Gatehouse's internal API, its JSON answer. */
export async function backend(method, path, body) {
  const response = await fetch(`${BASE}${path}`, {
    method,
    headers: { authorization: `Bearer ${process.env.INTERNAL_TOKEN}`, "content-type": "application/json" },
    body: body && JSON.stringify(body),
  });
  const answer = await response.json();
  assert.ok(response.ok, `${method} ${path}: ${response.status} ${JSON.stringify(answer)}`);
  return answer;
}

/** A unique address for one journey. */
export function address(who) {
  return `${who}-${Date.now()}-${Math.floor(Math.random() * 1e6)}@example.test`;
}

/** The n-th mail to `to` (1-based), waiting up to 10 s. */
export async function mail(to, n = 1) {
  const started = Date.now();
  for (;;) {
    const messages = await (await fetch(`${MAIL}/messages?to=${encodeURIComponent(to)}`)).json();
    if (messages.length >= n) return messages[n - 1];
    if (Date.now() - started > 10_000) throw new Error(`${to} received ${messages.length} mail(s), expected ${n}`);
    await new Promise((ok) => setTimeout(ok, 100));
  }
}

export function link(message, startsWith) {
  const match = message.body.match(new RegExp(`${startsWith.replace(/[.?]/g, "\\$&")}\\S+`));
  assert.ok(match, `no ${startsWith} link in:\n${message.body}`);
  return match[0];
}

export async function signUp(page, name, email) {
  await page.goto("/signup");
  await page.getByLabel("Name").fill(name);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Create account" }).click();
  await page.waitForURL(/\/check-email/);
  // A page the server writes: after the client's navigation it arrives a moment later.
  await page.getByText(/We have sent a link/).waitFor();
}

/** Confirms `email` from its n-th mail, with the password chosen at sign-up. */
export async function confirm(page, email, n = 1) {
  // The Gatehouse the page is on (a journey may start one of its own), else the run's.
  const base = page.url().startsWith("http") ? new URL(page.url()).origin : BASE;
  await page.goto(link(await mail(email, n), `${base}/verify-email?token=`));
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Confirm my email address" }).click();
  await noticed(page, /notice=verified/);
}

export async function signIn(page, email, password = PASSWORD) {
  await page.goto("/login");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await withoutReload(page, async () => {
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    await page.waitForURL(/\/profile/);
    await page.getByRole("heading", { name: "Your profile" }).waitFor();
  });
}

/** RFC 6238's code for a base32 key, `steps` periods of 30 s from now (RFC 4226 §5.3): what
 * an authenticator app shows. */
export function totp(key, steps = 0) {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = "";
  for (const c of key.replace(/=+$/, "")) bits += alphabet.indexOf(c).toString(2).padStart(5, "0");
  const bytes = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(Date.now() / 1000 / 30) + steps));
  const mac = crypto.createHmac("sha1", bytes).update(counter).digest();
  const offset = mac[mac.length - 1] & 0xf;
  return String((mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000).padStart(6, "0");
}

/** Signs up, confirms and signs in, in one go. */
export async function member(page, name, email) {
  await signUp(page, name, email);
  await confirm(page, email);
  await signIn(page, email);
}

/** Where the admin's signed-in browser state is kept for the run (see `adminAccount`). */
const ADMIN_STATE = path.join(ARTIFACTS, "admin-state.json");

/**
 * Makes the admin's account once per run, and signs it in once: every admin context shares
 * that session (`asAdmin`), as the sign-in limit per account (ten, then one every 90 s)
 * would refuse the journeys' many sign-ins. Test files run in parallel processes and any of
 * them may need it first: the first to get here signs it up, confirms it and signs in, the
 * others wait for that (two sign-ups at once would each take the other's confirmation mail).
 */
export async function adminAccount() {
  const lock = path.join(ARTIFACTS, "admin-account.lock");
  const done = path.join(ARTIFACTS, "admin-account.done");
  try {
    fs.mkdirSync(lock);
  } catch {
    const started = Date.now();
    while (!fs.existsSync(done)) {
      if (Date.now() - started > 60_000) throw new Error(`${ADMIN}'s account was not made within 60 s (another test file was making it)`);
      await new Promise((ok) => setTimeout(ok, 100));
    }
    return;
  }
  const browser = await launch();
  try {
    const { page } = await context(browser);
    await signUp(page, "Admin", ADMIN);
    await confirm(page, ADMIN);
    await signIn(page, ADMIN);
    await page.context().storageState({ path: ADMIN_STATE });
    fs.writeFileSync(done, "");
  } finally {
    await browser.close();
  }
}

/** A context signed in as the admin (after `adminAccount`), with JavaScript as the pass has it. */
export async function asAdmin(browser) {
  return context(browser, { storageState: ADMIN_STATE });
}

/** On the admin's page: lets `email` in from the dashboard. */
export async function letIn(page, email) {
  await page.goto(`/admin?filter=waiting&q=${encodeURIComponent(email)}`);
  await page.locator("tbody tr", { hasText: email }).getByRole("link").click();
  await page.getByRole("button", { name: "Let them in" }).click();
  await noticed(page, /notice=access/);
}

/** Ada and Bob, each in a context of their own, signed up and let in by the admin. */
export async function twoArtists(browser, options = {}) {
  const admin = await asAdmin(browser);
  const ada = await context(browser, options);
  const bob = await context(browser, options);
  for (const [who, artist] of [["Ada", ada], ["Bob", bob]]) {
    const email = address(who.toLowerCase());
    await member(artist.page, who, email);
    await letIn(admin.page, email);
  }
  return { ada, bob };
}

/**
 * Presses `button` on the page open at `from` (unless `from` is null) and waits until the
 * browser is at the provider's page (its URL matches `reaches`, its heading is `heading`),
 * then lets `act` press Authorize or Deny there and waits until the browser is back at
 * Gatehouse.
 */
async function throughProvider(page, { from, button, reaches, heading, act }) {
  if (from) await page.goto(from);
  // A browser refuses to follow a form's redirect to another origin when the page's CSP
  // form-action does not allow it, and says so only on the console: fail with its words.
  const refused = page.waitForEvent("console", { predicate: (m) => m.text().includes("form-action"), timeout: 0 });
  refused.catch(() => {});
  await page.getByRole("button", { name: button }).click();
  await Promise.race([
    page.waitForURL(reaches),
    refused.then((m) => {
      throw new Error(`"${button}" did not reach ${heading}; Chromium says: ${m.text()}`);
    }),
  ]);
  assert.equal(await page.getByRole("heading", { level: 1 }).textContent(), heading);
  await act();
  await page.waitForURL((url) => url.origin === BASE && !url.pathname.startsWith("/auth/"));
}

/**
 * "Sign in with GitHub" on the page open at `from` (the sign-in page unless told), then, at
 * the stand-in GitHub, types `login` and presses Authorize (or Deny with `deny: true`). Waits
 * until the browser is back at Gatehouse.
 */
export async function signInWithGitHub(page, login, { from = "/login", button = "Sign in with GitHub", deny = false } = {}) {
  await throughProvider(page, {
    from,
    button,
    reaches: /\/login\/oauth\/authorize\?/,
    heading: "Sign in to GitHub (stand-in)",
    act: async () => {
      if (deny) return page.getByRole("button", { name: "Deny" }).click();
      await page.getByLabel("GitHub login").fill(login);
      await page.getByRole("button", { name: "Authorize" }).click();
    },
  });
}

/**
 * The same with the stand-in OpenID Connect issuer "Acme ID" (../oidc.mjs): "Sign in with
 * Acme ID" (or `button`), then `email` typed at Acme and Authorize (or Deny).
 */
export async function signInWithAcme(page, email, { from = "/login", button = "Sign in with Acme ID", deny = false } = {}) {
  await throughProvider(page, {
    from,
    button,
    reaches: /\/oidc\/authorize\?/,
    heading: "Sign in to Acme ID (stand-in)",
    act: async () => {
      if (deny) return page.getByRole("button", { name: "Deny" }).click();
      await page.getByLabel("Email at Acme").fill(email);
      await page.getByRole("button", { name: "Authorize" }).click();
    },
  });
}

/**
 * axe-core on the current page: no serious or critical violation. axe runs as a script in
 * the page, which a page without JavaScript cannot run: there it checks nothing, and the
 * pass with JavaScript checks the same pages (the server renders them alike).
 */
export async function accessible(page) {
  if (!page.javaScript) return;
  const { violations } = await new AxeBuilder({ page }).analyze();
  const bad = violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  assert.deepEqual(
    bad.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(" ")).join(", ")})`),
    [],
    `accessibility violations on ${page.url()}`,
  );
}

/**
 * A test with a browser; it fails on any script or console error in its pages. On failure
 * every open page is saved as a screenshot.
 */
export function journey(name, body) {
  test(name + MODE, async () => {
    const browser = await launch();
    try {
      await body(browser);
      assert.deepEqual(consoleProblems.get(browser) ?? [], [], "the pages' consoles reported errors");
    } catch (error) {
      let n = 0;
      for (const ctx of browser.contexts()) {
        for (const page of ctx.pages()) {
          const file = path.join(ARTIFACTS, `${name.replace(/\W+/g, "-")}-${n++}.png`);
          await page.screenshot({ path: file, fullPage: true }).catch(() => {});
        }
      }
      throw error;
    } finally {
      await browser.close();
    }
  });
}
