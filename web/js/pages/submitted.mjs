import { ErrorSummary, Page, WarningText, errorsOf, useApi } from '../components.mjs';
import { formatDateTime, relativeTo } from '../format.mjs';
import { html } from '../html.mjs';
import { STATUSES, label } from '../labels.mjs';
import { NotFound } from '../not-found.mjs';

/** The confirmation after a submission: the reference, the status and when a first response is due. */
export function Submitted({ id }) {
  const { data, loading, error } = useApi(`/requests/${id}`);
  if (error?.status === 404 || error?.status === 400) return html`<${NotFound} />`;
  if (error) {
    return html`<${Page} name="submitted" title="Request sent"><${ErrorSummary} errors=${errorsOf(error)} /><//>`;
  }
  if (loading || !data) return html`<${Page} name="submitted" title="Request sent" busy />`;
  return html`
    <${Page}
      name="submitted"
      title="Request sent"
      panel=${html`Your reference<br /><strong>${data.reference}</strong>`}
    >
      ${data.immediate_risk
        ? html`<${WarningText}>If the young person is in immediate danger, call 999 now. The unit's on-duty coordinators have been alerted.<//>`
        : null}
      <p class="govuk-body">Status: <strong>${label(STATUSES, data.status)}</strong>.</p>
      ${data.due_at
        ? html`<p class="govuk-body">
            The unit aims to give you a first response by <strong>${formatDateTime(data.due_at)}</strong> (${relativeTo(data.due_at)}).
          </p>`
        : html`<p class="govuk-body">The unit will give you a first response as soon as the request has been looked at.</p>`}
      <p class="govuk-body">A specialist will reply, or ask you for more information, on the request's page.</p>
      <ul class="govuk-list">
        <li><a class="govuk-link" href=${`/requests/${data.id}`}>See your request</a></li>
        <li><a class="govuk-link" href="/requests/new">Ask about another case</a></li>
        <li><a class="govuk-link" href="/requests">My requests</a></li>
      </ul>
    <//>
  `;
}
