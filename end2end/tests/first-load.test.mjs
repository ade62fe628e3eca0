// The first load's figures: how soon a first visit is ready (hydrated), and what the wasm
// module weighs on the wire. run.mjs runs this file alone, before the other journeys, so the
// figures are the page's own, not those of a machine busy with other browsers.
import assert from "node:assert/strict";
import { JAVASCRIPT, context, journey } from "./helpers.mjs";

if (JAVASCRIPT) {
  journey("a first visit is ready to use soon: the figures of a first load", async (browser) => {
    const times = [];
    let wasm;
    for (let n = 0; n < 3; n++) {
      const { ctx, page } = await context(browser); // a cold cache each time
      const answer = page.waitForResponse((response) => response.url().endsWith(".wasm"));
      const started = Date.now();
      await page.goto("/login"); // returns once the client has hydrated the page
      times.push(Date.now() - started);
      const encoding = (await answer).headers()["content-encoding"] ?? "none";
      const [entry] = await page.evaluate(() =>
        performance.getEntriesByType("resource").filter((e) => e.name.endsWith(".wasm")).map((e) => ({ wire: e.encodedBodySize, size: e.decodedBodySize })),
      );
      wasm = { ...entry, encoding };
      await ctx.close();
    }
    const median = [...times].sort((a, b) => a - b)[1];
    console.log(
      `first load: /login hydrated ${median} ms after the request (median of ${times.join(", ")} ms, each on a cold cache); the wasm module ${Math.round(wasm.wire / 1024)} KB on the wire (${wasm.encoding}), ${Math.round(wasm.size / 1024)} KB unpacked`,
    );
    assert.ok(wasm.wire > 0 && wasm.wire < wasm.size, "the module travels compressed");
  });
}
