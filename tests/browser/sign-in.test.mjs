// Signing in and out in a browser: the form's error states, the keyboard,
// the throttle's wait in plain words, deep links from emails, a session
// that survives a reload and ends at sign-out or when the API refuses it.

import assert from 'node:assert/strict';

import {
  SIGNED_OUT_REFRESH_401, checkAxe, signInWithForm, startServer, waitForPage, webTest,
} from './harness.mjs';
import { assertNotShown, focused, tabTo } from './lib/steps.mjs';

const REFUSED = (status, path) =>
  new RegExp(`status of ${status} .*\\[http://127\\.0\\.0\\.1:\\d+/api/v1/${path}\\]$`);

webTest(
  'signing in with the keyboard alone: empty and wrong answers show errors, then My requests opens',
  { allow: [SIGNED_OUT_REFRESH_401, REFUSED(401, 'auth/login')] },
  async ({ page, server, unit }) => {
    const { practitioner } = await unit();
    await page.goto(`${server.base}/`);
    await waitForPage(page, 'sign-in');
    await checkAxe(page, 'the sign-in page');

    await tabTo(page, page.getByRole('button', { name: 'Sign in' }));
    await page.keyboard.press('Enter');
    await page.getByText('Enter your email address').first().waitFor();
    assert.equal(await focused(page), 'div', 'the error summary takes focus');
    assert.match(await page.locator('.govuk-error-summary').innerText(), /Enter your email address\s+Enter your password/);
    await checkAxe(page, 'the sign-in page with empty fields');

    await tabTo(page, page.getByLabel('Email address'));
    await page.keyboard.type(practitioner.email);
    await tabTo(page, page.getByLabel('Password'));
    await page.keyboard.type('not the password');
    await page.keyboard.press('Enter');
    await page.locator('.govuk-error-summary').getByText('Enter a correct email address and password').waitFor();
    await checkAxe(page, 'the sign-in page after a wrong password');
    assert.equal(await page.getByLabel('Password').inputValue(), '', 'a refused password is cleared');

    await tabTo(page, page.getByLabel('Password'));
    await page.keyboard.type(practitioner.password);
    await page.keyboard.press('Enter');
    const { heading } = await waitForPage(page, 'my-requests');
    assert.equal(heading, 'My requests');
    assert.equal(await focused(page), 'h1: My requests', 'focus moves to the new page heading');
  },
);

webTest(
  "a link to a request (as in the unit's emails) opens that request once the person has signed in",
  { allow: [SIGNED_OUT_REFRESH_401] },
  async ({ page, server, unit }) => {
    const { practitioner } = await unit();
    const request = await server.submitRequest(practitioner.token, { title: 'Deep link request' });
    await page.goto(`${server.base}/requests/${request.id}`);
    await waitForPage(page, 'sign-in');
    await page.getByText('Sign in to see the request you followed a link to.').waitFor();
    await page.getByLabel('Email address').fill(practitioner.email);
    await page.getByLabel('Password').fill(practitioner.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    const { heading } = await waitForPage(page, 'request');
    assert.equal(heading, `${request.reference}Deep link request`);
    assert.equal(new URL(page.url()).pathname, `/requests/${request.id}`);
  },
);

webTest(
  "the sign-in throttle shows how long to wait, in plain words",
  {
    server: () => startServer({ env: { APP__AUTH__LOGIN_MAX_FAILURES_PER_ACCOUNT_ADDRESS: '2' } }),
    allow: [SIGNED_OUT_REFRESH_401, REFUSED(401, 'auth/login'), REFUSED(429, 'auth/login')],
  },
  async ({ page, server, unit }) => {
    const { practitioner } = await unit();
    await page.goto(`${server.base}/`);
    await waitForPage(page, 'sign-in');
    for (let attempt = 0; attempt < 3; attempt += 1) {
      await page.getByLabel('Email address').fill(practitioner.email);
      await page.getByLabel('Password').fill('wrong password');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.locator('.govuk-error-summary').waitFor();
      await page.getByRole('button', { name: 'Sign in' }).and(page.locator(':enabled')).waitFor();
    }
    const summary = await page.locator('.govuk-error-summary').innerText();
    assert.match(summary, /Too many failed attempts to sign in\. Wait \d+ (minutes?|seconds?), then try again\./);
    await checkAxe(page, 'the sign-in page when throttled');
  },
);

webTest(
  'the session survives a reload; sign-out ends it, and Back shows nothing of it',
  { allow: [SIGNED_OUT_REFRESH_401] },
  async ({ page, server, unit }) => {
    const { practitioner } = await unit();
    await server.submitRequest(practitioner.token, { title: 'Kept only in memory' });
    assert.equal(await signInWithForm(page, server.base, practitioner), 'my-requests');
    await page.getByText('Kept only in memory').waitFor();

    await page.reload();
    await waitForPage(page, 'my-requests');
    await page.getByText('Kept only in memory').waitFor();
    await page.getByRole('link', { name: 'Your account' }).click();
    await waitForPage(page, 'account');

    await page.getByRole('button', { name: 'Sign out' }).click();
    await waitForPage(page, 'signed-out');
    await checkAxe(page, 'the signed-out page');
    await assertNotShown(page, 'Kept only in memory');

    await page.goBack();
    assert.equal(new URL(page.url()).pathname, '/requests');
    await waitForPage(page, 'sign-in');
    await assertNotShown(page, 'Kept only in memory');
    await page.reload();
    await waitForPage(page, 'sign-in');
  },
);

webTest(
  'when the API refuses to refresh the session, the sign-in page says the session has ended',
  {
    server: () => startServer({ env: { APP__AUTH__ACCESS_TOKEN_TTL_SECONDS: '3' } }),
    allow: [SIGNED_OUT_REFRESH_401, REFUSED(401, 'auth/(refresh|logout)')],
  },
  async ({ page, server, unit }) => {
    const { admin, practitioner } = await unit();
    assert.equal(await signInWithForm(page, server.base, practitioner), 'my-requests');
    // An admin sets a new password: every session of the account ends.
    const reset = await server.api(admin.token, 'PUT', `/users/${practitioner.id}/password`, { password: 'a brand new password 1' });
    assert.equal(reset.status, 204);
    // The client refreshes ahead of the token's expiry and is refused.
    await waitForPage(page, 'sign-in', { timeout: 10_000 });
    await page.getByText('Your session has ended. Sign in again to carry on.').waitFor();
    await checkAxe(page, 'the sign-in page after a refused refresh');
  },
);
