// What every journey uses: Chromium, pages with and without JavaScript, the mail sink, the
// common steps of signing up and in, the accessibility check, and a trace on failure.
import assert from "node:assert/strict";
import path from "node:path";
import { test } from "node:test";
import { chromium } from "playwright-core";
import { AxeBuilder } from "@axe-core/playwright";

export const BASE = process.env.BASE_URL;
export const PASSWORD = "correct horse battery staple";
const MAIL = process.env.MAIL_URL;
const ARTIFACTS = process.env.ARTIFACTS;

export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
}

/** A fresh browser context (its own cookies): JavaScript on unless `javaScriptEnabled: false`. */
export async function context(browser, options = {}) {
  const ctx = await browser.newContext({ baseURL: BASE, ...options });
  return { ctx, page: await ctx.newPage() };
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
  assert.match(await page.textContent("main"), /We have sent a link/);
}

export async function confirm(page, email, n = 1) {
  await page.goto(link(await mail(email, n), `${BASE}/verify-email?token=`));
  await page.getByRole("button", { name: "Confirm my email address" }).click();
  await page.waitForURL(/notice=verified/);
}

export async function signIn(page, email, password = PASSWORD) {
  await page.goto("/login");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(/\/profile/);
}

/** Signs up, confirms and signs in, in one go. */
export async function member(page, name, email) {
  await signUp(page, name, email);
  await confirm(page, email);
  await signIn(page, email);
}

/** axe-core on the current page: no serious or critical violation. */
export async function accessible(page) {
  const { violations } = await new AxeBuilder({ page }).analyze();
  const bad = violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  assert.deepEqual(
    bad.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(" ")).join(", ")})`),
    [],
    `accessibility violations on ${page.url()}`,
  );
}

/** A test with a browser; on failure every open page is saved as a screenshot. */
export function journey(name, body) {
  test(name, async () => {
    const browser = await launch();
    try {
      await body(browser);
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
