// Sign in with GitHub, through the stand-in GitHub (../provider.mjs) that run.mjs starts: a
// newcomer waits until an admin lets them in; saying no at GitHub lands on a page that says
// so; a person with a password connects GitHub from their profile. With JavaScript on and off.
import assert from "node:assert/strict";
import { before } from "node:test";
import { githubId } from "../provider.mjs";
import { BASE, JAVASCRIPT, accessible, address, adminAccount, asAdmin, context, journey, letIn, member, signInWithGitHub } from "./helpers.mjs";

before(adminAccount);

/** A GitHub login no other journey uses. */
function login(who) {
  return `${who}-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e6)}`;
}

{
  const javaScriptEnabled = JAVASCRIPT;

  journey(`sign in with GitHub, wait, an admin lets them in, then their artworks`, async (browser) => {
    const person = await context(browser, { javaScriptEnabled });
    const octo = login("octo");
    await signInWithGitHub(person.page, octo);
    assert.equal(person.page.url(), `${BASE}/`);
    const waiting = await person.page.textContent("main");
    assert.match(waiting, /Waiting for access/);
    assert.match(waiting, new RegExp(`Thanks, ${octo} \\(GitHub\\)\\. Your account is on the list\\.`));
    await person.page.goto("/artworks");
    assert.match(await person.page.textContent("main"), /waiting for an administrator/);
    await person.page.goto("/profile");
    const profile = await person.page.textContent("main");
    assert.match(profile, new RegExp(`${octo}@github\\.example`));
    assert.match(profile, /confirmed/);
    assert.match(profile, new RegExp(`GitHub \\(id ${githubId(octo)}\\)`));
    assert.match(profile, /your only way to sign in/);

    const admin = await asAdmin(browser);
    await letIn(admin.page, `${octo}@github.example`);

    await person.page.goto("/");
    await person.page.reload();
    assert.match(await person.page.textContent("main"), new RegExp(`Welcome back, ${octo} \\(GitHub\\)`));
    await person.page.goto("/artworks");
    assert.match(await person.page.textContent("main"), /No artworks here yet/);
    await person.page.getByLabel("Image address").waitFor();

    // Signing in again, elsewhere, is the same account, already let in, and goes back to the
    // page that asked for it.
    const elsewhere = await context(browser, { javaScriptEnabled });
    await elsewhere.page.goto("/artworks");
    await elsewhere.page.locator("main").getByRole("link", { name: "Sign in" }).click();
    await elsewhere.page.waitForURL(/\/login\?next=\/artworks$/);
    await signInWithGitHub(elsewhere.page, octo, { from: null });
    assert.equal(elsewhere.page.url(), `${BASE}/artworks`);
    assert.match(await elsewhere.page.textContent("main"), /No artworks here yet/);
  });

  journey(`denying at GitHub lands on a page that says so, signed out`, async (browser) => {
    const { page } = await context(browser, { javaScriptEnabled });
    const failed = page.waitForResponse((r) => new URL(r.url()).pathname === "/sign-in-failed");
    failed.catch(() => {}); // awaited below; no unhandled rejection if the sign-in fails first
    await signInWithGitHub(page, null, { deny: true });
    assert.equal((await failed).status(), 400);
    const url = new URL(page.url());
    assert.equal(url.pathname, "/sign-in-failed");
    assert.equal(url.searchParams.get("reason"), "denied");
    assert.equal(url.searchParams.get("provider"), "github");
    assert.equal(await page.getByRole("heading", { level: 1 }).textContent(), "Sign-in did not work");
    assert.equal(await page.getByRole("alert").textContent(), "You did not allow Gatehouse to use your GitHub account, so you are not signed in.");
    await page.getByRole("link", { name: "Back to sign in" }).click();
    await page.waitForURL(/\/login/);
    await page.getByRole("button", { name: "Sign in with GitHub" }).waitFor();
    await page.goto("/profile");
    await page.waitForURL(/\/login\?next=/);
  });

  journey(`a person with a password connects GitHub from their profile`, async (browser) => {
    const { page } = await context(browser, { javaScriptEnabled });
    await member(page, "Grace", address("grace"));
    await page.goto("/profile");
    assert.match(await page.textContent("main"), /No account is connected yet/);
    const octo = login("grace");
    await signInWithGitHub(page, octo, { from: null, button: "Connect GitHub" });
    assert.match(page.url(), /\/profile\?notice=linked/);
    const profile = await page.textContent("main");
    assert.match(profile, /The account is connected: you can sign in with it now/);
    assert.match(profile, new RegExp(`GitHub \\(id ${githubId(octo)}\\)`));
    await page.getByRole("button", { name: "Disconnect GitHub" }).waitFor();
  });
}

journey("the sign-in page with its provider buttons and the failure page pass axe-core", async (browser) => {
  const { page } = await context(browser);
  for (const path of ["/login", "/login?next=/artworks", "/sign-in-failed?reason=denied&provider=github", "/sign-in-failed?reason=expired&provider=github"]) {
    await page.goto(path);
    await accessible(page);
  }
});

journey("the profile with GitHub connected passes axe-core, every control labelled", async (browser) => {
  // Signed in with GitHub only, and a password account that connected GitHub: the two shapes
  // of the "Connected accounts" section.
  const { page } = await context(browser);
  await signInWithGitHub(page, login("axe"));
  await page.goto("/profile");
  assert.match(await page.textContent("main"), /GitHub \(id \d+\)/);
  await accessible(page);
  const unlabelled = await page.evaluate(() =>
    [...document.querySelectorAll("input:not([type=hidden]), select, textarea")].filter((el) => !el.labels?.length && !el.getAttribute("aria-label")).map((el) => el.name),
  );
  assert.deepEqual(unlabelled, []);

  const other = await context(browser);
  await member(other.page, "Linked", address("linked"));
  await signInWithGitHub(other.page, login("linked"), { from: "/profile", button: "Connect GitHub" });
  await accessible(other.page);
});
