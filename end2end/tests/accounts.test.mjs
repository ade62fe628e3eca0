// A person's own account: sign up, confirm, sign in, profile, sign out; a forgotten password;
// ending another session. Each journey runs with JavaScript on and off.
import assert from "node:assert/strict";
import fs from "node:fs/promises";
import { BASE, JAVASCRIPT, PASSWORD, accessible, address, confirm, context, journey, noticed, link, mail, member, signIn, signUp, withoutReload } from "./helpers.mjs";

{
  const javaScriptEnabled = JAVASCRIPT;

  journey(`sign up, confirm by mail, sign in, rename, sign out`, async (browser) => {
    const { page } = await context(browser, { javaScriptEnabled });
    const email = address("ada");
    await signUp(page, "Ada Lovelace", email);
    await confirm(page, email);
    assert.match(await page.textContent("main"), /Your email address is confirmed/);
    await signIn(page, email);
    assert.match(await page.textContent("main"), new RegExp(email));
    assert.match(await page.textContent("main"), /confirmed/);

    await page.getByLabel("Name", { exact: true }).fill("Ada King");
    await page.getByRole("button", { name: "Save name" }).click();
    await noticed(page, /notice=name/);
    assert.equal(await page.getByLabel("Name", { exact: true }).inputValue(), "Ada King");
    await page.locator("header", { hasText: "Ada King" }).waitFor();

    await page.getByRole("button", { name: "Sign out" }).click();
    await page.waitForURL(`${BASE}/`);
    await page.goto("/profile");
    await page.waitForURL(/\/login\?next=\/profile/);
  });

  journey(`download my data: a wrong password is said beside the field, the right one gives the file`, async (browser) => {
    const { page } = await context(browser, { javaScriptEnabled });
    const email = address("export");
    await member(page, "Ida Export", email);
    await page.getByLabel("Password to download your data").fill("not my password");
    await page.getByRole("button", { name: "Download my data" }).click();
    await page.waitForURL(/\/profile\?export=password/);
    const field = page.getByLabel("Password to download your data");
    assert.equal(await field.getAttribute("aria-invalid"), "true");
    assert.match(await page.locator("#your-data").textContent(), /That is not your current password/);

    await field.fill(PASSWORD);
    const [download] = await Promise.all([
      page.waitForEvent("download"),
      page.getByRole("button", { name: "Download my data" }).click(),
    ]);
    assert.match(download.suggestedFilename(), /^gatehouse-data-\d{4}-\d{2}-\d{2}\.json$/);
    const data = JSON.parse(await fs.readFile(await download.path(), "utf8"));
    assert.equal(data.format, "gatehouse.data-export.v1");
    assert.equal(data.account.email, email);
    assert.equal(data.account.name, "Ida Export");
    assert.ok(data.sessions.some((s) => s.this_session));
    assert.doesNotMatch(JSON.stringify(data), /argon2|\$2[aby]\$/);
  });

  journey(`change my email address: the new address confirms it, the old one undoes it`, async (browser) => {
    const { page } = await context(browser, { javaScriptEnabled });
    const email = address("moving");
    const next = address("moved");
    await member(page, "Mo Ving", email);
    const card = page.locator("#email-address");
    // A wrong password is said beside its field; the new address typed is kept.
    await page.getByLabel("New email address").fill(next);
    await page.getByLabel("Password to change your address").fill("not my password");
    await page.getByRole("button", { name: "Send a confirmation link" }).click();
    await page.locator("#field-email_password-error").waitFor();
    assert.doesNotMatch(page.url(), /__err|__path/);
    const password = page.getByLabel("Password to change your address");
    assert.equal(await password.getAttribute("aria-invalid"), "true");
    assert.match(await card.textContent(), /That is not your current password/);
    assert.equal(await page.getByLabel("New email address").inputValue(), next);

    await password.fill(PASSWORD);
    await page.getByRole("button", { name: "Send a confirmation link" }).click();
    await page.locator("#email-address", { hasText: `Waiting for you to confirm ${next}` }).waitFor();
    assert.match(await card.textContent(), new RegExp(`You sign in with ${email}`));

    // The new address's link shows a button; pressing it makes the address hers.
    await page.goto(link(await mail(next), `${BASE}/email-change?token=`));
    await page.getByRole("button", { name: "Confirm my new address" }).click();
    await page.waitForURL(/done=confirmed/);
    assert.match(await page.textContent("main"), /Your new address is confirmed/);
    await page.goto("/profile");
    assert.match(await card.textContent(), new RegExp(`You sign in with ${next}`));

    // The old address was told, with a link that puts it back and signs out everywhere.
    await page.goto(link(await mail(email, 3), `${BASE}/email-change?undo=`));
    await page.getByRole("button", { name: "Undo the change and sign out everywhere" }).click();
    // Whoever asked knew the password: it was cleared, and the owner chooses a new one.
    await page.waitForURL(/\/reset-password\?token=/);
    await page.getByLabel("New password", { exact: true }).fill("an undone and fresh passphrase");
    await page.getByRole("button", { name: "Set the new password" }).click();
    await noticed(page, /notice=reset/);
    await page.goto("/profile");
    await page.waitForURL(/\/login\?next=\/profile/);
    await signIn(page, email, "an undone and fresh passphrase");
    assert.match(await card.textContent(), new RegExp(`You sign in with ${email}`));
  });

  journey(`a wrong password is refused beside the form, the email kept`, async (browser) => {
    const { page } = await context(browser, { javaScriptEnabled });
    await page.goto("/login");
    await page.getByLabel("Email").fill("nobody@example.test");
    await page.getByLabel("Password").fill("not the password");
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    await page.getByRole("alert").waitFor();
    assert.match(await page.getByRole("alert").textContent(), /Email or password is incorrect/);
    assert.equal(await page.getByLabel("Email").inputValue(), "nobody@example.test");
    assert.equal(await page.getByLabel("Password").inputValue(), "");
  });
}

journey("a link carrying a form's answer shows nothing of it, and the page hydrates", async (browser) => {
  const { page } = await context(browser);
  const forged = Buffer.from(JSON.stringify({ status: 401, message: "Call 555-0100 to unlock.", fields: [] })).toString("base64url");
  for (const link of [`/login?__path=%2Fapi%2Fsign-in&__err=${forged}`, `/login?__path=%2Fapi%2Fsign-in&__err=e30&__errmac=00&__err=${forged}`]) {
    await page.goto(link);
    assert.equal(new URL(page.url()).search, "", "the address loses it");
    assert.doesNotMatch(await page.textContent("main"), /555-0100/);
    assert.equal(await page.getByRole("alert").count(), 0);
  }
});

journey("a refused sign-up shows each error at its field, keeps what was typed, focuses the first", async (browser) => {
  const { page } = await context(browser);
  await page.goto("/signup");
  await page.getByLabel("Name").fill("Grace");
  await page.getByLabel("Email").fill("not-an-address");
  await page.getByLabel("Password").fill("short");
  await withoutReload(page, async () => {
    await page.getByRole("button", { name: "Create account" }).click();
    await page.locator("#field-password-error").waitFor();
  });
  assert.match(await page.locator("#field-email-error").textContent(), /email/i);
  assert.equal(await page.getByLabel("Name").inputValue(), "Grace");
  assert.equal(await page.getByLabel("Email").inputValue(), "not-an-address");
  assert.equal(await page.getByLabel("Password").inputValue(), "");
  assert.equal(await page.getByLabel("Email").getAttribute("aria-invalid"), "true");
  // In the browser the first field in error takes the focus, so typing goes there.
  if (JAVASCRIPT) await page.waitForFunction(() => document.activeElement?.id === "field-email");
});

journey("a forgotten password is reset and every old session ends", async (browser) => {
  const first = await context(browser);
  const second = await context(browser);
  const email = address("grace");
  await member(first.page, "Grace", email);
  await signIn(second.page, email);

  const someone = await context(browser, { javaScriptEnabled: false });
  await someone.page.goto("/forgot-password");
  await someone.page.getByLabel("Email").fill(email);
  await someone.page.getByRole("button", { name: "Send the link" }).click();
  await someone.page.waitForURL(/check-email\?for=reset/);
  await someone.page.goto(link(await mail(email, 2), `${BASE}/reset-password?token=`));
  await someone.page.getByLabel("New password", { exact: true }).fill("a brand new passphrase");
  await someone.page.getByRole("button", { name: "Set the new password" }).click();
  await noticed(someone.page, /notice=reset/);

  for (const { page } of [first, second]) {
    await page.goto("/profile");
    await page.waitForURL(/\/login/);
  }
  await signIn(someone.page, email, "a brand new passphrase");
});

journey("ending another session signs that browser out", async (browser) => {
  const laptop = await context(browser);
  const phone = await context(browser, { javaScriptEnabled: false });
  const email = address("lin");
  await member(laptop.page, "Lin", email);
  await signIn(phone.page, email);
  await laptop.page.goto("/profile");
  const endButtons = laptop.page.getByRole("button", { name: /End the session on/ });
  await withoutReload(laptop.page, async () => {
    await endButtons.click();
    await noticed(laptop.page, /notice=session-ended/);
  });
  assert.equal(await endButtons.count(), 0, "the ended session left the list");
  await phone.page.reload();
  await phone.page.waitForURL(/\/login/);
  await laptop.page.goto("/profile");
  assert.match(await laptop.page.textContent("main"), /this device/);
});

journey("keyboard-only sign-in", async (browser) => {
  const { page } = await context(browser);
  const email = address("kim");
  await signUp(page, "Kim", email);
  await confirm(page, email);
  await page.goto("/login");
  await page.keyboard.press("Tab"); // the skip link comes first
  assert.equal(await page.evaluate(() => document.activeElement.textContent), "Skip to content");
  await page.getByLabel("Email").focus();
  await page.keyboard.type(email);
  await page.keyboard.press("Tab");
  await page.keyboard.type(PASSWORD);
  await page.keyboard.press("Enter");
  await page.waitForURL(/\/profile/);
});

journey("every page passes axe-core without serious violations, and every control has a label", async (browser) => {
  const { page } = await context(browser);
  for (const path of ["/", "/login", "/signup", "/forgot-password", "/check-email", "/verify-email?token=x", "/reset-password?token=x", "/email-change?token=x", "/no-such-page"]) {
    await page.goto(path);
    await accessible(page);
  }
  const email = address("axe");
  await member(page, "Axe", email);
  for (const path of ["/profile", "/"]) {
    await page.goto(path);
    await accessible(page);
  }
  const unlabelled = await page.evaluate(() =>
    [...document.querySelectorAll("input:not([type=hidden]), select, textarea")].filter((el) => !el.labels?.length && !el.getAttribute("aria-label")).map((el) => el.name),
  );
  assert.deepEqual(unlabelled, []);
});
