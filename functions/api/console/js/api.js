// The API client: same origin as the console (the API serves /console/), JSON in and out, errors as
// ApiError with the API's {error: {code, message, details}}. A bearer token, once signed in, goes with
// every call to the API, and never to a presigned S3 URL (S3 refuses a second authorization).

export const consoleRoot = new URL(".", document.baseURI); // .../console/
export const apiRoot = new URL("../", consoleRoot); // the API's root

let bearer = null;
let onUnauthorized = null;
let onForbidden = null;

export function setBearer(token, unauthorized) {
  bearer = token;
  if (unauthorized) onUnauthorized = unauthorized;
}

/** What to do when the API answers 403 (AuthMode=iam: the request carried no SigV4 signature). */
export function setForbidden(forbidden) {
  onForbidden = forbidden;
}

function refused(status) {
  if (status === 401 && onUnauthorized) onUnauthorized();
  if (status === 403 && onForbidden) onForbidden();
}

export function apiUrl(path) {
  return new URL(String(path).replace(/^\//, ""), apiRoot).href;
}

function isApi(url) {
  const target = new URL(url, apiRoot);
  return target.origin === apiRoot.origin && target.pathname.startsWith(apiRoot.pathname);
}

export class ApiError extends Error {
  constructor(status, body, fallback) {
    const error = (body && body.error) || {};
    super(error.message || (body && body.message) || fallback || `HTTP ${status}`);
    this.status = status;
    this.code = error.code || (status === 404 ? "not_found" : `http_${status}`);
    this.details = Array.isArray(error.details) ? error.details : [];
  }
}

function parse(text, type) {
  if (!text) return null;
  if ((type || "").includes("json")) {
    try {
      return JSON.parse(text);
    } catch {
      return null;
    }
  }
  return text;
}

function authorize(headers, url) {
  if (bearer && isApi(url)) headers.set("Authorization", `Bearer ${bearer}`);
  return headers;
}

/** fetch() an API path; resolves to the parsed body, rejects with ApiError on a non-2xx answer. */
export async function api(path, { method = "GET", body, headers = {}, signal } = {}) {
  const url = apiUrl(path);
  const sent = authorize(new Headers(headers), url);
  let payload = body;
  if (body !== undefined && !(body instanceof Blob) && typeof body !== "string") {
    payload = JSON.stringify(body);
    sent.set("Content-Type", "application/json");
  }
  const response = await fetch(url, { method, body: payload, headers: sent, signal });
  const data = parse(await response.text(), response.headers.get("content-type"));
  refused(response.status);
  if (!response.ok) throw new ApiError(response.status, data, response.statusText);
  return data;
}

/**
 * An XMLHttpRequest send, for its upload progress events (fetch has none): onProgress(loaded, total).
 * Resolves to {status, body, headers}; rejects only on a network failure or an abort.
 */
export function send(method, url, body, headers = {}, onProgress = null, signal = null) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(method, url);
    const sent = authorize(new Headers(headers), url);
    sent.forEach((value, name) => xhr.setRequestHeader(name, value));
    if (onProgress) {
      xhr.upload.addEventListener("progress", (e) => onProgress(e.loaded, e.lengthComputable ? e.total : body.size));
      xhr.upload.addEventListener("load", () => onProgress(body.size, body.size));
    }
    xhr.addEventListener("load", () => {
      if (isApi(url)) refused(xhr.status);
      resolve({
        status: xhr.status,
        body: parse(xhr.responseText, xhr.getResponseHeader("content-type")),
        // Only the API's own answers: Chromium logs an error for a header a cross-origin answer hides.
        location: isApi(url) ? xhr.getResponseHeader("location") : null,
      });
    });
    xhr.addEventListener("error", () => reject(new Error(`the ${method} to ${new URL(url).host} failed (network or CORS)`)));
    xhr.addEventListener("abort", () => reject(new DOMException("aborted", "AbortError")));
    signal?.addEventListener("abort", () => xhr.abort());
    xhr.send(body);
  });
}

/** Downloads an API resource with the bearer token (a plain link would go without it). */
export async function download(path, name) {
  const url = apiUrl(path);
  const response = await fetch(url, { headers: authorize(new Headers(), url) });
  if (!response.ok) throw new ApiError(response.status, parse(await response.text(), response.headers.get("content-type")));
  const link = document.createElement("a");
  link.href = URL.createObjectURL(await response.blob());
  link.download = name;
  link.click();
  setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
}
