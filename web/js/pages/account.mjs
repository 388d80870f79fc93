import { Page, SummaryList } from '../components.mjs';
import { formatDate } from '../format.mjs';
import { html } from '../html.mjs';
import { ORGANISATIONS, REGIONS, ROLES, label } from '../labels.mjs';

export function Account({ user }) {
  const practitioner = user.role === 'practitioner';
  return html`
    <${Page} name="account" title="Your account">
      <${SummaryList}
        rows=${[
          ['Name', user.display_name],
          ['Email address', user.email],
          ['Role', label(ROLES, user.role)],
          ['Organisation', practitioner && user.organisation ? label(ORGANISATIONS, user.organisation) : null],
          ['Region', practitioner && user.region ? label(REGIONS, user.region) : null],
          ['Account created', formatDate(user.created_at)],
        ]}
      />
      <p class="govuk-body">
        To change your name, email address, organisation or region, ask your unit's administrator.
      </p>
      <ul class="govuk-list">
        <li><a class="govuk-link" href="/account/password">Change your password</a></li>
        <li><a class="govuk-link" href="/account/notifications">Choose which emails you get</a></li>
      </ul>
    <//>
  `;
}
