// A stand-in for GitHub's OAuth app endpoints and REST API, for the browser tests. It speaks
// the real protocol: an authorization page where the person types who they are at "GitHub"
// and presses Authorize or Deny, single-use codes bound to the client, the redirect URI and
// the PKCE challenge, and bearer tokens for /api/user and /api/user/emails.
//
// Users are made on the fly from the login typed: a stable numeric id from the login (see
// githubId), the name "<login> (GitHub)" and one primary, verified address
// "<login>@github.example".
//
// It listens on 127.0.0.1, where the browser is sent too: another site than Gatehouse's
// http://localhost:PORT, so the redirect back to Gatehouse is cross-site as it is from
// github.com (Gatehouse's cookies must survive that). Gatehouse itself calls the token
// endpoint and the API there as well.
import crypto from "node:crypto";
import http from "node:http";

const LOGIN = /^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$/; // GitHub's rule
const CODE_SECONDS = 600; // GitHub's codes expire after ten minutes too

/** The GitHub id of `login`: the same number every time, different for different logins. */
export function githubId(login) {
  const digest = crypto.createHash("sha256").update(login.toLowerCase()).digest();
  return 1_000_000 + (digest.readUInt32BE(0) % 900_000_000);
}

/** The user behind `login`, as GitHub's API describes them. */
function user(login) {
  return { login, id: githubId(login), name: `${login} (GitHub)`, email: `${login}@github.example` };
}

/**
 * Starts the stand-in. `log(line)` is told about every request and refusal.
 * Gives the client id and secret Gatehouse must use, the three URLs Gatehouse is configured
 * with (authorizeUrl, tokenUrl, apiUrl), and close().
 */
export async function startGitHub({ clientId = "gatehouse-e2e", clientSecret = "e2e-github-secret-0123456789", log = () => {} } = {}) {
  const codes = new Map(); // code → { login, clientId, redirectUri, challenge, scope, expires }
  const tokens = new Map(); // access token → login

  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url, "http://stand-in");
    log(`${req.method} ${url.pathname}`);
    try {
      const body = req.method === "POST" ? await read(req) : "";
      if (url.pathname === "/login/oauth/authorize" && req.method === "GET") return authorize.show(res, url.searchParams);
      if (url.pathname === "/login/oauth/authorize" && req.method === "POST") return authorize.decide(res, new URLSearchParams(body));
      if (url.pathname === "/login/oauth/access_token" && req.method === "POST") return token(req, res, new URLSearchParams(body));
      if (url.pathname === "/api/user" && req.method === "GET") return api(req, res, (u) => ({ login: u.login, id: u.id, name: u.name, email: null, type: "User" }));
      if (url.pathname === "/api/user/emails" && req.method === "GET") return api(req, res, (u) => [{ email: u.email, primary: true, verified: true, visibility: "public" }]);
      send(res, 404, "application/json", JSON.stringify({ message: "Not Found" }));
    } catch (error) {
      log(`error: ${error.stack}`);
      send(res, 500, "text/plain", "the stand-in failed; see provider.log");
    }
  });

  /** What is wrong with an authorization request, or null. Nothing goes back to a
   * redirect_uri that could not be checked: the page says what is wrong instead. */
  function invalid(params) {
    if (params.get("client_id") !== clientId) return `unknown client_id ${JSON.stringify(params.get("client_id"))}`;
    if (params.get("response_type") !== "code") return "response_type must be code";
    const redirect = params.get("redirect_uri");
    if (!redirect || !/^https?:\/\/[^/]+\/\S*$/.test(redirect)) return "redirect_uri must be an absolute http(s) URL";
    if (!params.get("state")) return "state is required";
    if (params.get("code_challenge_method") !== "S256") return "code_challenge_method must be S256";
    if (!/^[A-Za-z0-9_-]{43}$/.test(params.get("code_challenge") || "")) return "code_challenge must be a base64url SHA-256 digest";
    return null;
  }

  const authorize = authorization({
    title: "Sign in to GitHub (stand-in)",
    action: "/login/oauth/authorize",
    clientId,
    invalid,
    carried: ["client_id", "response_type", "redirect_uri", "state", "code_challenge", "code_challenge_method", "scope"],
    asks: (params) => `to know who you are on GitHub
      and to read your email addresses (scope <code>${escape(params.get("scope") || "")}</code>)`,
    field: {
      name: "login",
      label: "GitHub login",
      attributes: 'autocomplete="username"',
      maxlength: 39,
      valid: (login) => LOGIN.test(login),
      problem: "Type a GitHub login: letters, digits and single hyphens, at most 39 characters.",
    },
    denied: "The user has denied your application access.",
    issue(login, params) {
      const code = crypto.randomBytes(10).toString("hex");
      codes.set(code, {
        login,
        clientId,
        redirectUri: params.get("redirect_uri"),
        challenge: params.get("code_challenge"),
        scope: params.get("scope") || "",
        expires: Date.now() + CODE_SECONDS * 1000,
      });
      return { code, who: `${login} (id ${githubId(login)})` };
    },
    log,
  });

  function token(req, res, form) {
    const { grant, status, error, why } = redeem(codes, req, form, { clientId, clientSecret });
    if (!grant) return oauthError(res, status, error, why);
    const access = `gho_${crypto.randomBytes(18).toString("base64url")}`;
    tokens.set(access, grant.login);
    log(`token for ${grant.login}`);
    send(res, 200, "application/json", JSON.stringify({ access_token: access, token_type: "bearer", scope: grant.scope.split(" ").filter(Boolean).join(",") }));
  }

  function api(req, res, describe) {
    const match = /^(?:Bearer|token) (\S+)$/i.exec(req.headers.authorization || "");
    const login = match && tokens.get(match[1]);
    if (!login) {
      log(`401 on ${req.url}`);
      return send(res, 401, "application/json", JSON.stringify({ message: "Bad credentials", status: "401" }));
    }
    send(res, 200, "application/json", JSON.stringify(describe(user(login))));
  }

  function oauthError(res, status, error, why) {
    log(`token refused: ${error} (${why})`);
    send(res, status, "application/json", JSON.stringify({ error }));
  }

  await new Promise((ok) => server.listen(0, "127.0.0.1", ok));
  const port = server.address().port;
  return {
    clientId,
    clientSecret,
    authorizeUrl: `http://127.0.0.1:${port}/login/oauth/authorize`,
    tokenUrl: `http://127.0.0.1:${port}/login/oauth/access_token`,
    apiUrl: `http://127.0.0.1:${port}/api`,
    close: () => new Promise((ok) => { server.close(ok); server.closeAllConnections(); }),
  };
}

// What the stand-in OpenID Connect issuer (oidc.mjs) shares with this one.

/** The client's id and secret: HTTP Basic (each part form-URL-encoded, RFC 6749 2.3.1, as the
 * oauth2 crate sends them), or else client_id and client_secret in the form. */
function credentials(authorization, form) {
  const basic = /^Basic (\S+)$/i.exec(authorization || "");
  if (basic) {
    const decoded = Buffer.from(basic[1], "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    if (colon < 0) return [null, null];
    const unescape = (v) => {
      try {
        return decodeURIComponent(v.replace(/\+/g, " "));
      } catch {
        return null;
      }
    };
    return [unescape(decoded.slice(0, colon)), unescape(decoded.slice(colon + 1))];
  }
  return [form.get("client_id"), form.get("client_secret")];
}

/**
 * The grant a token request redeems, or why it may not ({ status, error, why }): the client's
 * own credentials, the authorization_code grant, a known code (spent by this attempt, whatever
 * happens next) that has not expired, issued to this client for this redirect_uri, and the
 * verifier of its PKCE challenge. `codes` maps each code to its grant.
 */
export function redeem(codes, req, form, { clientId, clientSecret }) {
  const refuse = (status, error, why) => ({ status, error, why });
  const [id, secret] = credentials(req.headers.authorization, form);
  if (id !== clientId || secret !== clientSecret) return refuse(401, "invalid_client", "client credentials do not match");
  if (form.get("grant_type") !== "authorization_code") return refuse(400, "unsupported_grant_type", form.get("grant_type"));
  const code = form.get("code") || "";
  const grant = codes.get(code);
  codes.delete(code);
  if (!grant) return refuse(400, "invalid_grant", "unknown or already used code");
  if (grant.expires < Date.now()) return refuse(400, "invalid_grant", "the code expired");
  if (grant.clientId !== id) return refuse(400, "invalid_grant", "the code is another client's");
  if (form.get("redirect_uri") !== grant.redirectUri) return refuse(400, "invalid_grant", `redirect_uri ${form.get("redirect_uri")} is not ${grant.redirectUri}`);
  const verifier = form.get("code_verifier") || "";
  const challenge = crypto.createHash("sha256").update(verifier).digest("base64url");
  if (!/^[A-Za-z0-9._~-]{43,128}$/.test(verifier) || challenge !== grant.challenge) return refuse(400, "invalid_grant", "the PKCE code_verifier does not match the challenge");
  return { grant };
}

/**
 * The authorization page and its answer, the same at both stand-ins: one field for who the
 * person is, then Authorize or Deny. Each stand-in brings its own rules: invalid(params) (what
 * is wrong with the request, or null), the parameters the form carries, what the application
 * asks for, the field (valid(value) for the trimmed value, the problem shown when it is not),
 * the error_description on Deny, and issue(value, params), which stores the grant and gives
 * { code, who } (who for the log). Gives show (the GET) and decide (the POST).
 */
export function authorization({ title, action, clientId, invalid, carried, asks, field, denied, issue, log }) {
  const { name } = field;

  function show(res, params, problem = null) {
    const wrong = invalid(params);
    if (wrong) {
      log(`refused authorization request: ${wrong}`);
      return send(res, 400, "text/html; charset=utf-8", page(title, `<p role="alert">This authorization request is not valid: ${escape(wrong)}.</p>`));
    }
    const hidden = carried
      .map((param) => `<input type="hidden" name="${param}" value="${escape(params.get(param) || "")}">`)
      .join("\n      ");
    const error = problem ? `<p id="${name}-error" class="error" role="alert">${escape(problem)}</p>` : "";
    const described = problem ? ` aria-invalid="true" aria-describedby="${name}-error"` : "";
    send(
      res,
      problem ? 400 : 200,
      "text/html; charset=utf-8",
      page(
        title,
        `<p>An application (client id <code>${escape(clientId)}</code>) asks ${asks(params)}.
      It will send you back to <code>${escape(params.get("redirect_uri"))}</code>.</p>
    <form method="post" action="${action}">
      ${hidden}
      <label for="${name}">${escape(field.label)}</label>
      <input id="${name}" name="${name}" type="text" ${field.attributes} autocapitalize="none" spellcheck="false" maxlength="${field.maxlength}" value="${escape(params.get(name) || "")}"${described}>
      ${error}
      <p><button type="submit" name="decision" value="authorize">Authorize</button>
      <button type="submit" name="decision" value="deny">Deny</button></p>
    </form>`,
      ),
    );
  }

  function decide(res, params) {
    // An invalid request gets the page that says so, never a redirect to an unchecked URI.
    if (invalid(params)) return show(res, params);
    const back = new URL(params.get("redirect_uri"));
    if (params.get("decision") === "deny") {
      back.searchParams.set("error", "access_denied");
      back.searchParams.set("error_description", denied);
      back.searchParams.set("state", params.get("state"));
      log(`denied; back to ${back}`);
      return redirect(res, back);
    }
    const value = (params.get(name) || "").trim();
    if (!field.valid(value)) return show(res, params, field.problem);
    const { code, who } = issue(value, params);
    back.searchParams.set("code", code);
    back.searchParams.set("state", params.get("state"));
    log(`authorized ${who}; back to ${back.origin}${back.pathname}`);
    redirect(res, back);
  }

  return { show, decide };
}

export function read(req) {
  return new Promise((ok, fail) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (chunk) => {
      body += chunk;
      if (body.length > 16_384) req.destroy(new Error("body too large"));
    });
    req.on("end", () => ok(body));
    req.on("error", fail);
  });
}

export function send(res, status, type, body) {
  res.writeHead(status, { "content-type": type, "cache-control": "no-store" });
  res.end(body);
}

export function redirect(res, to) {
  res.writeHead(302, { location: to.toString(), "cache-control": "no-store" });
  res.end();
}

export function escape(text) {
  return String(text).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}

export function page(title, content) {
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>${escape(title)}</title>
  <style>
    body { font: 16px/1.5 system-ui, sans-serif; margin: 0; background: #f6f8fa; color: #1f2328; }
    main { max-width: 28rem; margin: 3rem auto; padding: 1.5rem; background: #fff; border: 1px solid #d0d7de; border-radius: 6px; }
    label { display: block; font-weight: 600; margin-top: 1rem; }
    input[type=text] { width: 100%; box-sizing: border-box; padding: .4rem; font: inherit; }
    button { font: inherit; padding: .4rem 1rem; margin-right: .5rem; }
    .error { color: #b3261e; }
  </style>
</head>
<body>
  <main>
    <h1>${escape(title)}</h1>
    ${content}
  </main>
</body>
</html>`;
}
