// The shared fixture of the browser tests: one Chromium and one server per
// test file (started on first use), a fresh browser context per test, and
// checks that fail a test on any console error, uncaught exception, failed
// request, CSP violation or request to another origin, keeping a
// screenshot of each open page when a test fails.
//
//   import { webTest, waitForPage, checkAxe } from './harness.mjs';
//
//   webTest('a practitioner signs in', async ({ page, server, unit }) => {
//     const { practitioner } = await unit();
//     await page.goto(server.base + '/');
//     await waitForPage(page, 'sign-in');
//     await checkAxe(page, 'sign-in page');
//   });
//
// Run with scripts/web-test (all files, or one: scripts/web-test
// tests/browser/sign-in.test.mjs). docs/web-client.md, "Browser tests".

import { after, test } from 'node:test';
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

import {
  ACTION_TIMEOUT_MS,
  SCREENSHOT_DIR,
  describeEntries,
  fileSafe,
  launchBrowser,
  screenshotPages,
  watchContext,
} from './lib/browser.mjs';
import { startServer, stopAllServers } from './lib/server.mjs';

export * from './lib/browser.mjs';
export * from './lib/server.mjs';
export { USER_PASSWORD, apiClient, requestBody, unique } from './lib/api.mjs';

let browserPromise;
/** This file's Chromium, launched on first use and closed after its last test. */
export function sharedBrowser() {
  browserPromise ??= launchBrowser();
  return browserPromise;
}

let serverPromise;
/**
 * This file's server (startServer() with the default settings), started on
 * first use and stopped after its last test. Tests that need other settings
 * start their own: webTest(name, { server: () => startServer({ env }) }, fn).
 */
export function sharedServer() {
  serverPromise ??= startServer();
  return serverPromise;
}

// Registered when this module is first imported, that is at the top level of
// a test file: it runs after the file's last test.
after(async () => {
  if (browserPromise) await (await browserPromise.catch(() => null))?.close();
  if (serverPromise) await (await serverPromise.catch(() => null))?.stop();
  // and any server a test file started for itself and left running
  await stopAllServers();
});

/**
 * Runs `fn` with a fresh browser context and checks it; what webTest does
 * inside each test, exported so the harness's own tests can watch it fail.
 *
 * options:
 *   name            — the test's name (screenshot file names)
 *   server          — a server or a promise of one (stopped after the
 *                     file's last test), or a function returning either
 *                     (that server is stopped after this test); default:
 *                     sharedServer().
 *   contextOptions  — for browser.newContext (viewport, javaScriptEnabled,
 *                     reducedMotion, …)
 *   allow           — expected problems: RegExps on an entry's text or
 *                     functions of an entry (as collector.allow)
 *   t               — node:test's test context: paths are said by t.diagnostic
 *   diagnostic      — or by this function (default: t.diagnostic, else stderr)
 *
 * fn gets { page, context, newPage, server, browser, collector, allow,
 * unit, t }:
 *   page      — the first tab, opened in the context
 *   newPage() — another tab in the same context (cookies shared); watched
 *   collector — what was collected so far (see watchContext)
 *   allow(m)  — collector.allow(m)
 *   unit()    — server.seedUnit(): a fresh team and one account per role
 *
 * After fn, any problem collected fails the test. When the test fails (fn
 * threw, or problems), a full-page screenshot of each open page is saved
 * as target/browser-screenshots/<name>-<n>.png, and the server's log as
 * <name>-server.log, and their paths printed.
 */
export async function runInBrowser(options, fn) {
  const { name = 'browser test', contextOptions = {}, allow = [], diagnostic, t } = options;
  const ownServer = typeof options.server === 'function';
  const server = await (ownServer ? options.server() : (options.server ?? sharedServer()));
  const browser = await sharedBrowser();
  const context = await browser.newContext(contextOptions);
  let failure = null;
  try {
    context.setDefaultTimeout(ACTION_TIMEOUT_MS);
    const collector = await watchContext(context, { origin: server.origin });
    for (const matcher of allow) collector.allow(matcher);
    const page = await context.newPage();
    const fixture = {
      page,
      context,
      newPage: () => context.newPage(),
      server,
      browser,
      collector,
      allow: (matcher) => collector.allow(matcher),
      unit: () => server.seedUnit(),
      t,
    };
    try {
      await fn(fixture);
    } catch (error) {
      failure = error;
    }
    // Late console messages of the last action arrive within a tick or two.
    await new Promise((ok) => setTimeout(ok, 50));
    const problems = collector.problems();
    if (problems.length) {
      const list = `the browser reported ${problems.length} problem(s):\n${describeEntries(problems)}`;
      if (failure instanceof Error) {
        failure.message += `\n\nAlso, ${list}`;
      } else {
        failure = new Error(list);
      }
    }
    if (failure) {
      const shots = await screenshotPages(context, name);
      const kept = [...shots];
      try {
        mkdirSync(SCREENSHOT_DIR, { recursive: true });
        const log = join(SCREENSHOT_DIR, `${fileSafe(name)}-server.log`);
        copyFileSync(server.logFile, log);
        kept.push(log);
      } catch {
        // the server's folder may be gone already
      }
      // t.diagnostic reaches the test report (node --test forwards a test
      // file's stderr too: saying it on both would print it twice).
      const say = diagnostic ?? (t ? (line) => t.diagnostic(line) : (line) => process.stderr.write(`# ${line}\n`));
      for (const path of kept) say(`${name}: kept ${path}`);
      throw failure;
    }
  } finally {
    await context.close().catch(() => {});
    if (ownServer) await server.stop();
  }
}

/**
 * A node:test test with a fresh browser context: webTest(name, [options], fn).
 * options: node:test's (timeout — default 120 s —, skip, only, todo) and
 * runInBrowser's (server, contextOptions, allow).
 */
export function webTest(name, options, fn) {
  if (typeof options === 'function') [options, fn] = [{}, options];
  const { server, contextOptions, allow, ...testOptions } = options;
  return test(name, { timeout: 120_000, ...testOptions }, (t) =>
    runInBrowser({ name, server, contextOptions, allow, t }, fn),
  );
}
