import { Banner, Button, ErrorSummary, Page, Select, Tag, errorsOf, useApi } from '../components.mjs';
import { formatDateTime } from '../format.mjs';
import { html, useState } from '../html.mjs';
import { STATUSES, STATUS_TAG_COLOURS, label } from '../labels.mjs';
import { navigate, queryOf } from '../router.mjs';

const PAGE_SIZE = 50;

export function StatusTag({ status }) {
  return html`<${Tag} colour=${STATUS_TAG_COLOURS[status]}>${label(STATUSES, status)}<//>`;
}

/** The practitioner's requests, newest first, filtered by status, a page at a time. */
export function MyRequests({ path }) {
  const status = queryOf(path).get('status') ?? '';
  // Earlier pages' cursors, so "Previous" can go back (held in memory, not the URL).
  const [cursors, setCursors] = useState([]);
  const cursor = cursors.at(-1);
  const query = new URLSearchParams({ limit: String(PAGE_SIZE) });
  if (status) query.set('status', status);
  if (cursor) query.set('cursor', cursor);
  const list = useApi(`/requests?${query}`);
  const waiting = useApi('/requests?status=awaiting_requester&limit=100');
  const [choice, setChoice] = useState(status);

  const filter = (event) => {
    event.preventDefault();
    setCursors([]);
    navigate(choice ? `/requests?status=${encodeURIComponent(choice)}` : '/requests');
  };

  if (list.error) {
    return html`<${Page} name="my-requests" title="My requests"><${ErrorSummary} errors=${errorsOf(list.error)} /><//>`;
  }
  const items = list.data?.items ?? [];
  const asked = waiting.data?.items ?? [];
  const more = waiting.data?.next_cursor ? 'more than 100' : String(asked.length);
  return html`
    <${Page} name="my-requests" title="My requests" busy=${list.loading && !list.data}>
      ${asked.length && status !== 'awaiting_requester'
        ? html`<${Banner} title="The unit needs you">
            <p class="govuk-notification-banner__heading">
              The unit has asked you for information on ${asked.length === 1 ? 'one request' : `${more} requests`}.
            </p>
            <p class="govuk-body">
              <a class="govuk-notification-banner__link" href="/requests?status=awaiting_requester">Show the requests waiting for you</a>
            </p>
          <//>`
        : null}
      <p class="govuk-body"><a class="govuk-link" href="/requests/new">Ask the unit for guidance on a new case</a></p>
      <form class="nru-filter" novalidate onSubmit=${filter}>
        <${Select}
          field="status"
          label="Show requests that are"
          options=${[['', 'Any status'], ...Object.entries(STATUSES)]}
          value=${choice}
          onChange=${setChoice}
        />
        <${Button} variant="secondary">Show<//>
      </form>
      ${items.length
        ? html`
            <table class="govuk-table nru-stack">
              <caption class="govuk-table__caption govuk-table__caption--m">
                ${status ? `Requests that are: ${label(STATUSES, status)}` : 'All your requests'}
              </caption>
              <thead class="govuk-table__head">
                <tr class="govuk-table__row">
                  <th scope="col" class="govuk-table__header">Reference</th>
                  <th scope="col" class="govuk-table__header">Title</th>
                  <th scope="col" class="govuk-table__header">Status</th>
                  <th scope="col" class="govuk-table__header">Last activity</th>
                </tr>
              </thead>
              <tbody class="govuk-table__body">
                ${items.map(
                  (r) => html`
                    <tr class=${`govuk-table__row${r.status === 'awaiting_requester' ? ' nru-row--asked' : ''}`} key=${r.id}>
                      <td class="govuk-table__cell nru-nowrap" data-label="Reference"><a class="govuk-link" href=${`/requests/${r.id}`}>${r.reference}</a></td>
                      <td class="govuk-table__cell nru-wrap" data-label="Title">${r.title}</td>
                      <td class="govuk-table__cell" data-label="Status"><${StatusTag} status=${r.status} /></td>
                      <td class="govuk-table__cell" data-label="Last activity">${formatDateTime(r.updated_at)}</td>
                    </tr>
                  `,
                )}
              </tbody>
            </table>
          `
        : html`<p class="govuk-body">
            ${status || cursor ? 'No requests match.' : 'You have not asked the unit for guidance yet.'}
          </p>`}
      ${cursors.length || list.data?.next_cursor
        ? html`
            <nav class="govuk-pagination govuk-pagination--block" aria-label="Pages of requests">
              ${cursors.length
                ? html`<div class="govuk-pagination__prev">
                    <button type="button" class="govuk-link govuk-pagination__link nru-link-button" onClick=${() => setCursors((c) => c.slice(0, -1))}>
                      <span class="govuk-pagination__link-title">Previous<span class="govuk-visually-hidden"> page</span></span>
                    </button>
                  </div>`
                : null}
              ${list.data?.next_cursor
                ? html`<div class="govuk-pagination__next">
                    <button type="button" class="govuk-link govuk-pagination__link nru-link-button" onClick=${() => setCursors((c) => [...c, list.data.next_cursor])}>
                      <span class="govuk-pagination__link-title">Next<span class="govuk-visually-hidden"> page</span></span>
                    </button>
                  </div>`
                : null}
            </nav>
          `
        : null}
    <//>
  `;
}
