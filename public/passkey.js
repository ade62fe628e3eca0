// Passkeys in the browser: the forms marked `data-passkey` (add on the profile, sign in on
// /login, the second step on /two-factor) run a WebAuthn ceremony with Gatehouse's
// `/api/passkey` server function. Pages render their passkey buttons disabled, with a note
// that passkeys need JavaScript; this module turns them on where the browser has WebAuthn.
// A plain module from Gatehouse's own origin, so the Content-Security-Policy lets it run.

const API = "/api/passkey";

// Turns on each passkey form's button (pages render them disabled: without JavaScript they
// cannot work), including forms that appear later as pages change in the browser.
function enable() {
  const supported = "PublicKeyCredential" in window && navigator.credentials;
  for (const form of document.querySelectorAll("form[data-passkey]")) {
    const note = form.querySelector("[data-passkey-note]");
    const button = form.querySelector("button[type=submit]");
    if (!supported) {
      if (note) note.textContent = "This browser cannot use passkeys.";
      continue;
    }
    if (note && !note.hidden) note.hidden = true;
    if (button && button.disabled && !form.dataset.busy) button.disabled = false;
  }
}

new MutationObserver(enable).observe(document.documentElement, {
  childList: true,
  subtree: true,
});
enable();

document.addEventListener("submit", (event) => {
  const form = event.target.closest && event.target.closest("form[data-passkey]");
  if (!form) return;
  event.preventDefault();
  run(form);
});

// Asks Gatehouse for one step: the answer's text, or an Error with its message.
async function call(fields) {
  const response = await fetch(API, {
    method: "POST",
    headers: {
      "Content-Type": "application/x-www-form-urlencoded",
      Accept: "application/json",
    },
    body: new URLSearchParams(fields),
    credentials: "same-origin",
  });
  const text = await response.text();
  let answer;
  try {
    answer = JSON.parse(text);
  } catch {
    answer = text;
  }
  if (!response.ok) {
    const first = answer && answer.fields && answer.fields[0];
    const message = (first && first.message) || (answer && answer.message) || text;
    throw new Error(message || `Gatehouse answered ${response.status}.`);
  }
  return answer;
}

async function run(form) {
  const kind = form.dataset.passkey; // add, sign-in or second-step
  const error = form.querySelector("[data-passkey-error]");
  const button = form.querySelector("button[type=submit]");
  const data = new FormData(form);
  const next = data.get("next") || "";
  const name = data.get("name") || "";
  error.hidden = true;
  error.textContent = "";
  form.dataset.busy = "yes";
  button.disabled = true;
  try {
    const options = JSON.parse(await call({ step: `${kind}-options`, next }));
    const credential =
      kind === "add"
        ? await navigator.credentials.create({ publicKey: creationOptions(options) })
        : await navigator.credentials.get({ publicKey: requestOptions(options) });
    const answer = JSON.stringify(credentialJson(credential));
    const then = await call({ step: kind, credential: answer, name, next });
    window.location.assign(then);
  } catch (e) {
    error.textContent = describe(e);
    error.hidden = false;
    button.disabled = false;
  } finally {
    delete form.dataset.busy;
  }
}

function describe(e) {
  if (e && e.name === "NotAllowedError") {
    return "The passkey request was cancelled or timed out. Try again, or use another way.";
  }
  if (e && e.name === "InvalidStateError") {
    return "This device already holds a passkey for your account.";
  }
  return (e && e.message) || "Something went wrong with the passkey. Try again.";
}

// WebAuthn takes bytes where JSON has base64url text.
function bytes(text) {
  const base64 = text.replace(/-/g, "+").replace(/_/g, "/");
  const padded = base64 + "===".slice((base64.length + 3) % 4);
  return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
}

function text(buffer) {
  let binary = "";
  for (const byte of new Uint8Array(buffer)) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function creationOptions(options) {
  if (PublicKeyCredential.parseCreationOptionsFromJSON) {
    return PublicKeyCredential.parseCreationOptionsFromJSON(options);
  }
  return {
    ...options,
    challenge: bytes(options.challenge),
    user: { ...options.user, id: bytes(options.user.id) },
    excludeCredentials: (options.excludeCredentials || []).map((c) => ({ ...c, id: bytes(c.id) })),
  };
}

function requestOptions(options) {
  if (PublicKeyCredential.parseRequestOptionsFromJSON) {
    return PublicKeyCredential.parseRequestOptionsFromJSON(options);
  }
  return {
    ...options,
    challenge: bytes(options.challenge),
    allowCredentials: (options.allowCredentials || []).map((c) => ({ ...c, id: bytes(c.id) })),
  };
}

function credentialJson(credential) {
  if (credential.toJSON) return credential.toJSON();
  const response = credential.response;
  const json = {
    id: credential.id,
    rawId: text(credential.rawId),
    type: credential.type,
    clientExtensionResults: credential.getClientExtensionResults(),
    response: { clientDataJSON: text(response.clientDataJSON) },
  };
  if (response.attestationObject) {
    json.response.attestationObject = text(response.attestationObject);
    json.response.transports = response.getTransports ? response.getTransports() : [];
  } else {
    json.response.authenticatorData = text(response.authenticatorData);
    json.response.signature = text(response.signature);
    if (response.userHandle) json.response.userHandle = text(response.userHandle);
  }
  return json;
}
