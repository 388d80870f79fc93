// A practitioner's requests: the list with its filters and pages, a
// request with its conversation (replies only, never internal notes), the
// reply box, the lifecycle actions each confirmed first, "this request
// changed" on a 412, and one "not found" page for all that is not theirs.

import assert from 'node:assert/strict';

import { checkAxe, waitForPage, webTest } from './harness.mjs';
import { actOn, assertNotShown, expectApi, focused, handToSpecialist, openSignedIn, tabTo } from './lib/steps.mjs';

const STALE = /status of 412 .*\/api\/v1\/requests\/[0-9a-f-]+(\/withdraw)?\]$/;
const NOT_FOUND = /status of 404 .*\/api\/v1\/requests\/[^\]]+\]$/;

webTest(
  'My requests shows each request, makes "asked for information" stand out, filters by status and pages with cursors',
  async ({ page, server, unit }) => {
    const people = await unit();
    const { practitioner, specialist } = people;
    const made = [];
    for (let i = 1; i <= 55; i += 1) {
      made.push(await server.submitRequest(practitioner.token, { title: `Listed request ${String(i).padStart(2, '0')}` }));
    }
    const asked = made[54];
    await handToSpecialist(server, people, asked.id);
    await actOn(server, specialist, asked.id, 'request-information');

    await openSignedIn(page, server, practitioner, '/requests', 'my-requests');
    await page.getByText('The unit has asked you for information on one request.').waitFor();
    const rows = page.locator('table tbody tr');
    assert.equal(await rows.count(), 50, 'the first page holds 50');
    const first = await rows.first().innerText();
    assert.match(first, new RegExp(`${asked.reference}\\s+Listed request 55\\s+The unit has asked you for information\\s+\\d{1,2} \\w+ \\d{4} at \\d{2}:\\d{2}`));
    assert.equal(await page.locator('tr.nru-row--asked').count(), 1, 'that row stands out');
    await checkAxe(page, 'My requests with a request awaiting the practitioner');

    await page.getByRole('button', { name: 'Next page' }).click();
    await page.getByText('Listed request 01').waitFor();
    assert.equal(await rows.count(), 5);
    await page.getByRole('button', { name: 'Previous page' }).click();
    await page.getByText('Listed request 50').waitFor();
    assert.equal(await rows.count(), 50);

    await page.getByLabel('Show requests that are').selectOption('awaiting_requester');
    await page.getByRole('button', { name: 'Show' }).click();
    await page.waitForURL(/\/requests\?status=awaiting_requester$/);
    await waitForPage(page, 'my-requests');
    await page.getByText('Requests that are: The unit has asked you for information').waitFor();
    assert.equal(await rows.count(), 1);
    await checkAxe(page, 'My requests filtered by status');

    await page.getByRole('link', { name: asked.reference }).click();
    await waitForPage(page, 'request');
  },
);

webTest(
  "a specialist's reply appears for the practitioner while an internal note never does, and the practitioner's reply answers the unit",
  async ({ page, server, unit }) => {
    const people = await unit();
    const { practitioner, specialist } = people;
    const request = await server.submitRequest(practitioner.token, { title: 'Conversation request' });
    await handToSpecialist(server, people, request.id);
    await expectApi(server, specialist.token, 'POST', `/requests/${request.id}/messages`, 201, {
      kind: 'internal_note',
      body: 'INTERNAL NOTE: staff only, similar to an earlier case.',
    });
    await expectApi(server, specialist.token, 'POST', `/requests/${request.id}/messages`, 201, {
      kind: 'reply',
      body: 'Thank you. Does the young person have an allocated social worker?',
    });
    await actOn(server, specialist, request.id, 'request-information');

    await openSignedIn(page, server, practitioner, `/requests/${request.id}`, 'request');
    await page.getByText('The unit has asked you for information. Reply below.').waitFor();
    const conversation = page.locator('.nru-conversation');
    assert.match(await conversation.innerText(), /The unit[\s\S]*Does the young person have an allocated social worker\?/);
    await assertNotShown(page, 'INTERNAL NOTE');
    await checkAxe(page, 'a request awaiting the practitioner');

    await page.getByLabel('Reply to the unit').fill('Yes, she has a social worker in the local authority.');
    await page.getByRole('button', { name: 'Send reply' }).click();
    await page.getByText('Your reply has been sent to the unit.').waitFor();
    await conversation.getByText('Yes, she has a social worker in the local authority.').waitFor();
    await page.locator('main .govuk-tag', { hasText: 'With a specialist' }).waitFor();
    assert.equal(await page.getByLabel('Reply to the unit').inputValue(), '');
    await assertNotShown(page, 'INTERNAL NOTE');
    await checkAxe(page, 'a request after a reply');

    const stored = await expectApi(server, specialist.token, 'GET', `/requests/${request.id}`, 200);
    assert.equal(stored.body.status, 'assigned');
  },
);

webTest('withdraw, reopen and close are each confirmed before they are sent', async ({ page, server, unit }) => {
  const people = await unit();
  const { practitioner, specialist } = people;
  const withdrawn = await server.submitRequest(practitioner.token, { title: 'To be withdrawn' });
  await openSignedIn(page, server, practitioner, `/requests/${withdrawn.id}`, 'request');

  await page.getByRole('button', { name: 'Withdraw this request' }).click();
  await page.getByText('Withdraw this request? The unit will stop working on it').waitFor();
  await checkAxe(page, 'the withdraw confirmation');
  await page.getByRole('button', { name: 'Cancel' }).click();
  assert.equal((await expectApi(server, practitioner.token, 'GET', `/requests/${withdrawn.id}`, 200)).body.status, withdrawn.status, 'cancel sends nothing');
  await page.getByRole('button', { name: 'Withdraw this request' }).click();
  await page.getByRole('button', { name: 'Yes, withdraw it' }).click();
  await page.getByText('You have withdrawn the request.').waitFor();
  await page.getByText('This request is withdrawn: it takes no more replies.').waitFor();
  assert.equal(await page.getByLabel('Reply to the unit').count(), 0);
  assert.equal((await expectApi(server, practitioner.token, 'GET', `/requests/${withdrawn.id}`, 200)).body.status, 'withdrawn');

  const answered = await server.submitRequest(practitioner.token, { title: 'To be answered' });
  await handToSpecialist(server, people, answered.id);
  await actOn(server, specialist, answered.id, 'resolve');
  await page.goto(`${server.base}/requests/${answered.id}`);
  await waitForPage(page, 'request');
  await page.getByRole('button', { name: 'Reopen the request' }).click();
  await page.getByRole('button', { name: 'Yes, reopen it' }).click();
  await page.getByText('The request is open again.').waitFor();
  assert.equal((await expectApi(server, practitioner.token, 'GET', `/requests/${answered.id}`, 200)).body.status, 'assigned');

  await actOn(server, specialist, answered.id, 'resolve');
  await page.reload();
  await waitForPage(page, 'request');
  await page.getByRole('button', { name: 'The answer is enough: close the request' }).click();
  await page.getByRole('button', { name: 'Yes, close it' }).click();
  await page.getByText('The request is closed. Thank you for confirming.').waitFor();
  assert.equal((await expectApi(server, practitioner.token, 'GET', `/requests/${answered.id}`, 200)).body.status, 'closed');
  await checkAxe(page, 'a closed request');
});

webTest(
  'a change made elsewhere while a page is open shows "this request changed" and nothing is overwritten',
  { allow: [STALE] },
  async ({ page, server, unit }) => {
    const { practitioner } = await unit();
    const request = await server.submitRequest(practitioner.token, { title: 'Edited in two places' });
    await openSignedIn(page, server, practitioner, `/requests/${request.id}/edit`, 'edit');
    await page.getByLabel('Title').fill('My edit that must not overwrite');

    // Meanwhile the same request is changed elsewhere (another tab, or the practitioner's own system).
    const current = await expectApi(server, practitioner.token, 'GET', `/requests/${request.id}`, 200);
    await expectApi(server, practitioner.token, 'PATCH', `/requests/${request.id}`, 200, { local_reference: 'CHANGED-ELSEWHERE' }, { 'if-match': current.headers.etag });

    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByText('This request changed since you opened it, so your changes have not been saved.').waitFor();
    await checkAxe(page, 'the edit page after a 412');
    let stored = (await expectApi(server, practitioner.token, 'GET', `/requests/${request.id}`, 200)).body;
    assert.equal(stored.title, 'Edited in two places');
    await page.getByRole('button', { name: 'Reload the request' }).click();
    await page.waitForFunction(() => document.getElementById('f-local_reference')?.value === 'CHANGED-ELSEWHERE');
    await page.getByLabel('Title').fill('Edited after reloading');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await waitForPage(page, 'request');
    await page.getByText('Your changes have been saved.').waitFor();
    stored = (await expectApi(server, practitioner.token, 'GET', `/requests/${request.id}`, 200)).body;
    assert.equal(stored.title, 'Edited after reloading');
    assert.equal(stored.local_reference, 'CHANGED-ELSEWHERE');

    // An action on a stale page is refused the same way.
    const again = await expectApi(server, practitioner.token, 'GET', `/requests/${request.id}`, 200);
    await expectApi(server, practitioner.token, 'PATCH', `/requests/${request.id}`, 200, { local_reference: 'CHANGED-AGAIN' }, { 'if-match': again.headers.etag });
    await page.getByRole('button', { name: 'Withdraw this request' }).click();
    await page.getByRole('button', { name: 'Yes, withdraw it' }).click();
    await page.getByText('This request changed since you opened it, so nothing was done.').waitFor();
    assert.notEqual((await expectApi(server, practitioner.token, 'GET', `/requests/${request.id}`, 200)).body.status, 'withdrawn');
    await page.getByRole('button', { name: 'Reload the request' }).click();
    await page.getByText('CHANGED-AGAIN').waitFor();
  },
);

webTest(
  "another practitioner's request, one that does not exist and a malformed id all show the same not-found page",
  { allow: [NOT_FOUND] },
  async ({ page, server, unit }) => {
    const { practitioner, otherPractitioner } = await unit();
    const theirs = await server.submitRequest(otherPractitioner.token, { title: 'Not yours to see' });
    await openSignedIn(page, server, practitioner, '/requests', 'my-requests');
    const shown = [];
    for (const path of [
      `/requests/${theirs.id}`,
      '/requests/01936f3e-0000-7000-8000-000000000000',
      '/requests/not-a-request-id',
      `/requests/${theirs.id}/edit`,
      '/no/such/page',
    ]) {
      await page.goto(server.base + path);
      const { heading } = await waitForPage(page, 'not-found');
      assert.equal(heading, 'Page not found');
      shown.push(await page.locator('main').innerText());
      await assertNotShown(page, 'Not yours to see');
    }
    assert.equal(new Set(shown).size, 1, 'every case shows exactly the same page');
    await checkAxe(page, 'the not-found page');
  },
);

webTest('replying and withdrawing work with the keyboard alone, and the confirmation takes focus', async ({ page, server, unit }) => {
  const { practitioner } = await unit();
  const request = await server.submitRequest(practitioner.token, { title: 'Worked by keyboard' });
  await openSignedIn(page, server, practitioner, '/requests', 'my-requests');
  await tabTo(page, page.getByRole('link', { name: request.reference }));
  await page.keyboard.press('Enter');
  await waitForPage(page, 'request');

  await tabTo(page, page.getByLabel('Reply to the unit'));
  await page.keyboard.type('Typed without a mouse.');
  await tabTo(page, page.getByRole('button', { name: 'Send reply' }));
  await page.keyboard.press('Enter');
  await page.getByText('Your reply has been sent to the unit.').waitFor();
  assert.equal(await focused(page), 'div', 'the success banner takes focus');

  await tabTo(page, page.getByRole('button', { name: 'Withdraw this request' }));
  await page.keyboard.press('Enter');
  await page.getByText('Withdraw this request? The unit will stop working on it').waitFor();
  assert.equal(await page.evaluate(() => document.activeElement.className), 'nru-confirm', 'the question takes focus');
  await tabTo(page, page.getByRole('button', { name: 'Yes, withdraw it' }));
  await page.keyboard.press('Enter');
  await page.getByText('You have withdrawn the request.').waitFor();
  const stored = await expectApi(server, practitioner.token, 'GET', `/requests/${request.id}`, 200);
  assert.equal(stored.body.status, 'withdrawn');
  assert.equal(stored.body.message_count, 1);
});
