// The web client's performance budgets (issue 17, point 16), measured in
// Debian's Chromium against the real server on a fresh SQLite database.
// A benchmark run by command, not a test:
//
//   scripts/web-test --budgets            (sets Chromium, npm packages and the build up first)
//   node tests/browser/budgets.mjs [--runs 5] [--requests 200] [--from /account] [--verbose]
//
// 1. The first load of / with a cold cache transfers at most 150 KB
//    (150,000 bytes) over the wire: the sum of every response's encoded
//    size (CDP Network.loadingFinished encodedDataLength: compressed body
//    and headers) until the sign-in page is ready and the network is idle.
// 2. On loopback, the sign-in page is interactive within 500 ms of
//    navigation start: from the navigation's time origin until
//    main[data-page=sign-in][aria-busy=false] is in the document with the
//    "Email address" input enabled (and layout done). Median of --runs cold
//    loads, each in a new browser context.
// 3. "My requests" of a practitioner with 200 requests renders within
//    200 ms: signed in, on --from (the account page), from clicking the
//    "My requests" navigation link until main[data-page=my-requests]
//    [aria-busy=false] is in the document (and layout done). Median of
//    --runs; back to --from between runs.
//
// Prints a table (figure, budget, pass/fail) and exits 1 if a figure is over
// its budget, 2 if one could not be measured. The server is
// $NRU_HELPDESK_BIN or target/debug/nru-helpdesk, as the table says.

import { parseArgs } from 'node:util';

import { describeEntries, describePage, launchBrowser, startSession, waitForPage, watchContext } from './lib/browser.mjs';
import { serverBinary, startServer } from './lib/server.mjs';

const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    requests: { type: 'string', default: '200' },
    from: { type: 'string', default: '/account' },
    verbose: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (args.help) {
  console.log('node tests/browser/budgets.mjs [--runs 5] [--requests 200] [--from /account] [--verbose]');
  process.exit(0);
}
const RUNS = Number(args.runs);
const REQUESTS = Number(args.requests);

const BUDGETS = {
  bytes: 150_000,
  interactiveMs: 500,
  myRequestsMs: 200,
};

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const log = (...a) => console.error(...a);

// Installed in the page before its scripts: notes when the sign-in page is
// ready for input, in ms since the navigation's time origin.
function noteSignInReady() {
  const ready = () => {
    const main = document.querySelector('main#main-content[data-page="sign-in"][aria-busy="false"]');
    if (!main) return false;
    const label = [...document.querySelectorAll('label')].find((l) => l.textContent.trim() === 'Email address');
    const input = label?.control;
    if (!input || input.disabled) return false;
    void document.body.offsetHeight; // layout done too
    return true;
  };
  const observer = new MutationObserver(() => {
    if (globalThis.__nruReadyAt === undefined && ready()) {
      globalThis.__nruReadyAt = performance.now();
      observer.disconnect();
    }
  });
  observer.observe(document, { subtree: true, childList: true, attributes: true, characterData: true });
}

async function firstLoadBytes(browser, server) {
  const context = await browser.newContext();
  const collector = await watchContext(context, { origin: server.origin });
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  // Per request: its URL, status, encoding, bytes received, and whether it
  // finished. A fetch whose answer the page never reads never finishes in
  // Chromium's eyes: its bytes so far (headers and the body chunks Chromium
  // reports) are counted, and it is marked.
  const resources = new Map();
  let lastActivity = Date.now();
  const resource = (requestId) => {
    if (!resources.has(requestId)) resources.set(requestId, { url: '', status: '', encoding: '', bytes: 0, streamed: 0, finished: false, answered: false });
    lastActivity = Date.now();
    return resources.get(requestId);
  };
  cdp.on('Network.requestWillBeSent', ({ requestId, request }) => {
    resource(requestId).url = request.url;
  });
  cdp.on('Network.responseReceived', ({ requestId, response }) => {
    const r = resource(requestId);
    r.url = response.url;
    r.status = response.status;
    r.encoding = response.headers['content-encoding'] ?? response.headers['Content-Encoding'] ?? '';
    r.bytes = response.encodedDataLength ?? 0;
    r.answered = true;
  });
  cdp.on('Network.dataReceived', ({ requestId, encodedDataLength }) => {
    resource(requestId).streamed += encodedDataLength;
  });
  cdp.on('Network.loadingFinished', ({ requestId, encodedDataLength }) => {
    const r = resource(requestId);
    r.bytes = encodedDataLength;
    r.finished = true;
  });
  cdp.on('Network.loadingFailed', ({ requestId }) => {
    const r = resource(requestId);
    r.finished = true;
    r.failed = true;
  });
  await page.goto(`${server.base}/`);
  await waitForPage(page, 'sign-in');
  // Whatever the page fetches once ready counts too: wait until every
  // request has its answer and nothing happened for 500 ms (at most 10 s).
  const deadline = Date.now() + 10_000;
  const waiting = () => [...resources.values()].filter((r) => !r.answered && !r.finished);
  while ((waiting().length || Date.now() - lastActivity < 500) && Date.now() < deadline) {
    await new Promise((ok) => setTimeout(ok, 50));
  }
  if (waiting().length) throw new Error(`no answer after 10 s to ${waiting().map((r) => r.url).join(', ')}`);
  await context.close();
  const list = [...resources.values()].map((r) => ({ ...r, bytes: r.finished ? r.bytes : r.bytes + r.streamed }));
  return { total: list.reduce((sum, r) => sum + r.bytes, 0), list, problems: collector.problems() };
}

async function interactiveTimes(browser, server) {
  const times = [];
  for (let i = 0; i < RUNS; i++) {
    const context = await browser.newContext();
    await context.addInitScript(noteSignInReady);
    const page = await context.newPage();
    await page.goto(`${server.base}/`);
    await page.waitForFunction(() => globalThis.__nruReadyAt !== undefined, null, { timeout: 15_000 }).catch(async () => {
      await waitForPage(page, 'sign-in'); // says what the page showed instead
      throw new Error('the sign-in page was ready but its "Email address" input was not enabled');
    });
    times.push(await page.evaluate(() => globalThis.__nruReadyAt));
    await context.close();
  }
  return times;
}

async function myRequestsTimes(browser, server) {
  const admin = await server.adminToken();
  const practitioner = await server.createUser(admin, { role: 'practitioner' });
  const token = await server.signIn(practitioner.email, practitioner.password);
  const started = Date.now();
  // A few at a time: the server writes through one SQLite writer anyway.
  for (let i = 0; i < REQUESTS; i += 4) {
    await Promise.all(
      Array.from({ length: Math.min(4, REQUESTS - i) }, (_, j) =>
        server.submitRequest(token, { title: `Budget request ${i + j + 1}` }),
      ),
    );
  }
  log(`  seeded ${REQUESTS} requests in ${Date.now() - started} ms`);

  const context = await browser.newContext();
  await startSession(context, server.base, practitioner);
  const page = await context.newPage();
  await page.goto(server.base + args.from);
  const fromPage = await page.waitForFunction(
    () => document.querySelector('main#main-content[aria-busy="false"]')?.dataset.page,
    null,
    { timeout: 15_000 },
  ).then(
    (h) => h.jsonValue(),
    async () => {
      throw new Error(`no page of the app was ready at ${args.from} within 15 s; the browser shows ${await describePage(page)}`);
    },
  );
  const times = [];
  // One more run than counted: the first warms the modules of the page.
  for (let i = 0; i <= RUNS; i++) {
    const ms = await page.evaluate(
      () =>
        new Promise((ok, fail) => {
          const link =
            [...document.querySelectorAll('a')].find((a) => a.textContent.trim() === 'My requests') ??
            document.querySelector('a[href="/requests"]');
          if (!link) return fail(new Error('no "My requests" link on this page'));
          let start;
          const observer = new MutationObserver(() => {
            if (document.querySelector('main#main-content[data-page="my-requests"][aria-busy="false"]')) {
              void document.body.offsetHeight;
              observer.disconnect();
              clearTimeout(timer);
              ok(performance.now() - start);
            }
          });
          observer.observe(document, { subtree: true, childList: true, attributes: true });
          const timer = setTimeout(() => {
            observer.disconnect();
            fail(new Error('"My requests" was not ready within 15 s'));
          }, 15_000);
          start = performance.now();
          link.click();
        }),
    );
    const rows = await page.locator('main tbody tr').count();
    if (i === 0) log(`  my requests shows ${rows} table rows (first, uncounted run: ${ms.toFixed(1)} ms)`);
    else times.push(ms);
    await page.goBack();
    await page.waitForFunction(
      (name) => !!document.querySelector(`main#main-content[data-page="${name}"][aria-busy="false"]`),
      fromPage,
      { timeout: 15_000 },
    );
  }
  await context.close();
  return times;
}

const rows = [];
let unmeasured = 0;
async function measure(label, budgetText, run, judge) {
  try {
    const { figure, pass, detail } = await run().then(judge);
    rows.push([label, figure, budgetText, pass ? 'pass' : 'FAIL']);
    if (detail) log(detail);
    return pass;
  } catch (error) {
    unmeasured += 1;
    rows.push([label, 'not measured', budgetText, 'ERROR']);
    log(`${label}: ${error.message}`);
    return false;
  }
}

const server = await startServer();
const browser = await launchBrowser();
const binary = serverBinary();
log(`budgets: Chromium ${browser.version()}, server ${binary}, ${RUNS} runs`);
if (binary.includes('/debug/')) log('  a debug build of the server: timings are pessimistic (scripts/web-test --release --budgets for a release build)');
let over = false;
try {
  over =
    !(await measure(
      'first load of / (cold cache), bytes over the wire',
      `${BUDGETS.bytes / 1000} KB`,
      () => firstLoadBytes(browser, server),
      ({ total, list, problems }) => ({
        figure: `${(total / 1000).toFixed(1)} KB`,
        pass: total <= BUDGETS.bytes,
        detail: [
          args.verbose || total > BUDGETS.bytes
            ? list.map((r) => `  ${String(r.bytes).padStart(8)}  ${r.status} ${r.encoding || 'identity'}  ${r.url}${r.finished ? '' : '  (answer not read by the page: headers and the body bytes seen)'}`).join('\n')
            : '',
          problems.length ? `  the page reported problems (not part of the budget):\n${describeEntries(problems)}` : '',
        ].filter(Boolean).join('\n'),
      }),
    )) || over;
  over =
    !(await measure(
      `sign-in page interactive after navigation (median of ${RUNS} cold loads)`,
      `${BUDGETS.interactiveMs} ms`,
      () => interactiveTimes(browser, server),
      (times) => ({
        figure: `${median(times).toFixed(0)} ms`,
        pass: median(times) <= BUDGETS.interactiveMs,
        detail: `  interactive: ${times.map((t) => t.toFixed(0)).join(', ')} ms`,
      }),
    )) || over;
  over =
    !(await measure(
      `"My requests" with ${REQUESTS} requests rendered after the click (median of ${RUNS})`,
      `${BUDGETS.myRequestsMs} ms`,
      () => myRequestsTimes(browser, server),
      (times) => ({
        figure: `${median(times).toFixed(0)} ms`,
        pass: median(times) <= BUDGETS.myRequestsMs,
        detail: `  my requests: ${times.map((t) => t.toFixed(0)).join(', ')} ms`,
      }),
    )) || over;
} finally {
  await browser.close();
  await server.stop();
}

const widths = [0, 1, 2, 3].map((i) => Math.max(...[['measure', 'figure', 'budget', 'result'], ...rows].map((r) => r[i].length)));
const line = (r) => `| ${r.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
console.log(line(['measure', 'figure', 'budget', 'result']));
console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
for (const r of rows) console.log(line(r));
process.exit(unmeasured ? 2 : over ? 1 : 0);
