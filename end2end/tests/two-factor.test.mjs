// Two-step sign-in with an authenticator app: set up from the profile with the key shown as
// text (the code computed here, as an app would), signing in with a code, then with a
// recovery code. Runs with JavaScript on and off.
import assert from "node:assert/strict";
import { BASE, PASSWORD, accessible, address, context, journey, member, noticed, totp } from "./helpers.mjs";

/** The first step: the password, then the code's page. */
async function passwordStep(page, email) {
  await page.goto("/login");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await page.waitForURL(/\/two-factor\?next=/);
  await page.getByRole("heading", { name: "Two-step sign-in" }).waitFor();
}

journey("two-step sign-in: set up an app, sign in with its code, then with a recovery code", async (browser) => {
  const { page } = await context(browser);
  const email = address("hedy");
  await member(page, "Hedy Lamarr", email);

  await page.getByRole("link", { name: "Set up two-step sign-in" }).click();
  await page.getByRole("button", { name: "Set up an authenticator app" }).click();
  await page.getByRole("img", { name: "QR code for your authenticator app" }).waitFor();
  await accessible(page);
  const key = (await page.locator("code.secret").textContent()).trim();
  const codes = await page.getByRole("list", { name: "Recovery codes" }).getByRole("listitem").allTextContents();
  assert.equal(codes.length, 10);

  // A wrong code is refused beside the field; the right one turns it on.
  const right = totp(key);
  await page.getByLabel("Code from the app").fill(right === "000000" ? "111111" : "000000");
  await page.getByRole("button", { name: "Turn on two-step sign-in" }).click();
  await page.locator("#field-code-error", { hasText: "That code is not right" }).waitFor();
  await page.getByLabel("Code from the app").fill(right);
  await page.getByRole("button", { name: "Turn on two-step sign-in" }).click();
  await noticed(page, /notice=two-factor-on/);
  // The page keeps the set-up (and its notice) until its new data is here: wait for it.
  await page.getByText("10 unused recovery codes").waitFor();
  assert.doesNotMatch(await page.textContent("main"), new RegExp(codes[0]));

  await page.getByRole("button", { name: "Sign out" }).click();
  await page.waitForURL(`${BASE}/`);
  await passwordStep(page, email);
  await accessible(page);
  // The set-up's code was used: the app's next one signs in.
  await page.getByLabel("Code", { exact: true }).fill(totp(key, 1));
  await page.getByRole("button", { name: "Continue" }).click();
  await page.waitForURL(/\/profile/);
  await page.getByRole("heading", { name: "Your profile" }).waitFor();
  assert.match(await page.textContent("main"), /On: signing in also asks for a code/);

  await page.getByRole("button", { name: "Sign out" }).click();
  await page.waitForURL(`${BASE}/`);
  await passwordStep(page, email);
  await page.getByLabel("Code", { exact: true }).fill(codes[4]);
  await page.getByRole("button", { name: "Continue" }).click();
  await page.waitForURL(/\/profile/);
  await page.goto("/two-factor");
  await page.getByText("9 unused recovery codes").waitFor();
});

journey("two-step sign-in: a code that is not one is explained beside the field", async (browser) => {
  const { page } = await context(browser);
  await page.goto("/two-factor");
  await page.getByLabel("Code", { exact: true }).fill("12ab");
  await page.getByRole("button", { name: "Continue" }).click();
  await page.locator("#field-code-error", { hasText: "Enter the 6 digits" }).waitFor();
});
