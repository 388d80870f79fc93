// Chromium, the problem collector, axe-core and the app's page contract.
// No node:test in here, so scripts (budgets.mjs) can use it too.

import { AssertionError } from 'node:assert';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

import { chromium } from 'playwright-core';

import { repoRoot } from './server.mjs';

const require = createRequire(import.meta.url);

/** Debian's Chromium: $CHROMIUM, else /usr/bin/chromium. Never Playwright's download. */
export function chromiumPath() {
  const path = process.env.CHROMIUM || '/usr/bin/chromium';
  if (!existsSync(path)) {
    throw new Error(
      `no Chromium at ${path}: install Debian's package \`chromium\` (apt-get install chromium) ` +
        'or set CHROMIUM to a Chromium binary; scripts/web-test does this for you',
    );
  }
  return path;
}

/** A headless Chromium. */
export function launchBrowser(options = {}) {
  return chromium.launch({ executablePath: chromiumPath(), headless: true, ...options });
}

/** How long Playwright waits for an element or a page (ms); the machines have 2 busy cores. */
export const ACTION_TIMEOUT_MS = 15_000;

/** The suffix of every page's document.title. */
export const TITLE_SUFFIX = ' – NRU Helpdesk';

/** The page names of the web client's contract (main[data-page]). */
export const PAGES = [
  'sign-in',
  'change-password',
  'submit',
  'submitted',
  'my-requests',
  'request',
  'preferences',
  'account',
  'not-found',
  'not-allowed',
  'signed-out',
  'edit',
];

// Runs in every document of a watched context before its own scripts (the
// debugging protocol injects it, so the page's CSP does not apply to it).
// It reports each CSP (and Trusted Types) violation to Node.
function reportViolations() {
  document.addEventListener(
    'securitypolicyviolation',
    (e) => {
      // eslint-disable-next-line no-undef
      globalThis.__nruReportViolation?.({
        directive: e.effectiveDirective || e.violatedDirective,
        blocked: e.blockedURI,
        source: e.sourceFile,
        line: e.lineNumber,
        sample: e.sample,
        disposition: e.disposition,
      });
    },
    true,
  );
}

function originOf(url) {
  try {
    return new URL(url).origin;
  } catch {
    return null;
  }
}

/**
 * Watches a browser context: every page it opens (now or later) reports
 * console errors, uncaught exceptions, failed requests, CSP violations and
 * requests to any origin but `origin` into the returned collector. Must be
 * called before the context opens its first page.
 *
 * collector.entries   — [{ kind, text, page }], kind one of console.error,
 *                       pageerror, requestfailed, csp, other-origin
 * collector.clear()   — forget what was collected
 * collector.allow(m)  — entries matching m (RegExp on the entry's text, or a
 *                       function of the entry) are expected from now on:
 *                       not collected (e.g. a 401 a journey provokes)
 * collector.problems()— entries not allowed
 * collector.waitFor(m, timeoutMs) — resolves with the first entry matching m
 * collector.assertClean(label) — throws an AssertionError listing problems
 */
export async function watchContext(context, { origin }) {
  const entries = [];
  const allowed = [];
  const waiters = new Set();
  const pageIds = new WeakMap();
  let pages = 0;
  const pageName = (page) => {
    if (!page) return '?';
    if (!pageIds.has(page)) pageIds.set(page, ++pages);
    return `page ${pageIds.get(page)}`;
  };
  const matches = (matcher, entry) =>
    typeof matcher === 'function' ? matcher(entry) : matcher.test(entry.text);

  const add = (kind, text, page) => {
    const entry = { kind, text, page: pageName(page) };
    if (allowed.some((m) => matches(m, entry))) return;
    entries.push(entry);
    for (const waiter of waiters) waiter(entry);
  };

  await context.exposeBinding('__nruReportViolation', ({ page }, v) => {
    const where = v.source ? ` at ${v.source}${v.line ? `:${v.line}` : ''}` : '';
    const sample = v.sample ? ` (sample: ${JSON.stringify(v.sample)})` : '';
    add('csp', `${v.disposition === 'report' ? '[report-only] ' : ''}${v.directive} blocked ${v.blocked || '(inline)'}${where}${sample}`, page);
  });
  await context.addInitScript(reportViolations);

  const watchPage = (page) => {
    pageName(page);
    page.on('console', (message) => {
      if (message.type() !== 'error') return;
      const { url, lineNumber } = message.location();
      add('console.error', `${message.text()}${url ? ` [${url}${lineNumber ? `:${lineNumber}` : ''}]` : ''}`, page);
    });
    page.on('pageerror', (error) => add('pageerror', error.stack || String(error), page));
    page.on('websocket', (socket) => {
      if (originOf(socket.url().replace(/^ws/, 'http')) !== origin) add('other-origin', `websocket ${socket.url()}`, page);
    });
  };
  context.on('page', watchPage);
  for (const page of context.pages()) watchPage(page);

  const isOwn = (url) => originOf(url) === origin || /^(data|blob|about):/.test(url);
  // A service worker's requests have no frame (request.frame() throws).
  const pageOf = (request) => {
    try {
      return request.frame().page();
    } catch {
      return null;
    }
  };
  context.on('request', (request) => {
    if (!isOwn(request.url())) add('other-origin', `${request.method()} ${request.url()}`, pageOf(request));
  });
  context.on('requestfailed', (request) => {
    add('requestfailed', `${request.method()} ${request.url()}: ${request.failure()?.errorText}`, pageOf(request));
  });

  const collector = {
    entries,
    clear() {
      entries.length = 0;
    },
    allow(matcher) {
      allowed.push(matcher);
      for (let i = entries.length - 1; i >= 0; i--) if (matches(matcher, entries[i])) entries.splice(i, 1);
    },
    problems() {
      return entries.filter((e) => !allowed.some((m) => matches(m, e)));
    },
    waitFor(matcher, timeoutMs = 5_000) {
      const found = entries.find((e) => matches(matcher, e));
      if (found) return Promise.resolve(found);
      return new Promise((ok, fail) => {
        const waiter = (entry) => {
          if (!matches(matcher, entry)) return;
          clearTimeout(timer);
          waiters.delete(waiter);
          ok(entry);
        };
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          fail(new Error(`collected nothing matching ${matcher} within ${timeoutMs} ms; collected: ${describeEntries(entries) || 'nothing'}`));
        }, timeoutMs);
        waiters.add(waiter);
      });
    },
    assertClean(label = 'the browser') {
      const problems = collector.problems();
      if (problems.length) {
        throw new AssertionError({ message: `${label} reported ${problems.length} problem(s):\n${describeEntries(problems)}` });
      }
    },
  };
  return collector;
}

/**
 * What Chromium logs when a signed-out page asks POST /api/v1/auth/refresh
 * for a session and the API answers 401 (there is no cookie): Chromium puts
 * every 4xx answer to a fetch on the console as an error. Not allowed by
 * default; a test that expects it passes it in `allow`.
 */
export const SIGNED_OUT_REFRESH_401 =
  /^Failed to load resource: the server responded with a status of 401 \(Unauthorized\) \[http:\/\/127\.0\.0\.1:\d+\/api\/v1\/auth\/refresh\]$/;

/** One line per entry, for messages. */
export function describeEntries(entries) {
  return entries.map((e) => `  - ${e.kind} (${e.page}): ${e.text}`).join('\n');
}

let axeSource;
/** WCAG 2.0, 2.1 and 2.2 A and AA; best practices are not checked. */
export const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'];

/**
 * Runs axe-core on the page (the whole document unless options.context
 * says otherwise) for AXE_TAGS and throws an AssertionError listing each
 * violation (rule id, impact, help, the target selectors and what to fix).
 * axe is injected through the debugging protocol, so the page's CSP and
 * Trusted Types do not block it. Returns axe's results when clean.
 * options.rules is passed to axe (e.g. { 'color-contrast': { enabled: false } }).
 */
export async function checkAxe(page, label = page.url(), options = {}) {
  axeSource ??= readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
  if (!(await page.evaluate(() => typeof globalThis.axe === 'object'))) await page.evaluate(axeSource);
  const results = await page.evaluate(
    ({ context, runOptions }) => globalThis.axe.run(context ?? document, runOptions),
    {
      context: options.context ?? null,
      runOptions: {
        runOnly: { type: 'tag', values: AXE_TAGS },
        resultTypes: ['violations'],
        ...(options.rules ? { rules: options.rules } : {}),
      },
    },
  );
  if (results.violations.length) {
    const lines = results.violations.map((v) => {
      const nodes = v.nodes
        .map((n) => {
          const fix = (n.failureSummary || '').split('\n').map((l) => l.trim()).filter(Boolean).join(' ');
          return `      ${n.target.join(' ')}${fix ? `\n        ${fix}` : ''}`;
        })
        .join('\n');
      return `  - ${v.id} [${v.impact}]: ${v.help}\n${nodes}`;
    });
    throw new AssertionError({
      message: `axe found ${results.violations.length} accessibility violation(s) on ${label}:\n${lines.join('\n')}`,
    });
  }
  return results;
}

/**
 * Waits until the app shows page `name` with its data loaded:
 * <main id="main-content" data-page="NAME" aria-busy="false">, and checks
 * the rest of the contract at that moment: exactly one <h1>, with
 * tabindex="-1", and document.title "<page title> – NRU Helpdesk".
 * Returns { title, heading }. The error says what the page showed instead.
 */
export async function waitForPage(page, name, { timeout = ACTION_TIMEOUT_MS } = {}) {
  if (!PAGES.includes(name)) throw new Error(`waitForPage: "${name}" is not one of ${PAGES.join(', ')}`);
  try {
    await page.waitForFunction(
      (wanted) => !!document.querySelector(`main#main-content[data-page="${wanted}"][aria-busy="false"]`),
      name,
      { timeout },
    );
  } catch (error) {
    const seen = await describePage(page);
    throw new AssertionError({
      message: `page "${name}" was not ready (main#main-content[data-page="${name}"][aria-busy="false"]) within ${timeout} ms; the browser shows ${seen}`,
    });
  }
  const state = await page.evaluate(() => ({
    title: document.title,
    headings: [...document.querySelectorAll('h1')].map((h) => ({ text: h.textContent.trim(), tabindex: h.getAttribute('tabindex') })),
  }));
  if (state.headings.length !== 1) {
    throw new AssertionError({ message: `page "${name}" has ${state.headings.length} <h1> elements, not exactly one: ${JSON.stringify(state.headings)}` });
  }
  if (state.headings[0].tabindex !== '-1') {
    throw new AssertionError({ message: `page "${name}": its <h1> needs tabindex="-1" (focus moves there), has ${JSON.stringify(state.headings[0].tabindex)}` });
  }
  if (!state.title.endsWith(TITLE_SUFFIX) || state.title.length === TITLE_SUFFIX.length) {
    throw new AssertionError({ message: `page "${name}": document.title should be "<page title>${TITLE_SUFFIX}", is ${JSON.stringify(state.title)}` });
  }
  return { title: state.title.slice(0, -TITLE_SUFFIX.length), heading: state.headings[0].text };
}

/** What the page shows, in one line, for messages. */
export async function describePage(page) {
  try {
    const s = await page.evaluate(() => {
      const main = document.querySelector('main');
      return {
        main: main ? `<main id="${main.id}" data-page="${main.dataset.page ?? ''}" aria-busy="${main.getAttribute('aria-busy') ?? ''}">` : 'no <main>',
        title: document.title,
        h1: document.querySelector('h1')?.textContent.trim() ?? null,
        text: (document.body?.innerText ?? '').replace(/\s+/g, ' ').trim().slice(0, 200),
      };
    });
    return `${page.url()}: ${s.main}, title ${JSON.stringify(s.title)}, h1 ${JSON.stringify(s.h1)}, text ${JSON.stringify(s.text)}`;
  } catch (error) {
    return `${page.url()} (could not be read: ${error.message.split('\n')[0]})`;
  }
}

/** Where failure screenshots go. */
export const SCREENSHOT_DIR = join(repoRoot, 'target/browser-screenshots');

/** A file name made of a test's name. */
export function fileSafe(name) {
  return name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 100) || 'test';
}

/**
 * Saves a full-page screenshot of each open page of the context as
 * target/browser-screenshots/<name>-<n>.png; returns the paths.
 */
export async function screenshotPages(context, name) {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const paths = [];
  let n = 0;
  for (const page of context.pages()) {
    n += 1;
    const path = join(SCREENSHOT_DIR, `${fileSafe(name)}-${n}.png`);
    try {
      await page.screenshot({ path, fullPage: true, timeout: 10_000 });
      paths.push(path);
    } catch (error) {
      paths.push(`${path} (failed: ${error.message.split('\n')[0]})`);
    }
  }
  return paths;
}

/**
 * Signs in through the sign-in form: opens `base + path` (the app shows
 * its sign-in page to someone signed out), fills "Email address" and
 * "Password", presses "Sign in", and waits until another page of the app
 * is ready. Returns that page's name.
 */
export async function signInWithForm(page, base, { email, password }, { path = '/' } = {}) {
  await page.goto(base + path);
  await waitForPage(page, 'sign-in');
  await page.getByLabel('Email address', { exact: true }).fill(email);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  try {
    await page.waitForFunction(
      () => !!document.querySelector('main#main-content[aria-busy="false"]:not([data-page="sign-in"])'),
      null,
      { timeout: ACTION_TIMEOUT_MS },
    );
  } catch {
    throw new AssertionError({ message: `after signing in as ${email}, no other page became ready; the browser shows ${await describePage(page)}` });
  }
  return page.evaluate(() => document.querySelector('main#main-content').dataset.page);
}

/**
 * Gives the browser context a signed-in session without the form: signs in
 * in cookie mode through the context's own request API, so the HttpOnly
 * refresh cookie lands in the context's cookie jar, as if the person had
 * signed in on the sign-in page. The app, loaded afterwards, refreshes with
 * it. Returns the sign-in answer (access_token, idle_timeout_seconds, …).
 */
export async function startSession(context, base, { email, password }) {
  const answer = await context.request.post(`${base}/api/v1/auth/login`, {
    data: { email, password, session: 'cookie' },
    headers: { origin: base },
  });
  if (answer.status() !== 200) {
    throw new Error(`cookie sign-in as ${email}: HTTP ${answer.status()} ${await answer.text()}`);
  }
  return answer.json();
}
