// The practitioner's account: what it holds, which emails they get, and
// changing their password.

import assert from 'node:assert/strict';

import { SIGNED_OUT_REFRESH_401, checkAxe, signInWithForm, waitForPage, webTest } from './harness.mjs';
import { expectApi, openSignedIn } from './lib/steps.mjs';

webTest('the account page shows the account, and email choices are saved except the safety-critical ones', async ({ page, server, unit }) => {
  const { practitioner } = await unit();
  await openSignedIn(page, server, practitioner, '/account', 'account');
  const details = await page.locator('.govuk-summary-list').innerText();
  assert.match(details, new RegExp(`Email address\\s+${practitioner.email.replace('.', '\\.')}`));
  assert.match(details, /Role\s+Practitioner[\s\S]*Organisation\s+Police[\s\S]*Region\s+London/);
  await checkAxe(page, 'the account page');

  await page.getByRole('link', { name: 'Choose which emails you get' }).click();
  await waitForPage(page, 'preferences');
  await checkAxe(page, 'the email choices page');
  const reply = page.getByLabel('A new reply on your request');
  assert.equal(await reply.isChecked(), true);
  await reply.uncheck();
  await page.getByRole('button', { name: 'Save' }).click();
  await waitForPage(page, 'account');
  await page.getByText('Your email choices have been saved.').waitFor();

  const saved = await expectApi(server, practitioner.token, 'GET', '/me/notification-preferences', 200);
  const byEvent = Object.fromEntries(saved.body.events.map((e) => [e.event, e]));
  assert.equal(byEvent.reply_posted.enabled, false);
  for (const event of saved.body.events.filter((e) => e.safety_critical)) {
    assert.equal(event.enabled, true, `${event.event} stays on`);
  }
  await page.getByRole('link', { name: 'Choose which emails you get' }).click();
  await waitForPage(page, 'preferences');
  assert.equal(await page.getByLabel('A new reply on your request').isChecked(), false, 'the page shows what was saved');
});

webTest(
  'changing the password: a wrong current password and a mismatch are errors, then the new password signs in',
  {
    allow: [SIGNED_OUT_REFRESH_401, /status of 422 .*\/api\/v1\/me\/password\]$/],
  },
  async ({ page, server, unit }) => {
    const { practitioner } = await unit();
    await openSignedIn(page, server, practitioner, '/account', 'account');
    await page.getByRole('link', { name: 'Change your password' }).click();
    await waitForPage(page, 'change-password');

    await page.getByLabel('Current password').fill('not my password');
    await page.getByLabel('New password', { exact: true }).fill('a long new password 2026');
    await page.getByLabel('Confirm new password').fill('a long new password 2025');
    await page.getByRole('button', { name: 'Change password' }).click();
    await page.locator('.govuk-error-summary').getByText('The new passwords do not match').waitFor();
    await checkAxe(page, 'the change-password page with a mismatch');

    await page.getByLabel('Confirm new password').fill('a long new password 2026');
    await page.getByRole('button', { name: 'Change password' }).click();
    await page.locator('.govuk-error-summary').getByText('Current password: is not your current password').waitFor();
    await checkAxe(page, 'the change-password page with a wrong current password');

    await page.getByLabel('Current password').fill(practitioner.password);
    await page.getByRole('button', { name: 'Change password' }).click();
    await waitForPage(page, 'account');
    await page.getByText('Your password has been changed.').waitFor();

    await page.getByRole('button', { name: 'Sign out' }).click();
    await waitForPage(page, 'signed-out');
    assert.equal(
      await signInWithForm(page, server.base, { email: practitioner.email, password: 'a long new password 2026' }),
      'my-requests',
    );
  },
);

webTest(
  'the first sign-in with a password an admin set asks for a new password before anything else',
  { allow: [SIGNED_OUT_REFRESH_401] },
  async ({ page, server, unit }) => {
    const { admin } = await unit();
    const person = await server.createUser(admin.token, { role: 'practitioner', password_change_required: true });
    assert.equal(await signInWithForm(page, server.base, person, { path: '/requests/new' }), 'change-password');
    const { heading } = await waitForPage(page, 'change-password');
    assert.equal(heading, 'Choose your own password');
    await page.getByText('Your password was set by an administrator.').waitFor();
    assert.deepEqual(await page.locator('nav li').allInnerTexts(), ['Sign out'], 'nothing else is offered meanwhile');
    await checkAxe(page, 'the forced change of password');

    await page.getByLabel('The password you were given').fill(person.password);
    await page.getByLabel('New password', { exact: true }).fill('my very own password 77');
    await page.getByLabel('Confirm new password').fill('my very own password 77');
    await page.getByRole('button', { name: 'Change password' }).click();
    await waitForPage(page, 'submit');
    await page.getByText('Your password has been changed.').waitFor();
    const me = await expectApi(server, await server.signIn(person.email, 'my very own password 77'), 'GET', '/me', 200);
    assert.equal(me.body.password_change_required, false);
  },
);
