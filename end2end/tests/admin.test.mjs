// Admins let people in and keep order; artists see only their own artworks.
import assert from "node:assert/strict";
import { before } from "node:test";
import { JAVASCRIPT, accessible, address, adminAccount, asAdmin, context, journey, noticed, letIn, member, twoArtists, withoutReload } from "./helpers.mjs";

before(adminAccount);

journey("a waiting person is let in by an admin and then sees their artworks", async (browser) => {
  const artist = await context(browser);
  const email = address("newcomer");
  await member(artist.page, "Newcomer", email);
  await artist.page.goto("/");
  assert.match(await artist.page.textContent("main"), /Waiting for access/);
  await artist.page.goto("/artworks");
  assert.match(await artist.page.textContent("main"), /waiting for an administrator/);

  const admin = await asAdmin(browser);
  await admin.page.goto("/admin");
  assert.match(await admin.page.textContent("h1"), /waiting/);
  await letIn(admin.page, email);

  await artist.page.goto("/");
  assert.match(await artist.page.textContent("main"), /Welcome back, Newcomer/);
  await artist.page.goto("/artworks");
  assert.match(await artist.page.textContent("main"), /No artworks here yet/);
});

{
  const javaScriptEnabled = JAVASCRIPT;
  journey(`an artwork appears once submitted, and nobody else can open it`, async (browser) => {
    const { ada, bob } = await twoArtists(browser, { javaScriptEnabled });

    await ada.page.goto("/artworks");
    await ada.page.getByLabel("Image address").fill("https://cdn.example.test/sunflowers.png");
    await ada.page.getByRole("button", { name: "Submit" }).click();
    await noticed(ada.page, /notice=submitted/);
    const job = ada.page.locator(".job").first();
    assert.match(await job.textContent(), /queued/);
    await job.getByRole("link", { name: /^Job / }).click();
    await ada.page.waitForURL(/\/artworks\/.+/);
    // With JavaScript the link is a client-side navigation: the job arrives after the URL.
    await ada.page.getByText(/Submitted \(queued\)/).waitFor();
    const url = ada.page.url();

    const response = await bob.page.goto(url);
    assert.equal(response.status(), 404);
    assert.match(await bob.page.textContent("main"), /Page not found/);
    await bob.page.goto("/artworks");
    assert.doesNotMatch(await bob.page.textContent("main"), /sunflowers/);
  });
}

journey("the users list: search as one types, a row's own Let in, filters at once", async (browser) => {
  const admin = await asAdmin(browser);
  const newcomer = await context(browser);
  const email = address("quill");
  await member(newcomer.page, "Quill", email);

  await admin.page.goto("/admin");
  const search = admin.page.getByLabel("Email or name starts with");
  const row = admin.page.locator("tbody tr", { hasText: email });
  await withoutReload(admin.page, async () => {
    if (JAVASCRIPT) {
      // No button pressed: the list follows the box after a pause in typing, and the box
      // keeps the focus and everything typed.
      await search.pressSequentially(email, { delay: 20 });
      await admin.page.waitForURL((url) => url.searchParams.get("q") === email);
      // The list before stays until the new one is here.
      await admin.page.waitForFunction(() => document.querySelectorAll("tbody tr").length === 1);
      assert.equal(await admin.page.evaluate(() => document.activeElement?.id), "q");
      assert.equal(await search.inputValue(), email);
    } else {
      await search.fill(email);
      await admin.page.getByRole("button", { name: "Search" }).click();
      await row.waitFor();
    }
    assert.equal(await admin.page.locator("tbody tr").count(), 1, "only the one searched for");
    assert.match(await row.textContent(), /waiting/);
    await accessible(admin.page);

    await row.getByRole("button", { name: `Let in ${email}` }).click();
    await noticed(admin.page, /notice=let-in-1/);
    assert.equal(new URL(admin.page.url()).searchParams.get("q"), email, "the same list");
    assert.match(await row.locator(".badge").textContent(), /^in$/);
    assert.match(await admin.page.locator("h1 .badge").textContent(), /\d+ waiting/);

    // A choice applies at once with JavaScript, with the button without.
    await admin.page.getByLabel("Show").selectOption("waiting");
    if (!JAVASCRIPT) await admin.page.getByRole("button", { name: "Search" }).click();
    await admin.page.waitForURL(/filter=waiting/);
    await admin.page.getByText("Nobody matches.").waitFor();
  });
  await newcomer.page.goto("/artworks");
  assert.match(await newcomer.page.textContent("main"), /No artworks here yet/);
});

journey("the admin dashboard: search, filter, ban, audit log, all accessible", async (browser) => {
  const admin = await asAdmin(browser);
  const mallory = await context(browser);
  const email = address("mallory");
  await member(mallory.page, "Mallory", email);

  await admin.page.goto("/admin");
  await accessible(admin.page);
  await admin.page.getByLabel("Email or name starts with").fill("mallory");
  await admin.page.getByLabel("Show").selectOption("waiting");
  await admin.page.getByRole("button", { name: "Search" }).click();
  await admin.page.waitForURL(/q=mallory/);
  const row = admin.page.locator("tbody tr", { hasText: email });
  await row.waitFor();
  await row.getByRole("link").click();
  await admin.page.getByLabel("Reason").waitFor();
  await accessible(admin.page);
  await admin.page.getByLabel("Reason").fill("Posting others' artwork");
  await admin.page.getByRole("button", { name: "Ban" }).click();
  await noticed(admin.page, /notice=banned/);

  await mallory.page.goto("/profile");
  await mallory.page.waitForURL(/\/login/);
  await mallory.page.getByLabel("Email").fill(email);
  await mallory.page.getByLabel("Password").fill("correct horse battery staple");
  await mallory.page.getByRole("button", { name: "Sign in", exact: true }).click();
  await mallory.page.getByRole("alert").waitFor();
  assert.match(await mallory.page.getByRole("alert").textContent(), /suspended: Posting others' artwork/);

  await admin.page.goto(`/admin/audit?target=${encodeURIComponent(email)}`);
  await accessible(admin.page);
  const log = await admin.page.textContent("tbody");
  assert.match(log, /banned/);
  assert.match(log, /sign_up/);
  await admin.page.goto("/admin/jobs");
  await accessible(admin.page);
  await admin.page.goto("/artworks");
  await accessible(admin.page);
});
