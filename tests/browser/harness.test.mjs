// Tests of the harness itself, against the real server: each proves that a
// check the journey tests rely on really catches what it must. They open
// the server's own pages (/healthz, whose CSP is the API's strict
// `default-src 'none'`), so they need no web client.

import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync } from 'node:fs';

import {
  SCREENSHOT_DIR,
  checkAxe,
  runInBrowser,
  startServer,
  startSession,
  waitForPage,
  webTest,
} from './harness.mjs';

webTest('the collector records a console.error from the page, and assertClean then fails listing it', async ({ page, server, collector }) => {
  await page.goto(`${server.base}/healthz`);
  collector.assertClean('a quiet page');
  await page.evaluate(() => console.error('deliberate console error'));
  const entry = await collector.waitFor(/deliberate console error/);
  assert.equal(entry.kind, 'console.error');
  assert.throws(() => collector.assertClean('the page'), /the page reported 1 problem\(s\):\n.*console\.error.*deliberate console error/);
  collector.clear();
  collector.assertClean('the page once cleared');
});

webTest('the collector records an exception the page does not catch', async ({ page, server, collector }) => {
  await page.goto(`${server.base}/healthz`);
  await page.evaluate(() => setTimeout(() => { throw new Error('deliberate uncaught error'); }, 0));
  const entry = await collector.waitFor(/deliberate uncaught error/);
  assert.equal(entry.kind, 'pageerror');
  collector.clear();
});

webTest('the collector records a CSP violation: an inline script put into a server page is blocked and reported with its directive', async ({ page, server, collector }) => {
  await page.goto(`${server.base}/healthz`);
  await page.evaluate(() => {
    const script = document.createElement('script');
    script.textContent = 'window.injected = true';
    document.body.append(script);
  });
  const entry = await collector.waitFor((e) => e.kind === 'csp');
  assert.match(entry.text, /^script-src-elem blocked inline/);
  assert.equal(await page.evaluate(() => window.injected), undefined, 'the CSP blocked the script');
  // Chromium also says so on the console.
  await collector.waitFor((e) => e.kind === 'console.error' && /Content Security Policy/.test(e.text));
  collector.clear();
});

webTest('the collector records a request to another origin, and that it failed', async ({ page, collector }) => {
  // about:blank has no CSP, so the image is requested (from a loopback
  // address nobody listens on: nothing leaves the machine).
  await page.setContent('<img alt="" src="http://127.0.0.2:9/elsewhere.png">');
  const other = await collector.waitFor((e) => e.kind === 'other-origin');
  assert.match(other.text, /^GET http:\/\/127\.0\.0\.2:9\/elsewhere\.png$/);
  const failed = await collector.waitFor((e) => e.kind === 'requestfailed');
  assert.match(failed.text, /elsewhere\.png: net::ERR_/);
  collector.clear();
});

webTest('allow() drops the expected problem only, and the test still fails on others', async ({ page, server, collector, allow }) => {
  await page.goto(`${server.base}/healthz`);
  allow(/expected: the journey provokes this/);
  await page.evaluate(() => {
    console.error('expected: the journey provokes this');
    console.error('not expected');
  });
  await collector.waitFor(/not expected/);
  assert.deepEqual(collector.problems().map((e) => e.text), ['not expected']);
  collector.clear();
});

webTest('checkAxe injects axe-core under the server CSP, lists each violation on broken markup, and passes on fixed markup', async ({ page, server }) => {
  await page.goto(`${server.base}/healthz`);
  // Trusted Types are not enforced on the API's pages, so innerHTML works.
  await page.evaluate(() => {
    document.title = '';
    document.documentElement.removeAttribute('lang');
    document.body.innerHTML = '<main><h1>Broken</h1><input id="email" type="email"><button></button></main>';
  });
  const error = await checkAxe(page, 'the broken page').then(() => null, (e) => e);
  assert.ok(error, 'checkAxe passed a page with violations');
  assert.match(error.message, /^axe found \d+ accessibility violation\(s\) on the broken page:/);
  for (const rule of ['html-has-lang', 'document-title', 'label', 'button-name']) {
    assert.match(error.message, new RegExp(`- ${rule} \\[(critical|serious|moderate|minor)\\]: `), `${rule} listed`);
  }
  assert.match(error.message, /\n {6}#email\n/, 'the target selector is listed');
  await page.evaluate(() => {
    document.title = 'Fixed';
    document.documentElement.lang = 'en';
    document.body.innerHTML =
      '<main><h1>Fixed</h1><label for="email">Email address</label><input id="email" type="email" autocomplete="email"><button>Sign in</button></main>';
  });
  const results = await checkAxe(page, 'the fixed page');
  assert.deepEqual(results.violations, []);
});

webTest('waitForPage waits for the page to be ready, checks one h1 with tabindex=-1 and the title, and says what it saw instead', async ({ page, server }) => {
  await page.goto(`${server.base}/healthz`);
  await page.evaluate(() => {
    document.title = 'Sign in – NRU Helpdesk';
    document.body.innerHTML = '<main id="main-content" data-page="sign-in" aria-busy="true"><h1>Sign in</h1></main>';
  });
  const slow = await waitForPage(page, 'sign-in', { timeout: 300 }).then(() => null, (e) => e);
  assert.match(slow?.message ?? '', /page "sign-in" was not ready .* the browser shows .*aria-busy="true"/);
  await page.evaluate(() => document.querySelector('main').setAttribute('aria-busy', 'false'));
  const noTabindex = await waitForPage(page, 'sign-in').then(() => null, (e) => e);
  assert.match(noTabindex?.message ?? '', /tabindex="-1"/);
  await page.evaluate(() => document.querySelector('h1').setAttribute('tabindex', '-1'));
  assert.deepEqual(await waitForPage(page, 'sign-in'), { title: 'Sign in', heading: 'Sign in' });
  await page.evaluate(() => { document.title = 'Sign in'; });
  await assert.rejects(waitForPage(page, 'sign-in'), /document\.title should be "<page title> – NRU Helpdesk"/);
  await assert.rejects(waitForPage(page, 'signin'), /"signin" is not one of/);
});

webTest('a test whose page logs a console error fails, keeps a screenshot and the server log, and says so', async ({ server }) => {
  const said = [];
  const name = 'harness deliberate failure';
  const outcome = await runInBrowser({ name, server, diagnostic: (line) => said.push(line) }, async ({ page }) => {
    await page.goto(`${server.base}/healthz`);
    await page.evaluate(() => console.error('deliberate error for the wrapper'));
  }).then(() => null, (e) => e);
  assert.ok(outcome, 'the wrapper let a console error pass');
  assert.match(outcome.message, /the browser reported 1 problem\(s\):\n {2}- console\.error \(page 1\): deliberate error for the wrapper/);
  const shot = `${SCREENSHOT_DIR}/harness-deliberate-failure-1.png`;
  const log = `${SCREENSHOT_DIR}/harness-deliberate-failure-server.log`;
  assert.deepEqual(said, [`${name}: kept ${shot}`, `${name}: kept ${log}`]);
  assert.deepEqual([...readFileSync(shot).subarray(1, 4)].map((b) => String.fromCharCode(b)).join(''), 'PNG');
  rmSync(shot);
  rmSync(log);

  // A failing body: its own error comes first, the problems after it.
  const both = await runInBrowser({ name, server, diagnostic: () => {} }, async ({ page, newPage }) => {
    await page.goto(`${server.base}/healthz`);
    const second = await newPage();
    await second.goto(`${server.base}/healthz`);
    await second.evaluate(() => console.error('from the second tab'));
    await new Promise((ok) => setTimeout(ok, 100));
    assert.equal(1, 2, 'the body failed');
  }).then(() => null, (e) => e);
  assert.match(both?.message ?? '', /^the body failed[\s\S]*Also, the browser reported 1 problem\(s\):\n {2}- console\.error \(page 2\): from the second tab/);
  assert.ok(existsSync(`${SCREENSHOT_DIR}/harness-deliberate-failure-2.png`), 'each open tab is shot');
  rmSync(`${SCREENSHOT_DIR}/harness-deliberate-failure-1.png`);
  rmSync(`${SCREENSHOT_DIR}/harness-deliberate-failure-2.png`);
  rmSync(log);
});

webTest('each test has a fresh context: cookies do not carry over, while newPage() tabs share them', async ({ page, newPage, server }) => {
  await page.goto(`${server.base}/healthz`);
  await page.evaluate(() => { document.cookie = 'marker=1; path=/'; });
  const tab = await newPage();
  await tab.goto(`${server.base}/healthz`);
  assert.equal(await tab.evaluate(() => document.cookie), 'marker=1');
  await runInBrowser({ name: 'fresh context', server }, async ({ page: other }) => {
    await other.goto(`${server.base}/healthz`);
    assert.equal(await other.evaluate(() => document.cookie), '');
  });
});

webTest('startSession leaves the HttpOnly refresh cookie in the context, and the refresh endpoint takes it from the server origin', async ({ context, server, unit }) => {
  const { practitioner } = await unit();
  const signedIn = await startSession(context, server.base, practitioner);
  assert.equal(typeof signedIn.access_token, 'string');
  assert.equal(signedIn.refresh_token, undefined, 'cookie mode: no refresh token in the body');
  const cookies = await context.cookies(server.base + '/api/v1/auth/refresh');
  assert.equal(cookies.length, 1, JSON.stringify(cookies));
  assert.equal(cookies[0].httpOnly, true);
  assert.equal(cookies[0].secure, true);
  assert.equal(cookies[0].sameSite, 'Strict');
  const refreshed = await context.request.post(`${server.base}/api/v1/auth/refresh`, { data: {}, headers: { origin: server.origin } });
  assert.equal(refreshed.status(), 200, await refreshed.text());
  const elsewhere = await context.request.post(`${server.base}/api/v1/auth/refresh`, { data: {}, headers: { origin: 'http://127.0.0.2:9' } });
  assert.equal(elsewhere.status(), 403, 'the Origin check is on, so public_origin is what passed');
});

webTest('startServer gives a fresh database; seedUnit makes one account per role and the API helpers act as them', async ({ server, unit }) => {
  const { admin, team, specialist, coordinator, practitioner, otherPractitioner } = await unit();
  assert.equal(admin.role, 'admin');
  assert.ok(team.id);
  for (const [person, role] of [[specialist, 'specialist'], [coordinator, 'coordinator'], [practitioner, 'practitioner'], [otherPractitioner, 'practitioner']]) {
    const me = await server.api(person.token, 'GET', '/me');
    assert.equal(me.status, 200);
    assert.equal(me.body.role, role);
    assert.equal(me.body.email, person.email);
  }
  const request = await server.submitRequest(practitioner.token, { title: 'A request from the harness test' });
  assert.match(request.reference, /^NRU-\d{4}-\d{6}$/);
  const mine = await server.api(practitioner.token, 'GET', '/requests');
  assert.deepEqual(mine.body.items.map((r) => r.id), [request.id]);
  const theirs = await server.api(otherPractitioner.token, 'GET', '/requests');
  assert.deepEqual(theirs.body.items, []);
});

webTest('startServer({ env }) applies settings, and each server has its own database', async ({ unit }) => {
  await unit();
  const own = await startServer({ env: { APP__AUTH__ACCESS_TOKEN_TTL_SECONDS: '7' } });
  try {
    const answer = await own.api(null, 'POST', '/auth/login', { email: own.adminEmail, password: own.adminPassword });
    assert.equal(answer.body.expires_in, 7);
    const users = await own.api(answer.body.access_token, 'GET', '/users');
    assert.deepEqual(users.body.items.map((u) => u.email), [own.adminEmail], 'only the admin: none of the shared server\'s accounts');
  } finally {
    await own.stop();
  }
  assert.equal(existsSync(own.dir), false, 'stop() removes the server folder');
});
