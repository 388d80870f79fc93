// Client-side routes on the History API. Links are ordinary <a href>s: one
// listener turns clicks on same-origin links into navigations without a
// page load. Paths carry ids and filters only, never case text.
import { useEffect, useState } from './html.mjs';

const listeners = new Set();

function notify() {
  for (const listener of listeners) listener(location.pathname + location.search);
}

/** Goes to `path` in the app (pushing history unless `replace`). */
export function navigate(path, { replace = false } = {}) {
  if (path === location.pathname + location.search) {
    notify();
    return;
  }
  if (replace) history.replaceState(null, '', path);
  else history.pushState(null, '', path);
  notify();
}

/** The current path and query, re-rendering on navigation. */
export function useLocation() {
  const [where, setWhere] = useState(location.pathname + location.search);
  useEffect(() => {
    listeners.add(setWhere);
    return () => listeners.delete(setWhere);
  }, []);
  return where;
}

/** Paths the server answers itself, which the app must not take over. */
function servedByServer(url) {
  return /^\/(api|docs|static|healthz|readyz|metrics|openapi)\b/.test(url.pathname);
}

window.addEventListener('popstate', notify);

document.addEventListener('click', (event) => {
  if (event.defaultPrevented || event.button !== 0) return;
  if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  const link = event.target.closest?.('a[href]');
  if (!link || link.target || link.hasAttribute('download')) return;
  const url = new URL(link.href, location.href);
  if (url.origin !== location.origin || servedByServer(url)) return;
  if (url.pathname === location.pathname && url.search === location.search && url.hash) return;
  event.preventDefault();
  navigate(url.pathname + url.search);
});

/**
 * Matches `path` against route patterns like "/requests/:id"; returns
 * `[name, params]` of the first match, or null.
 */
export function match(routes, path) {
  const [pathname] = path.split('?');
  const parts = pathname.split('/').filter(Boolean);
  for (const [pattern, name] of routes) {
    const want = pattern.split('/').filter(Boolean);
    if (want.length !== parts.length) continue;
    const params = {};
    const ok = want.every((segment, i) => {
      if (segment.startsWith(':')) {
        params[segment.slice(1)] = parts[i];
        return true;
      }
      return segment === parts[i];
    });
    if (ok) return [name, params];
  }
  return null;
}

/** The query string's parameters of the current location. */
export function queryOf(path) {
  const at = path.indexOf('?');
  return new URLSearchParams(at < 0 ? '' : path.slice(at + 1));
}
