// Steps the journeys share: signing in without the form, moving by
// keyboard, reading what the app keeps in the browser.

import assert from 'node:assert/strict';

import { startSession, waitForPage } from './browser.mjs';

/** Signs `person` in (cookie session, as the sign-in page does) and opens `path`, waiting for page `name`. */
export async function openSignedIn(page, server, person, path, name) {
  await startSession(page.context(), server.base, person);
  await page.goto(server.base + path);
  return waitForPage(page, name);
}

/**
 * Presses Tab until `locator` has focus (at most `limit` times): proves it
 * can be reached by keyboard alone, in the page's tab order.
 */
export async function tabTo(page, locator, limit = 80) {
  for (let i = 0; i < limit; i += 1) {
    if (await locator.evaluate((element) => element === document.activeElement).catch(() => false)) return;
    await page.keyboard.press('Tab');
  }
  assert.fail(`could not reach ${locator} with ${limit} presses of Tab`);
}

/** The name of the element that has focus ("h1: My requests", "input#f-title"). */
export function focused(page) {
  return page.evaluate(() => {
    const element = document.activeElement;
    if (!element || element === document.body) return 'body';
    if (element.tagName === 'H1') return `h1: ${element.textContent.trim()}`;
    return `${element.tagName.toLowerCase()}${element.id ? `#${element.id}` : ''}`;
  });
}

/**
 * Everything the page could have written to browser storage: Web Storage,
 * IndexedDB databases, Cache Storage and cookies scripts can read.
 */
export function browserStorage(page) {
  return page.evaluate(async () => ({
    localStorage: Object.keys(localStorage),
    sessionStorage: Object.keys(sessionStorage),
    indexedDB: (await indexedDB.databases()).map((d) => d.name),
    caches: await caches.keys(),
    cookies: document.cookie,
  }));
}

/** Asserts nothing is kept in browser storage, and `secrets` appear in no URL visited. */
export async function assertNothingStored(page, visited, secrets) {
  assert.deepEqual(await browserStorage(page), {
    localStorage: [],
    sessionStorage: [],
    indexedDB: [],
    caches: [],
    cookies: '',
  });
  for (const url of visited) {
    for (const secret of secrets) {
      assert.ok(!decodeURIComponent(url).toLowerCase().includes(secret.toLowerCase()), `${url} carries case text "${secret}"`);
    }
  }
}

/** The app's own state after sign-out must not show `text` anywhere in the document. */
export async function assertNotShown(page, text) {
  const shown = await page.evaluate(() => document.body.innerText);
  assert.ok(!shown.includes(text), `the page still shows "${text}"`);
}

/** Every URL a page requests or navigates to, for checking later. */
export function recordUrls(context) {
  const urls = [];
  context.on('request', (request) => urls.push(request.url()));
  return urls;
}

/** Whether the page is wider than its viewport (content cut off or scrolling sideways). */
export function overflowsSideways(page) {
  return page.evaluate(() => document.documentElement.scrollWidth > document.documentElement.clientWidth);
}

/** Calls the API and fails unless it answers `status`; returns the answer. */
export async function expectApi(server, token, method, path, status, body, headers) {
  const answer = await server.api(token, method, path, body, headers);
  assert.equal(answer.status, status, `${method} ${path}: ${JSON.stringify(answer.body)}`);
  return answer;
}

/** Sends a request-changing action with the request's current ETag. */
export async function actOn(server, person, id, action, body) {
  const current = await expectApi(server, person.token, 'GET', `/requests/${id}`, 200);
  return expectApi(server, person.token, 'POST', `/requests/${id}/${action}`, 200, body, { 'if-match': current.headers.etag });
}

/** The unit takes the request: the coordinator triages it to the unit's team and assigns it to the specialist. */
export async function handToSpecialist(server, { coordinator, specialist, team }, id) {
  await actOn(server, coordinator, id, 'triage', { priority: 'P2', team_id: team.id, reason: 'taken by the test team' });
  await actOn(server, coordinator, id, 'assign', { assignee_id: specialist.id });
}

/**
 * The teams config/triage.toml routes to, so that submissions are triaged
 * at once (and get a first-response deadline) as in a configured unit.
 */
export async function createTriageTeams(server, admin) {
  for (const name of ['Duty', 'Crime and justice', 'Education and communities', 'Transitions to adulthood', 'Health']) {
    const answer = await server.api(admin.token, 'POST', '/teams', { name });
    assert.ok(answer.status === 201 || answer.status === 409, `team ${name}: ${answer.status}`);
  }
}
