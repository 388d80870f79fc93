import { Page } from './components.mjs';
import { html } from './html.mjs';

/**
 * The one "not found" page: for a mistyped address, a request that does
 * not exist and a request that is someone else's alike, so that the page
 * never tells whether a request exists.
 */
export function NotFound() {
  return html`
    <${Page} name="not-found" title="Page not found">
      <p class="govuk-body">If you typed the web address, check it is correct.</p>
      <p class="govuk-body">
        If you followed a link to a request, the request may not exist or you may not have access to it.
      </p>
      <p class="govuk-body"><a class="govuk-link" href="/">Go to the start page</a></p>
    <//>
  `;
}

/** A page this person's role does not use. */
export function NotAllowed() {
  return html`
    <${Page} name="not-allowed" title="You cannot use this page">
      <p class="govuk-body">This page is not part of what your role can do in the web client.</p>
      <p class="govuk-body"><a class="govuk-link" href="/">Go to the start page</a></p>
    <//>
  `;
}
