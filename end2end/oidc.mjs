// A stand-in OpenID Connect issuer, "Acme ID", for the browser tests, next to the stand-in
// GitHub (provider.mjs). It speaks the real protocol (OpenID Connect Core 1.0, the
// authorization code flow with PKCE): discovery at <issuer>/.well-known/openid-configuration,
// a JWKS with one RSA key, an authorization page where the person types who they are at Acme
// and presses Authorize or Deny, a token endpoint that trades a single-use code bound to the
// client, the registered redirect URI, the PKCE challenge and the nonce for an access token
// and an RS256-signed ID token (with at_hash), and a userinfo endpoint.
//
// Users are made on the fly from the email typed: a stable subject from the address (see
// acmeSubject), the name "<local part> (Acme)", and the address, verified.
//
// It listens on 127.0.0.1 and its issuer is http://127.0.0.1:PORT/oidc, for the browser and
// for Gatehouse alike: an ID token's `iss` must be the configured issuer exactly, so there is
// one name for both channels.
// The browser still meets another site than Gatehouse's http://localhost:PORT, so the
// redirect back is cross-site as at a real issuer, and the authorization page is on the
// issuer's origin, which Gatehouse's Content-Security-Policy form-action allows.
import crypto from "node:crypto";
import http from "node:http";
import { authorization, escape, read, redeem, send } from "./provider.mjs";

const CODE_SECONDS = 600;
const TOKEN_SECONDS = 3600;
const ID_TOKEN_SECONDS = 300;
const EMAIL = /^[^\s@<>"]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$/;

/** The subject Acme gives `email`: the same every time, different for different addresses. */
export function acmeSubject(email) {
  return `acme-${crypto.createHash("sha256").update(email.trim().toLowerCase()).digest("hex").slice(0, 24)}`;
}

/** The user behind `email`, as Acme's ID tokens and userinfo describe them. */
function user(email) {
  const address = email.trim().toLowerCase();
  return { sub: acmeSubject(address), email: address, email_verified: true, name: `${address.split("@")[0]} (Acme)` };
}

const base64url = (value) => Buffer.from(typeof value === "string" ? value : JSON.stringify(value)).toString("base64url");

/**
 * Starts the issuer. `redirectUris` are the client's registered redirect URIs (matched
 * exactly, as OpenID Connect requires); `log(line)` is told about every request and refusal.
 * Gives the issuer URL, the client id and secret Gatehouse must use, and close().
 */
export async function startOidc({ clientId = "gatehouse-e2e-oidc", clientSecret = "e2e-oidc-secret-0123456789", redirectUris = [], log = () => {} } = {}) {
  const codes = new Map(); // code → { email, clientId, redirectUri, challenge, nonce, scope, authTime, expires }
  const tokens = new Map(); // access token → { email, expires }
  const { privateKey, publicKey } = crypto.generateKeyPairSync("rsa", { modulusLength: 2048 });
  const kid = `acme-${crypto.randomBytes(6).toString("hex")}`;
  const jwks = { keys: [{ ...publicKey.export({ format: "jwk" }), kid, alg: "RS256", use: "sig" }] };
  let issuer; // known once listening

  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url, "http://stand-in");
    log(`${req.method} ${url.pathname}`);
    try {
      const body = req.method === "POST" ? await read(req) : "";
      const route = `${req.method} ${url.pathname}`;
      if (route === "GET /oidc/.well-known/openid-configuration") return json(res, 200, discovery());
      if (route === "GET /oidc/jwks") return json(res, 200, jwks);
      if (route === "GET /oidc/authorize") return authorize.show(res, url.searchParams);
      if (route === "POST /oidc/authorize") return authorize.decide(res, new URLSearchParams(body));
      if (route === "POST /oidc/token") return token(req, res, new URLSearchParams(body));
      if (route === "GET /oidc/userinfo" || route === "POST /oidc/userinfo") return userinfo(req, res);
      json(res, 404, { error: "not_found" });
    } catch (error) {
      log(`error: ${error.stack}`);
      send(res, 500, "text/plain", "the stand-in failed; see oidc.log");
    }
  });

  function discovery() {
    return {
      issuer,
      authorization_endpoint: `${issuer}/authorize`,
      token_endpoint: `${issuer}/token`,
      userinfo_endpoint: `${issuer}/userinfo`,
      jwks_uri: `${issuer}/jwks`,
      scopes_supported: ["openid", "email", "profile"],
      response_types_supported: ["code"],
      response_modes_supported: ["query"],
      grant_types_supported: ["authorization_code"],
      subject_types_supported: ["public"],
      id_token_signing_alg_values_supported: ["RS256"],
      token_endpoint_auth_methods_supported: ["client_secret_basic", "client_secret_post"],
      code_challenge_methods_supported: ["S256"],
      claims_supported: ["iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "at_hash", "email", "email_verified", "name"],
    };
  }

  /** What is wrong with an authorization request, or null. Nothing goes back to a
   * redirect_uri that is not registered: the page says what is wrong instead. */
  function invalid(params) {
    if (params.get("client_id") !== clientId) return `unknown client_id ${JSON.stringify(params.get("client_id"))}`;
    if (!redirectUris.includes(params.get("redirect_uri"))) return `redirect_uri ${JSON.stringify(params.get("redirect_uri"))} is not registered for this client`;
    if (params.get("response_type") !== "code") return "response_type must be code";
    if (!(params.get("scope") || "").split(" ").includes("openid")) return "scope must include openid";
    if (!params.get("state")) return "state is required";
    if (!params.get("nonce")) return "nonce is required";
    if (params.get("code_challenge_method") !== "S256") return "code_challenge_method must be S256";
    if (!/^[A-Za-z0-9_-]{43}$/.test(params.get("code_challenge") || "")) return "code_challenge must be a base64url SHA-256 digest";
    return null;
  }

  const authorize = authorization({
    title: "Sign in to Acme ID (stand-in)",
    action: "/oidc/authorize",
    clientId,
    invalid,
    carried: ["client_id", "response_type", "redirect_uri", "scope", "state", "nonce", "code_challenge", "code_challenge_method"],
    asks: (params) => `to know who you are at Acme:
      your email address and name (scope <code>${escape(params.get("scope"))}</code>)`,
    field: {
      name: "email",
      label: "Email at Acme",
      attributes: 'inputmode="email" autocomplete="email"',
      maxlength: 254,
      valid: (email) => email.length <= 254 && EMAIL.test(email),
      problem: "Type your email address at Acme, like ada@acme.example.",
    },
    denied: "The person did not allow the application to know who they are.",
    issue(email, params) {
      const code = crypto.randomBytes(16).toString("base64url");
      codes.set(code, {
        email,
        clientId,
        redirectUri: params.get("redirect_uri"),
        challenge: params.get("code_challenge"),
        nonce: params.get("nonce"),
        scope: params.get("scope"),
        authTime: Math.floor(Date.now() / 1000),
        expires: Date.now() + CODE_SECONDS * 1000,
      });
      return { code, who: `${user(email).email} (sub ${acmeSubject(email)})` };
    },
    log,
  });

  function token(req, res, form) {
    const { grant, status, error, why } = redeem(codes, req, form, { clientId, clientSecret });
    if (!grant) return tokenError(res, status, error, why);

    const access = `acme_${crypto.randomBytes(24).toString("base64url")}`;
    tokens.set(access, { email: grant.email, expires: Date.now() + TOKEN_SECONDS * 1000 });
    const now = Math.floor(Date.now() / 1000);
    const who = user(grant.email);
    const claims = {
      iss: issuer,
      sub: who.sub,
      aud: clientId,
      exp: now + ID_TOKEN_SECONDS,
      iat: now,
      auth_time: grant.authTime,
      nonce: grant.nonce,
      // The left half of the access token's SHA-256, as RS256 asks (OpenID Connect Core 3.1.3.6).
      at_hash: crypto.createHash("sha256").update(access, "ascii").digest().subarray(0, 16).toString("base64url"),
      email: who.email,
      email_verified: who.email_verified,
      name: who.name,
    };
    const signed = `${base64url({ alg: "RS256", typ: "JWT", kid })}.${base64url(claims)}`;
    const idToken = `${signed}.${crypto.sign("sha256", Buffer.from(signed), privateKey).toString("base64url")}`;
    const method = /^Basic /i.test(req.headers.authorization || "") ? "client_secret_basic" : "client_secret_post";
    log(`tokens for ${who.email} (sub ${who.sub}); the client authenticated with ${method}`);
    json(res, 200, { access_token: access, token_type: "Bearer", expires_in: TOKEN_SECONDS, scope: grant.scope, id_token: idToken });
  }

  function userinfo(req, res) {
    const match = /^Bearer (\S+)$/i.exec(req.headers.authorization || "");
    const grant = match && tokens.get(match[1]);
    if (!grant || grant.expires < Date.now()) {
      log(`401 on ${req.url}`);
      res.writeHead(401, { "www-authenticate": 'Bearer error="invalid_token"', "cache-control": "no-store" });
      return res.end();
    }
    json(res, 200, user(grant.email));
  }

  function tokenError(res, status, error, why) {
    log(`token refused: ${error} (${why})`);
    const headers = { "content-type": "application/json", "cache-control": "no-store" };
    if (status === 401) headers["www-authenticate"] = 'Basic realm="acme"';
    res.writeHead(status, headers);
    res.end(JSON.stringify({ error, error_description: why }));
  }

  await new Promise((ok) => server.listen(0, "127.0.0.1", ok));
  issuer = `http://127.0.0.1:${server.address().port}/oidc`;
  return {
    issuer,
    clientId,
    clientSecret,
    close: () => new Promise((ok) => { server.close(ok); server.closeAllConnections(); }),
  };
}

function json(res, status, value) {
  send(res, status, "application/json", JSON.stringify(value));
}
