// One session shared by several tabs: refreshes never collide (the API
// would take a refresh token used twice for a stolen one and end the
// session), sign-out reaches every tab, and an idle session warns first,
// then ends in every tab.

import assert from 'node:assert/strict';

import { SIGNED_OUT_REFRESH_401, checkAxe, startServer, waitForPage, webTest } from './harness.mjs';
import { assertNotShown, openSignedIn } from './lib/steps.mjs';

/** Runs the client's own refresh in the page, `rounds` times, each spending the cookie unless another tab just did. */
function refreshInPage(page, rounds) {
  return page.evaluate(async (n) => {
    const main = document.querySelector('script[type="module"]').src;
    const session = await import(main.replace(/main\.mjs$/, 'session.mjs'));
    const got = [];
    for (let i = 0; i < n; i += 1) {
      const token = await session.accessToken();
      got.push(await session.refreshAfter(token));
    }
    return got;
  }, rounds);
}

webTest(
  'two tabs refreshing at the same moment keep the session: refreshes are serialised across tabs',
  async ({ page, newPage, server, unit }) => {
    const { practitioner } = await unit();
    await openSignedIn(page, server, practitioner, '/requests', 'my-requests');
    const other = await newPage();
    await other.goto(`${server.base}/requests`);
    await waitForPage(other, 'my-requests');

    const [first, second] = await Promise.all([refreshInPage(page, 8), refreshInPage(other, 8)]);
    assert.ok([...first, ...second].every((token) => typeof token === 'string' && token.length > 20), 'every refresh gave a token');

    // Had two refreshes spent the same cookie, the API would have ended the
    // session: both tabs would now be back at the sign-in page.
    for (const tab of [page, other]) {
      await tab.reload();
      await waitForPage(tab, 'my-requests');
    }
  },
);

webTest('signing out in one tab signs out every tab and clears what they showed', async ({ page, newPage, server, unit }) => {
  const { practitioner } = await unit();
  const request = await server.submitRequest(practitioner.token, { title: 'Shown in two tabs' });
  await openSignedIn(page, server, practitioner, `/requests/${request.id}`, 'request');
  const other = await newPage();
  await other.goto(`${server.base}/requests/${request.id}`);
  await waitForPage(other, 'request');
  await other.getByText('Shown in two tabs').first().waitFor();

  await page.getByRole('button', { name: 'Sign out' }).click();
  await waitForPage(page, 'signed-out');
  await waitForPage(other, 'signed-out');
  await assertNotShown(other, 'Shown in two tabs');
});

webTest(
  'an idle session warns in every tab, a key press in any tab keeps it, and then it signs every tab out saying why',
  {
    server: () => startServer({ env: { APP__AUTH__IDLE_TIMEOUT_SECONDS: '9' } }),
    allow: [SIGNED_OUT_REFRESH_401],
  },
  async ({ page, newPage, server, unit }) => {
    const { practitioner } = await unit();
    await openSignedIn(page, server, practitioner, '/requests', 'my-requests');
    const other = await newPage();
    await other.goto(`${server.base}/account`);
    await waitForPage(other, 'account');

    // With 9 s of allowed idleness the warning shows for the last 3 s.
    const warning = page.getByRole('dialog', { name: 'You are about to be signed out' });
    await warning.waitFor({ timeout: 10_000 });
    await other.getByRole('dialog', { name: 'You are about to be signed out' }).waitFor();
    await checkAxe(page, 'a page with the idle warning open');

    // Activity in the other tab keeps both signed in.
    await other.keyboard.press('Shift');
    await warning.waitFor({ state: 'detached' });
    await waitForPage(page, 'my-requests');

    // Then nothing happens: both tabs end up at the sign-in page with the reason.
    for (const tab of [page, other]) {
      await waitForPage(tab, 'sign-in', { timeout: 15_000 });
      await tab.getByText(/You were signed out because there was no activity for \d+ minutes?\./).waitFor();
    }
    await checkAxe(page, 'the sign-in page after an idle sign-out');
    await page.reload();
    await waitForPage(page, 'sign-in');
  },
);
