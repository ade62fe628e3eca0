// Better Auth's own client library (`better-auth/client`, from npm) against Gatehouse's
// /api/auth (BETTER_AUTH_COMPAT=true in run.mjs), as a front end on another origin uses it:
// sign up, confirm through the mailed link on Gatehouse's confirm page as a person does,
// sign in (a wrong password first), getSession, listSessions, updateUser, signOut; and a
// backend checking the session's JWT (the jwt plugin's `token()`) with jose, as the README
// shows it. The same journey runs against Better Auth itself (better-auth-server.mjs, on
// the same PostgreSQL) to show that the two answer alike.
import assert from "node:assert/strict";
import { test } from "node:test";
import { createAuthClient } from "better-auth/client";
import { jwtClient } from "better-auth/client/plugins";
import { createRemoteJWKSet, jwtVerify } from "jose";
import { startBetterAuth } from "../better-auth-server.mjs";
import { BASE, PASSWORD, address, confirm, context, journey, mail } from "./helpers.mjs";

const FRONT_END = "http://app.e2e.test"; // TRUSTED_ORIGINS in run.mjs

/** A client of `base` with a cookie jar, calling from the front end's origin and its own
 * address. */
function client(base) {
  const jar = new Map();
  const from = `10.9.${Math.floor(Math.random() * 256)}.${Math.floor(Math.random() * 256)}`;
  const keepingCookies = async (input, init = {}) => {
    const headers = new Headers(init.headers);
    headers.set("origin", FRONT_END);
    headers.set("x-forwarded-for", from);
    if (jar.size) headers.set("cookie", [...jar].map(([k, v]) => `${k}=${v}`).join("; "));
    const response = await fetch(input, { ...init, headers });
    for (const set of response.headers.getSetCookie()) {
      const [pair, ...attributes] = set.split(";");
      const [name, value] = [pair.slice(0, pair.indexOf("=")), pair.slice(pair.indexOf("=") + 1)];
      const expired = value === "" || attributes.some((a) => a.trim().toLowerCase() === "max-age=0");
      if (expired) jar.delete(name.trim());
      else jar.set(name.trim(), value);
    }
    return response;
  };
  return {
    jar,
    auth: createAuthClient({
      baseURL: base,
      plugins: [jwtClient()],
      fetchOptions: { customFetchImpl: keepingCookies },
    }),
  };
}

/** The front end's journey against `base`. `opensLink(email, n)` opens the n-th link mailed
 * to `email` as a person does; `jwt`: the server has the jwt plugin's calls; `mailed(email, n)`
 * waits for the n-th mail, where mail is sent in the background. */
async function signsUpInAndOut(base, opensLink, { jwt, mailed }) {
  const { auth, jar } = client(base);
  const email = address("ba-client");

  const signedUp = await auth.signUp.email({ name: "Ada Lovelace", email, password: PASSWORD });
  assert.equal(signedUp.error, null, JSON.stringify(signedUp.error));
  assert.equal(signedUp.data.token, null, "no session before the address is confirmed");
  assert.equal(signedUp.data.user.email, email);
  assert.equal(jar.size, 0);
  // The first link is in the inbox before the next is asked for (mail goes out in the
  // background: two sent at once may arrive in either order).
  await mailed?.(email, 1);

  const early = await auth.signIn.email({ email, password: PASSWORD });
  assert.equal(early.error?.status, 403);
  assert.equal(early.error?.code, "EMAIL_NOT_VERIFIED");

  // The refused sign-in mailed a new link (on Gatehouse it replaces the first, as on its
  // pages); the person opens it (Gatehouse's confirm page then asks for the password).
  await opensLink(email, 2);

  const wrong = await auth.signIn.email({ email, password: "not the password at all" });
  assert.equal(wrong.data, null);
  assert.equal(wrong.error?.status, 401);
  assert.equal(wrong.error?.code, "INVALID_EMAIL_OR_PASSWORD");

  const signedIn = await auth.signIn.email({ email, password: PASSWORD });
  assert.equal(signedIn.error, null, JSON.stringify(signedIn.error));
  assert.equal(signedIn.data.user.email, email);
  assert.ok(jar.has("better-auth.session_token"), "Better Auth's cookie is set");

  const session = await auth.getSession();
  assert.equal(session.error, null);
  assert.equal(session.data.user.email, email);
  assert.equal(session.data.user.isWhitelisted, false, "the waiting state is visible");
  assert.ok(session.data.user.createdAt instanceof Date, "dates come back as Dates");
  assert.ok(session.data.session.expiresAt > new Date());

  if (jwt) await checksTheJwt(auth, base, session.data, email);

  const sessions = await auth.listSessions();
  assert.equal(sessions.error, null);
  assert.equal(sessions.data.length, 1);

  const renamed = await auth.updateUser({ name: "Ada King" });
  assert.equal(renamed.error, null, JSON.stringify(renamed.error));
  assert.equal((await auth.getSession()).data.user.name, "Ada King");

  const out = await auth.signOut();
  assert.equal(out.error, null);
  assert.equal(out.data.success, true);
  assert.equal((await auth.getSession()).data, null);
  assert.equal((await auth.listSessions()).error?.status, 401);
}

/** The backend's side (README, "Checking Gatehouse's JWTs in a backend"): the token's
 * signature against the published keys, its issuer and audience (PUBLIC_URL). */
async function checksTheJwt(auth, base, session, email) {
  const { data, error } = await auth.token();
  assert.equal(error, null, JSON.stringify(error));
  const keys = createRemoteJWKSet(new URL(`${base}/api/auth/jwks`));
  const { payload } = await jwtVerify(data.token, keys, { issuer: base, audience: base });
  assert.equal(payload.sub, session.user.id);
  assert.equal(payload.sid, session.session.id);
  assert.equal(payload.email, email);
  assert.equal(payload.whitelisted, false, "the backend sees the waiting state too");
  await assert.rejects(
    jwtVerify(data.token, keys, { issuer: base, audience: "https://someone-else.example" }),
    "a token for another audience is refused",
  );
}

journey("Better Auth's client signs up, in and out against Gatehouse", async (browser) => {
  const { page } = await context(browser);
  await signsUpInAndOut(BASE, (email, n) => confirm(page, email, n), { jwt: true, mailed: mail });
});

test("the same journey against Better Auth itself, on the same PostgreSQL, answers alike", async () => {
  const itself = await startBetterAuth({
    socketDir: process.env.GATEHOUSE_PG_SOCKET,
    trustedOrigins: [FRONT_END],
  });
  try {
    await signsUpInAndOut(itself.base, itself.confirm, { jwt: false });
  } finally {
    await itself.stop();
  }
});

test("Better Auth's client from an untrusted origin is refused", async () => {
  const foreign = createAuthClient({
    baseURL: BASE,
    fetchOptions: {
      customFetchImpl: (input, init = {}) => {
        const headers = new Headers(init.headers);
        headers.set("origin", "http://evil.e2e.test");
        return fetch(input, { ...init, headers });
      },
    },
  });
  const answer = await foreign.signIn.email({ email: address("nobody"), password: PASSWORD });
  assert.equal(answer.error?.status, 403);
  assert.equal(answer.error?.code, "INVALID_ORIGIN");
});
