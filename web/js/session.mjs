// The signed-in session. The access token lives only in this module's
// memory; the refresh token lives in an HttpOnly cookie scoped to the
// refresh and logout endpoints, which this page never sees. Tabs share the
// cookie, so refreshes are serialised across tabs with a Web Lock (two tabs
// refreshing at once would trip the API's refresh-token reuse detection and
// end the session), and tabs tell each other about new tokens, sign-out and
// activity over a BroadcastChannel. Nothing is written to browser storage.
import { ApiError, discard, readJson, send } from './http.mjs';

const LOCK = 'nru-helpdesk-session';
const channel = new BroadcastChannel('nru-helpdesk-session');

export const NOTICES = {
  refused: 'Your session has ended. Sign in again to carry on.',
  idle: (seconds) =>
    `You were signed out because there was no activity for ${Math.round(seconds / 60) || 1} minute${seconds < 120 ? '' : 's'}. Sign in again to carry on.`,
  unreachable: 'The service could not be reached. Check your connection, then sign in.',
};

let state = { status: 'restoring', user: null, notice: null, warning: null, generation: 0 };
let access = null;
let idleSeconds = 900;
let lastActivity = Date.now();
let lastShared = 0;
let refreshTimer = null;
let idleTimer = null;
const listeners = new Set();
const onSignOut = new Set();

function update(patch) {
  state = { ...state, ...patch };
  for (const listener of listeners) listener(state);
}

/** Calls `listener(state)` on every change; returns the unsubscribe. */
export function subscribe(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function currentSession() {
  return state;
}

/** Runs `hook` when the session ends, to drop what a module holds in memory. */
export function whenSignedOut(hook) {
  onSignOut.add(hook);
}

function adopt({ access_token: token, expires_in: expiresIn, idle_timeout_seconds: idle }) {
  const life = expiresIn * 1000;
  // A token this close to expiry is refreshed before use: a fifth of its
  // life, at most ten seconds.
  access = { token, expiresAt: Date.now() + life, margin: Math.min(10_000, life / 5) };
  if (idle) idleSeconds = idle;
  clearTimeout(refreshTimer);
  // Refresh ahead of expiry so calls rarely meet a 401.
  refreshTimer = setTimeout(() => {
    refreshAfter(token).then(
      (renewed) => renewed || sessionRefused(),
      () => {},
    );
  }, life - access.margin);
}

function fresh() {
  return access !== null && access.expiresAt - Date.now() > access.margin;
}

function share(message) {
  channel.postMessage(message);
}

/**
 * A fresh access token, refreshing through the cookie under the cross-tab
 * lock. `stale` is the token the caller found wanting (or null): if another
 * tab has refreshed meanwhile, its token is used and the cookie is not spent
 * again. Resolves to null when the API refuses the refresh.
 */
export function refreshAfter(stale) {
  return navigator.locks.request(LOCK, async () => {
    if (fresh() && access.token !== stale) return access.token;
    const response = await send('POST', '/auth/refresh', { body: {} });
    if (response.ok) {
      const body = await readJson(response);
      adopt(body);
      share({ type: 'token', body });
      return access.token;
    }
    if (response.status === 429 || response.status >= 500) {
      throw new ApiError(response.status, await readJson(response), response.headers);
    }
    discard(response);
    return null;
  });
}

/** The access token to send now, refreshed first if it is about to expire. */
export async function accessToken() {
  if (fresh()) return access.token;
  const token = await refreshAfter(access?.token ?? null);
  if (!token) {
    sessionRefused();
    throw new ApiError(401, { title: 'Your session has ended' });
  }
  return token;
}

async function loadAccount() {
  const response = await send('GET', '/me', { token: access.token });
  const body = await readJson(response);
  if (!response.ok) throw new ApiError(response.status, body, response.headers);
  return body;
}

function startSession(user) {
  lastActivity = Date.now();
  update({ status: 'signed-in', user, notice: null, warning: null });
  clearInterval(idleTimer);
  idleTimer = setInterval(checkIdle, 1000);
}

/** At page load: the cookie, if there is one, gives this tab its session. */
export async function restore() {
  try {
    const token = await refreshAfter(null);
    if (!token) {
      update({ status: 'signed-out' });
      return;
    }
    startSession(await loadAccount());
  } catch (error) {
    drop(error.status === 0 ? NOTICES.unreachable : NOTICES.refused);
  }
}

/** Signs in with the browser mode of the login endpoint. Rejects with an ApiError. */
export async function signIn(email, password) {
  const response = await navigator.locks.request(LOCK, () =>
    send('POST', '/auth/login', { body: { email, password, session: 'cookie' } }),
  );
  const body = await readJson(response);
  if (!response.ok) throw new ApiError(response.status, body, response.headers);
  adopt(body);
  const user = await loadAccount();
  share({ type: 'token', body });
  share({ type: 'signed-in' });
  startSession(user);
}

/** Signs out here and in every other tab, and ends the session at the API. */
export async function signOut(notice = null) {
  const token = access?.token;
  drop(notice);
  share({ type: 'signed-out', notice });
  await navigator.locks
    .request(LOCK, () =>
      send('POST', '/auth/logout', { token, body: {} }).then(discard, () => null),
    )
    .catch(() => null);
}

/** The API refused this session (its refresh token was revoked or expired). */
export function sessionRefused() {
  if (state.status === 'signed-in') signOut(NOTICES.refused);
}

/** The API says this account must change its password before anything else. */
export function passwordChangeRequired() {
  if (state.user && !state.user.password_change_required) {
    update({ user: { ...state.user, password_change_required: true } });
  }
}

/** After a successful change of one's own password. */
export function passwordChanged() {
  if (state.user) update({ user: { ...state.user, password_change_required: false } });
}

/** Replaces the account shown in the header (after the person changes it). */
export function accountChanged(user) {
  update({ user });
}

// Drops everything held in memory about the session and the person.
function drop(notice) {
  access = null;
  clearTimeout(refreshTimer);
  clearInterval(idleTimer);
  for (const hook of onSignOut) hook();
  update({ status: 'signed-out', user: null, notice, warning: null, generation: state.generation + 1 });
}

// Idle sign-out: shared computers in police stations and schools. Activity
// in any tab keeps every tab signed in.
function warningSeconds() {
  return Math.min(120, Math.floor(idleSeconds / 3));
}

function checkIdle() {
  if (state.status !== 'signed-in') return;
  const idleFor = (Date.now() - lastActivity) / 1000;
  if (idleFor >= idleSeconds) {
    signOut(NOTICES.idle(idleSeconds));
  } else if (idleFor >= idleSeconds - warningSeconds()) {
    update({ warning: Math.ceil(idleSeconds - idleFor) });
  } else if (state.warning !== null) {
    update({ warning: null });
  }
}

function noteActivity(at = Date.now(), shared = false) {
  lastActivity = Math.max(lastActivity, at);
  if (state.warning !== null) update({ warning: null });
  const every = Math.min(10_000, (idleSeconds * 1000) / 20);
  if (!shared && state.status === 'signed-in' && at - lastShared > every) {
    lastShared = at;
    share({ type: 'activity', at });
  }
}

/** The person says they are still here (the idle warning's button). */
export function stillHere() {
  noteActivity();
}

for (const kind of ['keydown', 'pointerdown', 'wheel', 'touchstart']) {
  window.addEventListener(kind, () => noteActivity(), { capture: true, passive: true });
}

channel.addEventListener('message', ({ data }) => {
  if (data?.type === 'token' && data.body) {
    adopt(data.body);
  } else if (data?.type === 'signed-in' && state.status !== 'signed-in' && access) {
    loadAccount()
      .then(startSession)
      .catch(() => {});
  } else if (data?.type === 'signed-out' && state.status !== 'signed-out') {
    drop(data.notice ?? null);
  } else if (data?.type === 'activity' && typeof data.at === 'number') {
    noteActivity(data.at, true);
  }
});
