// Submitting a guidance request: the guided form with its warnings, errors
// from the form and from the API in one summary linked to the fields, the
// keyboard alone, exactly one request however often the button is pressed
// or the answer is lost, and a confirmation with the reference and due time.

import assert from 'node:assert/strict';

import { checkAxe, waitForPage, webTest } from './harness.mjs';
import { assertNothingStored, createTriageTeams, focused, openSignedIn, recordUrls, tabTo } from './lib/steps.mjs';

const UNPROCESSABLE = /status of 422 .*\/api\/v1\/requests\]$/;

async function fillValidForm(page, title) {
  await page.getByLabel('Title').fill(title);
  await page.getByLabel('Describe the concern').fill('A 15-year-old is being asked to carry packages between two towns.');
  await page.getByLabel('Child criminal exploitation').check();
  await page.getByLabel(/^High:/).check();
  await page.getByLabel('I know their age').check();
  await page.getByLabel('Age in years').fill('15');
  await page.getByLabel('Missing from home').check();
  await page.getByLabel('Phone').check();
}

async function countRequests(server, person) {
  const list = await server.api(person.token, 'GET', '/requests?limit=100');
  return list.body.items.length;
}

webTest(
  'the form says 999 comes first and warns against names, and its errors link to their fields',
  { allow: [UNPROCESSABLE] },
  async ({ page, server, unit }) => {
    const { practitioner } = await unit();
    await openSignedIn(page, server, practitioner, '/requests/new', 'submit');
    await page.getByText('If a child is in immediate danger, call 999 now.').waitFor();
    await page.getByText("Do not include anyone's name.").waitFor();
    await checkAxe(page, 'the submit form');

    await page.getByRole('button', { name: 'Send request' }).click();
    const summary = page.locator('.govuk-error-summary');
    await summary.waitFor();
    for (const message of [
      'Enter a title for your request',
      'Describe the concern',
      'Select the kind of exploitation',
      'Select how urgent the case is',
      'Select how the unit should contact you',
    ]) {
      await summary.getByRole('link', { name: message }).waitFor();
    }
    await checkAxe(page, 'the submit form with empty fields');
    await summary.getByRole('link', { name: 'Select how urgent the case is' }).click();
    assert.equal(await focused(page), 'input#f-urgency', 'the link moves focus to the first urgency radio');

    // Now errors only the API finds: a title too short, a description too short.
    await fillValidForm(page, 'ab');
    await page.getByLabel('Describe the concern').fill('too short');
    await page.getByRole('button', { name: 'Send request' }).click();
    await summary.getByRole('link', { name: /^Title: / }).waitFor();
    await summary.getByRole('link', { name: /^Description: / }).waitFor();
    assert.match(await page.locator('#f-title-error').innerText(), /Title: /, 'the error shows beside the field too');
    await checkAxe(page, 'the submit form with errors from the API');
    await summary.getByRole('link', { name: /^Title: / }).click();
    assert.equal(await focused(page), 'input#f-title');
    assert.equal(await countRequests(server, practitioner), 0);
  },
);

webTest('a practitioner submits a request with the keyboard alone and sees its reference and due time', async ({ page, server, unit, context }) => {
  const { admin, practitioner } = await unit();
  await createTriageTeams(server, admin);
  const visited = recordUrls(context);
  await openSignedIn(page, server, practitioner, '/requests', 'my-requests');
  await tabTo(page, page.getByRole('link', { name: 'New request' }));
  await page.keyboard.press('Enter');
  await waitForPage(page, 'submit');

  const title = 'Keyboard only county lines concern';
  await tabTo(page, page.getByLabel('Title'));
  await page.keyboard.type(title);
  await tabTo(page, page.getByLabel('Describe the concern'));
  await page.keyboard.type('Older teenagers are asking a 14-year-old to hold packages after school.');
  await tabTo(page, page.locator('#f-category'));
  await page.keyboard.press('ArrowDown'); // moves to and selects the second kind
  await tabTo(page, page.locator('#f-urgency'));
  await page.keyboard.press('ArrowDown'); // "High"
  await tabTo(page, page.locator('#f-young_person-age_known'));
  await page.keyboard.press('Space'); // "I know their age"
  await tabTo(page, page.getByLabel('Age in years'));
  await page.keyboard.type('14');
  await tabTo(page, page.getByLabel('Not in education'));
  await page.keyboard.press('Space');
  await tabTo(page, page.locator('#f-contact-method'));
  await page.keyboard.press('Space'); // "Email"
  await tabTo(page, page.getByRole('button', { name: 'Send request' }));
  await page.keyboard.press('Enter');

  await waitForPage(page, 'submitted');
  await checkAxe(page, 'the confirmation page');
  const panel = await page.locator('.govuk-panel').innerText();
  const [request] = (await server.api(practitioner.token, 'GET', '/requests')).body.items;
  assert.ok(panel.includes(request.reference), `the panel shows ${request.reference}: ${panel}`);
  const body = await page.locator('main').innerText();
  assert.match(body, /Status: (Waiting for a specialist|With a specialist)\./, 'the rules triaged it');
  assert.match(body, /first response by \d{1,2} \w+ \d{4} at \d{2}:\d{2} \(in \d+ (hours?|minutes?|days)\)/);

  const stored = (await server.api(practitioner.token, 'GET', `/requests/${request.id}`)).body;
  assert.equal(stored.title, title);
  assert.equal(stored.category, 'child_criminal_exploitation');
  assert.equal(stored.urgency, 'high');
  assert.deepEqual(stored.young_person, { age: 14, age_band: null, gender: null, flags: ['not_in_education'] });
  assert.equal(stored.contact.method, 'email');

  await assertNothingStored(page, visited, [title, 'packages']);
});

webTest('a double click, a slow network and a retry after a lost answer make exactly one request', async ({ page, server, unit, allow }) => {
  const { practitioner } = await unit();
  await openSignedIn(page, server, practitioner, '/requests/new', 'submit');
  await fillValidForm(page, 'Sent once only');

  // The first answer is lost on the way back (the server did create the
  // request); later ones arrive, slowly.
  const keys = [];
  let lost = false;
  await page.route('**/api/v1/requests', async (route) => {
    if (route.request().method() !== 'POST') return route.continue();
    keys.push(route.request().headers()['idempotency-key']);
    const answer = await route.fetch();
    if (!lost) {
      lost = true;
      return route.abort('connectionreset');
    }
    await new Promise((done) => setTimeout(done, 800));
    return route.fulfill({ response: answer });
  });
  allow(/net::ERR_CONNECTION_RESET/);
  allow((entry) => entry.kind === 'requestfailed' && /\/api\/v1\/requests: /.test(entry.text));

  const send = page.getByRole('button', { name: 'Send request' });
  await send.dblclick();
  await page.locator('.govuk-error-summary').getByText('The service could not be reached').waitFor();
  await checkAxe(page, 'the submit form after a lost answer');
  await send.click();
  await send.click({ force: true, noWaitAfter: true }).catch(() => {});
  await waitForPage(page, 'submitted');

  assert.equal(await countRequests(server, practitioner), 1, 'one request exists');
  assert.equal(keys.length, 2, 'the lost attempt and one retry went out; the other clicks were held back');
  assert.equal(new Set(keys).size, 1, 'every attempt carried the same Idempotency-Key');
});
