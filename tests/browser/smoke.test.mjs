// The web client's first page: / shows the sign-in page to someone signed
// out, with no console error, CSP violation or failed request, and no
// accessibility violation.

import { SIGNED_OUT_REFRESH_401, checkAxe, waitForPage, webTest } from './harness.mjs';

webTest('/ shows the sign-in page, clean and with no axe violation', { allow: [SIGNED_OUT_REFRESH_401] }, async ({ page, server }) => {
  await page.goto(`${server.base}/`);
  await waitForPage(page, 'sign-in');
  await checkAxe(page, 'the sign-in page');
});
