// An artist watches their artwork being processed: the backend moves the job, and their open
// pages (the list and the job's own page, in two tabs) show it without a reload. Nobody
// else's page does. Without JavaScript the page shows the change when it is loaded again.
import assert from "node:assert/strict";
import { before } from "node:test";
import { JAVASCRIPT, adminAccount, backend, journey, noticed, twoArtists, withoutReload } from "./helpers.mjs";

before(adminAccount);

/** Waits (up to 5 s) until `page` shows `what`; returns how long that took after `since`. */
async function shows(locator, since) {
  await locator.waitFor({ timeout: 5_000 });
  return Date.now() - since;
}

journey("the backend moves an artwork along and the artist's open pages follow", async (browser) => {
  const { ada, bob } = await twoArtists(browser);

  await ada.page.goto("/artworks");
  await ada.page.getByLabel("Image address").fill("https://cdn.example.test/irises.png");
  await ada.page.getByRole("button", { name: "Submit" }).click();
  await noticed(ada.page, /notice=submitted/);
  const link = ada.page.getByRole("link", { name: /^Job / }).first();
  const jobId = (await link.getAttribute("href")).split("/").pop();
  const row = ada.page.locator(".job", { hasText: jobId });
  const jobPage = await ada.ctx.newPage();
  await jobPage.goto(`/artworks/${jobId}`);
  await bob.page.goto("/artworks");

  await withoutReload(ada.page, async () => {
    let since = Date.now();
    await backend("PATCH", `/api/internal/jobs/${jobId}`, { status: "processing" });
    if (JAVASCRIPT) {
      const took = await shows(row.locator(".badge", { hasText: "processing" }), since);
      console.log(`live status: the list showed "processing" ${took} ms after the backend's call`);
    }
    since = Date.now();
    await backend("PATCH", `/api/internal/jobs/${jobId}`, { status: "done", protected_url: "https://cdn.example.test/irises-protected.png" });
    if (JAVASCRIPT) {
      const took = await shows(row.getByRole("img", { name: "Protected" }), since);
      console.log(`live status: the list showed the protected image ${took} ms after the backend's call`);
      await shows(jobPage.locator("h1 .badge", { hasText: "done" }), since);
      await shows(jobPage.getByRole("img", { name: "Protected" }), since);
      assert.match(await jobPage.textContent("main"), /processing → done/);
    }
  });
  if (!JAVASCRIPT) {
    assert.match(await row.textContent(), /queued/, "without JavaScript the page is as it was served");
    await ada.page.reload();
    assert.match(await row.textContent(), /done/);
  }
  assert.doesNotMatch(await bob.page.textContent("main"), new RegExp(jobId), "Bob's open page never sees Ada's job");
  await bob.page.reload();
  assert.doesNotMatch(await bob.page.textContent("main"), new RegExp(jobId));
});
