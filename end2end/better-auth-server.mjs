// Better Auth itself (npm `better-auth`, the version Gatehouse's API follows) on the same
// PostgreSQL as Gatehouse, in a database of its own (`better_auth`, made by Better Auth's
// own migrations) so that its users do not show up in Gatehouse's journeys. Configured as
// the Artorizer ran it: email and password, confirmed addresses, Gatehouse's columns as
// additional fields. The client journey runs against it and against Gatehouse alike.
import http from "node:http";
import pg from "pg";
import { betterAuth } from "better-auth";
import { getMigrations } from "better-auth/db";
import { toNodeHandler } from "better-auth/node";

/** Starts Better Auth on a free port; `socketDir` is Gatehouse's PostgreSQL's socket. */
export async function startBetterAuth({ socketDir, trustedOrigins }) {
  const admin = new pg.Client({ host: socketDir, user: "gatehouse", database: "gatehouse" });
  await admin.connect();
  await admin.query("DROP DATABASE IF EXISTS better_auth");
  await admin.query("CREATE DATABASE better_auth");
  await admin.end();

  const server = http.createServer();
  await new Promise((ok) => server.listen(0, "127.0.0.1", ok));
  const base = `http://127.0.0.1:${server.address().port}`;
  const links = new Map(); // email → every confirmation link mailed, oldest first
  const pool = new pg.Pool({ host: socketDir, user: "gatehouse", database: "better_auth" });
  const options = {
    baseURL: base,
    secret: "e2e-better-auth-itself-0123456789abcdef",
    database: pool,
    trustedOrigins,
    // Its log would print the journey's wrong password as an ERROR line in the test output.
    logger: { disabled: true },
    emailAndPassword: { enabled: true, requireEmailVerification: true },
    emailVerification: {
      sendOnSignUp: true,
      sendOnSignIn: true,
      sendVerificationEmail: async ({ user, url }) => {
        links.set(user.email, [...(links.get(user.email) ?? []), url]);
      },
    },
    user: {
      additionalFields: {
        role: { type: "string", defaultValue: "user", input: false },
        tier: { type: "string", defaultValue: "free", input: false },
        isWhitelisted: { type: "boolean", defaultValue: false, input: false },
      },
    },
  };
  const { runMigrations } = await getMigrations(options);
  await runMigrations();
  server.on("request", toNodeHandler(betterAuth(options)));
  return {
    base,
    /** Opens the n-th link mailed to `email`, as a person clicks it. */
    async confirm(email, n) {
      const url = links.get(email)?.[n - 1];
      if (!url) throw new Error(`Better Auth mailed ${email} fewer than ${n} links`);
      const answer = await fetch(url, { redirect: "manual" });
      if (answer.status >= 400) throw new Error(`confirming failed: ${answer.status}`);
    },
    async stop() {
      await new Promise((ok) => server.close(ok));
      await pool.end();
    },
  };
}
