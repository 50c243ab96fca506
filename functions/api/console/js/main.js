// Boot and routing. Deep links are real paths below /console/ (History API); the API answers each with
// index.html. Each page is a module loaded on first visit: render(view, params, ctx) draws it, and
// ctx.signal aborts when the operator leaves, which stops that page's polls and timers.

import { consoleRoot, setBearer, setForbidden } from "./api.js";
import { authorizationUrl, completeSignIn, loadConfig, signOut, storedToken } from "./auth.js";
import { h } from "./dom.js";

const ROUTES = [
  [/^$/, "schedules", "pages/schedules.js", "Schedules"],
  [/^import$/, "import", "pages/import.js", "Import"],
  [/^queue$/, "queue", "pages/queue.js", "Queue"],
  [/^schedules\/([^/]+)$/, "schedules", "pages/schedule.js", "Schedule"],
  [/^schedules\/([^/]+)\/guide$/, "schedules", "pages/guide.js", "Guide"],
  [/^uploads\/([^/]+)$/, "import", "pages/upload.js", "Upload"],
];

const view = document.getElementById("view");
const banner = document.getElementById("banner");
let current = null; // the AbortController of the page on screen
let config = null;
let routed = 0; // pages drawn so far: after the first, a new page takes the focus to its heading

function relativePath() {
  const path = decodeURI(location.pathname);
  return path.startsWith(consoleRoot.pathname) ? path.slice(consoleRoot.pathname.length).replace(/\/$/, "") : path;
}

// After a navigation the new page's heading takes the focus (a screen reader hears the new page, as after
// a full load); pages draw their heading once their first read is back, hence the observer.
function focusHeading(signal) {
  const found = () => {
    const heading = view.querySelector("h1");
    if (!heading) return false;
    heading.tabIndex = -1;
    heading.focus();
    return true;
  };
  if (found()) return;
  const observer = new MutationObserver(() => found() && observer.disconnect());
  observer.observe(view, { childList: true, subtree: true });
  signal.addEventListener("abort", () => observer.disconnect());
}

export function showBanner(message) {
  banner.hidden = !message;
  banner.textContent = message || "";
}

export function navigate(path, { replace = false } = {}) {
  const url = new URL(path, consoleRoot);
  if (replace) history.replaceState(null, "", url);
  else history.pushState(null, "", url);
  route();
}

async function route() {
  current?.abort();
  const controller = new AbortController();
  current = controller;
  const path = relativePath();
  const found = ROUTES.map(([pattern, nav, module, title]) => [path.match(pattern), nav, module, title]).find(([m]) => m);
  for (const link of document.querySelectorAll("[data-nav]")) {
    if (found && link.dataset.nav === found[1]) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  view.replaceChildren();
  if (!found) {
    document.title = "Not found · OnAir";
    view.append(h("h1", {}, "Not found"), h("p", {}, "No console page is at ", h("code", {}, location.pathname), ". ",
      h("a", { href: "./" }, "Back to the schedules")));
    return;
  }
  const [match, , module, title] = found;
  document.title = `${title} · OnAir`;
  try {
    const page = await import(`./${module}`);
    if (controller.signal.aborted) return;
    const params = match.slice(1).map(decodeURIComponent);
    if (routed++) focusHeading(controller.signal);
    await page.render(view, params, { config, signal: controller.signal, navigate, query: new URLSearchParams(location.search) });
  } catch (error) {
    if (controller.signal.aborted || error.name === "AbortError") return;
    view.append(h("div", { class: "error", role: "alert" }, error.code ? `${error.code}: ` : "", error.message || String(error)));
  }
}

// Links inside the console navigate without a reload (ctrl/meta-click still opens a new tab).
document.addEventListener("click", (event) => {
  const link = event.target.closest("a[href]");
  if (!link || event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || link.target || link.hasAttribute("download")) return;
  const url = new URL(link.href);
  if (url.origin !== consoleRoot.origin || !url.pathname.startsWith(consoleRoot.pathname)) return;
  if (url.pathname === location.pathname && url.search === location.search && url.hash) return;
  event.preventDefault();
  navigate(url.pathname + url.search);
});
window.addEventListener("popstate", route);

function sessionControls(signedIn) {
  const box = document.getElementById("session");
  box.replaceChildren();
  if (config.auth !== "jwt") return;
  if (signedIn) {
    box.append(h("button", { class: "secondary", type: "button", onclick: () => {
      signOut();
      const logout = config.oidc?.logout_url;
      if (logout) location.assign(logout);
      else location.reload();
    } }, "Sign out"));
  }
}

async function signInPage() {
  document.title = "Sign in · OnAir";
  const button = h("button", { type: "button", onclick: async () => {
    location.assign(await authorizationUrl(config.oidc, relativePath() + location.search));
  } }, "Sign in");
  view.replaceChildren(h("h1", {}, "Sign in"), h("p", {}, "This OnAir API accepts signed-in operators only (OIDC)."), button);
}

async function boot() {
  try {
    config = await loadConfig();
  } catch (error) {
    showBanner(`${error.message}: imports go straight to POST /schedules, and sign-in is off.`);
    config = { auth: "none" };
  }
  if (config.auth === "iam") {
    // Unsigned calls work where something signs them on the way (a local signing proxy) or nothing checks
    // them (the local stack); API Gateway itself refuses them with a 403, and then the console says why.
    setForbidden(() => showBanner("This API requires SigV4 (IAM) signatures, which a browser cannot make: deploy with AuthMode=jwt, or open the console through a signing proxy (README, “Console”)."));
  }
  if (config.auth === "jwt") {
    if (relativePath() === "callback") {
      try {
        const back = await completeSignIn(config.oidc, new URLSearchParams(location.search));
        history.replaceState(null, "", new URL(back, consoleRoot));
      } catch (error) {
        showBanner(error.message);
        history.replaceState(null, "", consoleRoot);
      }
    }
    const token = storedToken();
    setBearer(token, () => {
      signOut();
      showBanner("Your session has ended: sign in again.");
      sessionControls(false);
      signInPage();
    });
    sessionControls(Boolean(token));
    if (!token) return signInPage();
  }
  return route();
}

boot();
