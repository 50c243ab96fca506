// Console configuration and sign-in. GET /console/config.json says how the API is protected:
//   {"max_import_bytes": n, "auth": "none" | "jwt" | "iam", "oidc"?: {...}, "formats"?: [names]}
// With "jwt" the console signs in with the OIDC authorization-code flow and PKCE (RFC 7636, S256 via Web
// Crypto): no client secret in a browser, and a stolen code is useless without the verifier that stays
// in this tab's sessionStorage. The token lives in sessionStorage too (this tab only, gone when it closes).

import { consoleRoot } from "./api.js";

const PENDING = "onair.oidc.pending";
const TOKEN = "onair.token";

export async function loadConfig() {
  const response = await fetch(new URL("config.json", consoleRoot), { headers: { Accept: "application/json" } });
  if (!response.ok) throw new Error(`the console's config.json answered ${response.status}`);
  return response.json();
}

export function base64url(bytes) {
  let text = "";
  for (const byte of new Uint8Array(bytes)) text += String.fromCharCode(byte);
  return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export function randomToken(size = 32) {
  return base64url(crypto.getRandomValues(new Uint8Array(size)));
}

/** RFC 7636 S256: BASE64URL(SHA256(ASCII(code_verifier))). */
export async function pkceChallenge(verifier) {
  return base64url(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
}

async function endpoints(oidc) {
  if (oidc.authorization_endpoint && oidc.token_endpoint) return oidc;
  const issuer = String(oidc.issuer).replace(/\/$/, "");
  const response = await fetch(`${issuer}/.well-known/openid-configuration`);
  if (!response.ok) throw new Error(`the issuer's discovery document answered ${response.status}`);
  return { ...(await response.json()), ...oidc };
}

export function redirectUri(oidc) {
  return oidc.redirect_uri || new URL("callback", consoleRoot).href;
}

/** The authorization request's URL; remembers state and verifier for the callback. */
export async function authorizationUrl(oidc, returnTo) {
  const found = await endpoints(oidc);
  const verifier = randomToken(32);
  const state = randomToken(16);
  sessionStorage.setItem(PENDING, JSON.stringify({ state, verifier, returnTo }));
  const url = new URL(found.authorization_endpoint);
  url.search = new URLSearchParams({
    response_type: "code",
    client_id: oidc.client_id,
    redirect_uri: redirectUri(oidc),
    scope: oidc.scope || "openid",
    state,
    code_challenge: await pkceChallenge(verifier),
    code_challenge_method: "S256",
  }).toString();
  return url.href;
}

/** The redirect back from the issuer: checks state, swaps code + verifier for tokens. Returns returnTo. */
export async function completeSignIn(oidc, params) {
  const pending = JSON.parse(sessionStorage.getItem(PENDING) || "null");
  sessionStorage.removeItem(PENDING);
  if (params.get("error")) throw new Error(`sign-in failed: ${params.get("error")} ${params.get("error_description") || ""}`);
  if (!pending || pending.state !== params.get("state")) throw new Error("sign-in failed: the state does not match this tab's request");
  const found = await endpoints(oidc);
  const response = await fetch(found.token_endpoint, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "authorization_code",
      code: params.get("code") || "",
      redirect_uri: redirectUri(oidc),
      client_id: oidc.client_id,
      code_verifier: pending.verifier,
    }),
  });
  const tokens = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(`the token endpoint answered ${response.status} ${tokens.error || ""}`);
  const token = tokens[oidc.token || "access_token"];
  if (!token) throw new Error(`the token endpoint sent no ${oidc.token || "access_token"}`);
  const expiresAt = Date.now() + 1000 * (Number(tokens.expires_in) || 3600);
  sessionStorage.setItem(TOKEN, JSON.stringify({ token, expiresAt }));
  return pending.returnTo || "";
}

export function storedToken() {
  const saved = JSON.parse(sessionStorage.getItem(TOKEN) || "null");
  if (!saved || saved.expiresAt - 30_000 < Date.now()) return null;
  return saved.token;
}

export function signOut() {
  sessionStorage.removeItem(TOKEN);
}
