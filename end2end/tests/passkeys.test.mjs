// Passkeys in Chromium with a virtual authenticator (the DevTools protocol's WebAuthn domain,
// through a CDP session): add one on the profile, sign out, sign in with it from /login with
// no email typed. Without JavaScript the passkey buttons are off and say why.
import assert from "node:assert/strict";
import { BASE, JAVASCRIPT, accessible, address, context, journey, member, noticed } from "./helpers.mjs";

/** A platform authenticator that holds discoverable credentials and verifies its user. */
async function virtualAuthenticator(page) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("WebAuthn.enable");
  await cdp.send("WebAuthn.addVirtualAuthenticator", {
    options: {
      protocol: "ctap2",
      transport: "internal",
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });
}

journey("passkeys: add one on the profile, then sign in with it alone", async (browser) => {
  const { page } = await context(browser);
  const email = address("grace");
  await member(page, "Grace Hopper", email);
  await page.goto("/profile");
  const add = page.getByRole("button", { name: "Add a passkey" });
  if (!JAVASCRIPT) {
    // WebAuthn needs JavaScript: the button is off, and the page says so.
    assert.equal(await add.isDisabled(), true);
    await page.getByText("Passkeys need JavaScript").first().waitFor();
    await page.goto("/login");
    assert.equal(await page.getByRole("button", { name: "Sign in with a passkey" }).isDisabled(), true);
    return;
  }
  await virtualAuthenticator(page);
  await page.getByLabel("Name for the new passkey (optional)").fill("Grace's laptop");
  await add.click();
  await noticed(page, /notice=passkey-added/);
  await page.getByText("Grace's laptop").first().waitFor();
  await page.getByRole("button", { name: "Rename Grace's laptop" }).waitFor();
  await accessible(page);

  await page.getByRole("button", { name: "Sign out" }).click();
  await page.waitForURL(`${BASE}/`);
  await page.goto("/login");
  await accessible(page);
  await page.getByRole("button", { name: "Sign in with a passkey" }).click();
  await page.waitForURL(/\/profile/);
  await page.getByRole("heading", { name: "Your profile" }).waitFor();
  assert.match(await page.textContent("main"), new RegExp(email));
});
