// WCAG 2.2 reflow: at 320 CSS pixels wide (a phone, or 400% zoom) and at
// 640 (200% zoom on a laptop) no page scrolls sideways and axe stays clean.

import assert from 'node:assert/strict';

import { checkAxe, waitForPage, webTest } from './harness.mjs';
import { handToSpecialist, openSignedIn, overflowsSideways } from './lib/steps.mjs';

for (const width of [320, 640]) {
  webTest(
    `every practitioner page reflows at ${width} px wide without scrolling sideways`,
    { contextOptions: { viewport: { width, height: 800 } } },
    async ({ page, server, unit }) => {
      const people = await unit();
      const { practitioner, specialist } = people;
      const request = await server.submitRequest(practitioner.token, {
        title: 'A rather long title about a young person seen at several addresses across two towns',
      });
      await handToSpecialist(server, people, request.id);
      await server.api(specialist.token, 'POST', `/requests/${request.id}/messages`, {
        kind: 'reply',
        body: 'A reply with a long unbroken reference: NRU-GUIDANCE-REFERRAL-MECHANISM-2026-ABCDEFGHIJKLMNOPQRSTUVWXYZ',
      });
      await openSignedIn(page, server, practitioner, '/requests', 'my-requests');
      for (const [path, name] of [
        ['/requests', 'my-requests'],
        ['/requests/new', 'submit'],
        [`/requests/${request.id}`, 'request'],
        [`/requests/${request.id}/edit`, 'edit'],
        [`/requests/${request.id}/submitted`, 'submitted'],
        ['/account', 'account'],
        ['/account/notifications', 'preferences'],
        ['/account/password', 'change-password'],
      ]) {
        await page.goto(server.base + path);
        await waitForPage(page, name);
        assert.equal(await overflowsSideways(page), false, `${path} scrolls sideways at ${width} px`);
        await checkAxe(page, `${path} at ${width} px`);
      }
    },
  );
}
