// An admin invites someone by email from /admin; the invitee opens the mailed link, signs
// up with a name and a password, and arrives on their profile already let in, with the tier
// the admin chose; then the admin invites more from a file. With JavaScript on and off (the
// forms and the invitation's page are written on the server: plain forms either way).
import assert from "node:assert/strict";
import { before } from "node:test";
import { BASE, PASSWORD, accessible, address, adminAccount, asAdmin, context, journey, link, mail } from "./helpers.mjs";

before(adminAccount);

journey("an invited person signs up from the mailed link and arrives let in", async (browser) => {
  const admin = await asAdmin(browser);
  const email = address("invitee");
  await admin.page.goto("/admin");
  const form = admin.page.getByRole("form", { name: "Invite someone" });
  await form.getByLabel("Email address to invite").fill(email);
  await form.getByLabel("Tier").selectOption("member");
  await form.getByRole("button", { name: "Invite", exact: true }).click();
  await admin.page.waitForURL(/invite=sent/);
  await admin.page.getByText("The invitation is on its way.").waitFor();
  await admin.page.getByRole("button", { name: `Revoke the invitation to ${email}` }).waitFor();
  await accessible(admin.page);

  const invitee = await context(browser);
  await invitee.page.goto(link(await mail(email), `${BASE}/invitation?token=`));
  await invitee.page.getByRole("heading", { name: "You are invited" }).waitFor();
  assert.match(await invitee.page.textContent("main"), /with the member tier/);
  assert.equal(await invitee.page.getByLabel("Email").inputValue(), email);
  await accessible(invitee.page);
  // A password the rules refuse is said beside its field, in the rule's words; the name kept.
  await invitee.page.getByLabel("Name").fill("Invitee");
  await invitee.page.getByLabel("Password").fill("password");
  await invitee.page.getByRole("button", { name: "Create my account" }).click();
  // The refusal comes back to this browser only, never in the address.
  await invitee.page.locator("#field-password-error").waitFor();
  assert.doesNotMatch(invitee.page.url(), /__err|__path/);
  const password = invitee.page.getByLabel("Password");
  assert.equal(await password.getAttribute("aria-invalid"), "true");
  assert.match(await invitee.page.locator("#field-password-error").textContent(), /one of the most common ones/);
  assert.equal(await invitee.page.getByLabel("Name").inputValue(), "Invitee");
  await password.fill(PASSWORD);
  await invitee.page.getByRole("button", { name: "Create my account" }).click();
  await invitee.page.waitForURL(/\/profile/);
  await invitee.page.getByRole("heading", { name: "Your profile" }).waitFor();
  await invitee.page.goto("/");
  assert.match(await invitee.page.textContent("main"), /Welcome back, Invitee/);

  // The link worked once.
  const again = await context(browser);
  const response = await again.page.goto(link(await mail(email), `${BASE}/invitation?token=`));
  assert.equal(response.status(), 410);
  assert.match(await again.page.textContent("main"), /This invitation has expired or was already used/);

  // No longer pending on the dashboard.
  await admin.page.goto("/admin");
  assert.equal(await admin.page.getByRole("button", { name: `Revoke the invitation to ${email}` }).count(), 0);

  // Many at once, from a file: an answer for each address.
  const other = address("uploaded");
  const many = admin.page.getByRole("form", { name: "Invite many" });
  await many.getByLabel("Or a CSV or text file, one address a line").setInputFiles({
    name: "people.csv",
    mimeType: "text/csv",
    buffer: Buffer.from(`email\n${other}\nnot an address\n${email}\n`),
  });
  await many.getByRole("button", { name: "Invite them all" }).click();
  await admin.page.waitForURL(/invite_result=/);
  await admin.page.getByText("1 of 3 invited:").waitFor();
  const said = await admin.page.textContent("#invitations");
  assert.match(said, new RegExp(`${other.replace(/[.]/g, "\\.")}: invited`));
  assert.match(said, /not an address: not an email address/);
  assert.match(said, /: already has an account/);
  await mail(other);
});
