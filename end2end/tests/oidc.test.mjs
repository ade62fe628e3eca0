// Sign in with an OpenID Connect provider, through the stand-in issuer "Acme ID"
// (../oidc.mjs) that run.mjs starts: a newcomer waits until an admin lets them in and sees
// Acme ID among their connected accounts; saying no at Acme lands on a page that says so; a
// person who signed in with GitHub connects Acme ID from their profile and then disconnects
// GitHub. With JavaScript on and off.
import assert from "node:assert/strict";
import { before } from "node:test";
import { acmeSubject } from "../oidc.mjs";
import { githubId } from "../provider.mjs";
import { BASE, JAVASCRIPT, accessible, adminAccount, context, journey, signInWithAcme, signInWithGitHub } from "./helpers.mjs";

before(adminAccount);

/** An address at Acme no other journey uses, and the name Acme gives it. */
function acmeAddress(who) {
  const local = `${who}-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e6)}`;
  return { email: `${local}@acme.example`, name: `${local} (Acme)` };
}

/** A GitHub login no other journey uses. */
function login(who) {
  return `${who}-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e6)}`;
}

const escaped = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

{
  const javaScriptEnabled = JAVASCRIPT;

  journey(`sign in with Acme ID, wait for an admin; the profile shows Acme ID`, async (browser) => {
    const person = await context(browser, { javaScriptEnabled });
    const ada = acmeAddress("ada");
    await signInWithAcme(person.page, ada.email);
    assert.equal(person.page.url(), `${BASE}/`);
    const waiting = await person.page.textContent("main");
    assert.match(waiting, /Waiting for access/);
    assert.match(waiting, new RegExp(`Thanks, ${escaped(ada.name)}\\. Your account is on the list\\.`));
    await person.page.goto("/profile");
    const profile = await person.page.textContent("main");
    assert.match(profile, new RegExp(escaped(ada.email)));
    assert.match(profile, /confirmed/);
    assert.match(profile, new RegExp(`Acme ID \\(id ${acmeSubject(ada.email)}\\)`));
    assert.match(profile, /your only way to sign in/);
    await person.page.getByRole("button", { name: "Connect GitHub" }).waitFor();

    // Signing in again, elsewhere, is the same account and goes back to the page that asked.
    const elsewhere = await context(browser, { javaScriptEnabled });
    await elsewhere.page.goto("/artworks");
    await elsewhere.page.locator("main").getByRole("link", { name: "Sign in" }).click();
    await elsewhere.page.waitForURL(/\/login\?next=\/artworks$/);
    await signInWithAcme(elsewhere.page, ada.email.toUpperCase(), { from: null });
    assert.equal(elsewhere.page.url(), `${BASE}/artworks`);
    assert.match(await elsewhere.page.textContent("main"), /waiting for an administrator/);
    await elsewhere.page.goto("/profile");
    assert.match(await elsewhere.page.textContent("main"), new RegExp(`Acme ID \\(id ${acmeSubject(ada.email)}\\)`));
  });

  journey(`denying at Acme ID lands on a page that says so, signed out`, async (browser) => {
    const { page } = await context(browser, { javaScriptEnabled });
    await signInWithAcme(page, null, { deny: true });
    const url = new URL(page.url());
    assert.equal(url.pathname, "/sign-in-failed");
    assert.equal(url.searchParams.get("reason"), "denied");
    assert.equal(url.searchParams.get("provider"), "acme");
    assert.equal(await page.getByRole("alert").textContent(), "You did not allow Gatehouse to use your Acme ID account, so you are not signed in.");
    await page.goto("/profile");
    await page.waitForURL(/\/login\?next=/);
  });

  journey(`signed in with GitHub, a person connects Acme ID, then disconnects GitHub`, async (browser) => {
    const { page } = await context(browser, { javaScriptEnabled });
    const octo = login("lin");
    await signInWithGitHub(page, octo);
    await page.goto("/profile");
    assert.match(await page.textContent("main"), /your only way to sign in/);

    const lin = acmeAddress("lin");
    await signInWithAcme(page, lin.email, { from: null, button: "Connect Acme ID" });
    assert.equal(page.url(), `${BASE}/profile?notice=linked`);
    const linked = await page.textContent("main");
    assert.match(linked, /The account is connected: you can sign in with it now/);
    assert.match(linked, new RegExp(`GitHub \\(id ${githubId(octo)}\\)`));
    assert.match(linked, new RegExp(`Acme ID \\(id ${acmeSubject(lin.email)}\\)`));
    assert.doesNotMatch(linked, /your only way to sign in/);
    assert.equal(await page.getByRole("button", { name: /^Connect / }).count(), 0);

    await page.getByRole("button", { name: "Disconnect GitHub" }).click();
    await page.getByText("The account is disconnected.").waitFor();
    const unlinked = await page.textContent("main");
    assert.doesNotMatch(unlinked, /GitHub \(id /);
    assert.match(unlinked, new RegExp(`Acme ID \\(id ${acmeSubject(lin.email)}\\)`));
    assert.match(unlinked, /your only way to sign in/);
    await page.getByRole("button", { name: "Connect GitHub" }).waitFor();

    // Acme ID is now how this person signs in: the same account, with its GitHub address.
    const elsewhere = await context(browser, { javaScriptEnabled });
    await signInWithAcme(elsewhere.page, lin.email);
    await elsewhere.page.goto("/profile");
    const profile = await elsewhere.page.textContent("main");
    assert.match(profile, new RegExp(`${escaped(octo)}@github\\.example`));
    assert.match(profile, new RegExp(`Acme ID \\(id ${acmeSubject(lin.email)}\\)`));
  });
}

journey("the stand-in Acme ID page and the profile with Acme ID connected pass axe-core", async (browser) => {
  const { page } = await context(browser);
  await page.goto("/login");
  await page.getByRole("button", { name: "Sign in with GitHub" }).waitFor();
  await page.getByRole("button", { name: "Sign in with Acme ID" }).click();
  await page.waitForURL(/\/oidc\/authorize\?/);
  await accessible(page);
  await page.getByLabel("Email at Acme").fill(acmeAddress("axe").email);
  await page.getByRole("button", { name: "Authorize" }).click();
  await page.waitForURL(`${BASE}/`);
  await page.goto("/profile");
  await accessible(page);
});
