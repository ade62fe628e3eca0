// Screenshots of each page at desktop and phone width, into docs/screenshots (run with
// `npm run screenshots` from end2end/, or `bash .ci/screenshots`).
import path from "node:path";
import { fileURLToPath } from "node:url";
import { address, context, journey, member, signIn, signUp, confirm } from "./helpers.mjs";

const out = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "docs", "screenshots");
const ADMIN = "admin@example.test";
const sizes = { desktop: { width: 1280, height: 800 }, phone: { width: 390, height: 844 } };

journey("screenshots", async (browser) => {
  const admin = await context(browser);
  await signUp(admin.page, "Admin", ADMIN);
  await confirm(admin.page, ADMIN);
  await signIn(admin.page, ADMIN);
  const artist = await context(browser);
  await member(artist.page, "Ada Lovelace", address("ada"));

  const pages = [
    ["home", artist, "/"],
    ["profile", artist, "/profile"],
    ["artworks", admin, "/artworks"],
    ["admin-users", admin, "/admin"],
    ["admin-audit", admin, "/admin/audit"],
  ];
  const anonymous = await context(browser);
  for (const p of ["/login", "/signup", "/forgot-password"]) pages.push([p.slice(1), anonymous, p]);
  pages.push(["sign-in-failed", anonymous, "/sign-in-failed?reason=denied&provider=github"]);
  for (const [name, who, url] of pages) {
    for (const [size, viewport] of Object.entries(sizes)) {
      await who.page.setViewportSize(viewport);
      await who.page.goto(url);
      await who.page.screenshot({ path: path.join(out, `${name}-${size}.png`), fullPage: true });
    }
  }
});
