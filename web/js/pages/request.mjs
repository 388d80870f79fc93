import { call, get } from '../api.mjs';
import {
  Banner, Button, ErrorSummary, Page, SummaryList, TextArea, WarningText, errorFor, errorsOf, useApi,
} from '../components.mjs';
import { formatDateTime, relativeTo } from '../format.mjs';
import { html, useEffect, useRef, useState } from '../html.mjs';
import {
  AGE_BANDS, CATEGORIES, CONTACT_METHODS, FLAGS, GENDERS, STATUSES, URGENCY_SHORT, label,
} from '../labels.mjs';
import { StatusTag } from './my-requests.mjs';
import { NotFound } from '../not-found.mjs';

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Statuses in which the requester may still change the request's details. */
export const EDITABLE = ['new', 'triaged', 'assigned', 'awaiting_requester'];

// What the requester may do in each status (the API decides; this only
// offers what it would allow), each confirmed before it is sent.
const ACTIONS = [
  {
    action: 'withdraw',
    when: EDITABLE,
    button: 'Withdraw this request',
    question: 'Withdraw this request? The unit will stop working on it, and you cannot undo this.',
    yes: 'Yes, withdraw it',
    done: 'You have withdrawn the request.',
    variant: 'warning',
  },
  {
    action: 'close',
    when: ['resolved'],
    button: 'The answer is enough: close the request',
    question: 'Close this request? After that you can no longer reply to it or reopen it.',
    yes: 'Yes, close it',
    done: 'The request is closed. Thank you for confirming.',
  },
  {
    action: 'reopen',
    when: ['resolved'],
    button: 'Reopen the request',
    question: 'Reopen this request? It goes back to the unit. Say in a reply what is still needed.',
    yes: 'Yes, reopen it',
    done: 'The request is open again.',
    variant: 'secondary',
  },
];

const FINAL = ['closed', 'withdrawn'];

/** Every item of the request's timeline (messages and status changes), oldest first. */
function useTimeline(id, round) {
  const [state, setState] = useState({ items: null, error: null, loading: true });
  useEffect(() => {
    if (id === null) return undefined;
    let live = true;
    setState((s) => ({ ...s, loading: true }));
    (async () => {
      const items = [];
      let cursor = null;
      // A request's life is short; the cap only guards against a loop.
      for (let page = 0; page < 20; page += 1) {
        const query = new URLSearchParams({ limit: '100' });
        if (cursor) query.set('cursor', cursor);
        const { data } = await get(`/requests/${id}/timeline?${query}`);
        items.push(...data.items);
        cursor = data.next_cursor;
        if (!cursor) break;
      }
      return items;
    })().then(
      (items) => live && setState({ items, error: null, loading: false }),
      (error) => live && setState({ items: null, error, loading: false }),
    );
    return () => {
      live = false;
    };
  }, [id, round]);
  return state;
}

function youngPersonText(person) {
  const age =
    person.age !== null && person.age !== undefined
      ? `${person.age} years old`
      : person.age_band
        ? `Aged ${label(AGE_BANDS, person.age_band).toLowerCase()}`
        : 'Age not known';
  return [age, person.gender && label(GENDERS, person.gender), ...person.flags.map((f) => label(FLAGS, f))]
    .filter(Boolean)
    .join('; ');
}

function who(actorId, user) {
  if (!actorId) return 'Automatically';
  return actorId === user.id ? 'You' : 'The unit';
}

function Conversation({ messages, user }) {
  if (!messages.length) {
    return html`<p class="govuk-body">No replies yet. When a specialist replies, it appears here.</p>`;
  }
  return html`
    <ol class="nru-conversation">
      ${messages.map(
        (m) => html`
          <li class=${`nru-message ${m.author_id === user.id ? 'nru-message--mine' : 'nru-message--unit'}`} key=${m.id}>
            <p class="govuk-body-s nru-message__meta">
              <strong>${m.author_id === user.id ? 'You' : 'The unit'}</strong>
              <span aria-hidden="true"> · </span>
              <span class="govuk-visually-hidden">, </span>${formatDateTime(m.created_at)}
            </p>
            <div class="govuk-body nru-pre">${m.body}</div>
          </li>
        `,
      )}
    </ol>
  `;
}

function History({ request, changes, user }) {
  const rows = [{ id: 'sent', at: request.created_at, status_change: { to: 'new', actor_id: request.requester_id } }, ...changes];
  return html`
    <table class="govuk-table nru-stack">
      <caption class="govuk-table__caption govuk-table__caption--m">Status history</caption>
      <thead class="govuk-table__head">
        <tr class="govuk-table__row">
          <th scope="col" class="govuk-table__header">When</th>
          <th scope="col" class="govuk-table__header">Status</th>
          <th scope="col" class="govuk-table__header">By</th>
        </tr>
      </thead>
      <tbody class="govuk-table__body">
        ${rows.map(
          (c) => html`
            <tr class="govuk-table__row" key=${c.id}>
              <td class="govuk-table__cell" data-label="When">${formatDateTime(c.at)}</td>
              <td class="govuk-table__cell" data-label="Status">${label(STATUSES, c.status_change.to)}</td>
              <td class="govuk-table__cell" data-label="By">${who(c.status_change.actor_id, user)}</td>
            </tr>
          `,
        )}
      </tbody>
    </table>
  `;
}

function Reply({ id, onSent }) {
  const [body, setBody] = useState('');
  const [errors, setErrors] = useState([]);
  const [busy, setBusy] = useState(false);
  const sending = useRef(false);
  const send = async (event) => {
    event.preventDefault();
    if (sending.current) return;
    if (!body.trim()) {
      setErrors([{ field: 'body', message: 'Enter your reply' }]);
      return;
    }
    sending.current = true;
    setBusy(true);
    try {
      await call('POST', `/requests/${id}/messages`, { body: { kind: 'reply', body } });
      setBody('');
      setErrors([]);
      onSent('Your reply has been sent to the unit.');
    } catch (error) {
      setErrors(errorsOf(error, { body: 'Your reply' }));
    } finally {
      setBusy(false);
      sending.current = false;
    }
  };
  return html`
    <form novalidate onSubmit=${send}>
      <${ErrorSummary} errors=${errors} />
      <${TextArea}
        field="body"
        label="Reply to the unit"
        labelClass="govuk-label--s"
        hint="The specialist working on your request will see this. Do not include anyone's name."
        value=${body}
        onInput=${setBody}
        error=${errorFor(errors, 'body')}
      />
      <${Button} disabled=${busy}>Send reply<//>
    </form>
  `;
}

function Actions({ request, onDone, onStale }) {
  const [asking, setAsking] = useState(null);
  const [problem, setProblem] = useState(null);
  const [busy, setBusy] = useState(false);
  const box = useRef(null);
  useEffect(() => {
    if (asking) box.current?.focus();
  }, [asking]);
  const offered = ACTIONS.filter((a) => a.when.includes(request.data.status));
  if (!offered.length) return null;
  const confirm = async () => {
    setBusy(true);
    setProblem(null);
    try {
      await call('POST', `/requests/${request.data.id}/${asking.action}`, { ifMatch: request.etag });
      setAsking(null);
      onDone(asking.done);
    } catch (error) {
      setAsking(null);
      if (error.status === 412) onStale();
      else setProblem(error.problem.detail || error.message);
    } finally {
      setBusy(false);
    }
  };
  return html`
    <h2 class="govuk-heading-m">What you can do</h2>
    ${problem ? html`<${ErrorSummary} errors=${[{ field: null, message: problem }]} title="That could not be done" />` : null}
    ${asking
      ? html`
          <div class="nru-confirm" tabindex="-1" ref=${box} role="group" aria-labelledby="confirm-question">
            <p class="govuk-body govuk-!-font-weight-bold" id="confirm-question">${asking.question}</p>
            <div class="govuk-button-group">
              <${Button} type="button" variant=${asking.variant === 'warning' ? 'warning' : undefined} disabled=${busy} onClick=${confirm}>${asking.yes}<//>
              <${Button} type="button" variant="secondary" disabled=${busy} onClick=${() => setAsking(null)}>Cancel<//>
            </div>
          </div>
        `
      : html`
          <div class="govuk-button-group">
            ${offered.map(
              (a) => html`<${Button} key=${a.action} type="button" variant=${a.variant} onClick=${() => setAsking(a)}>${a.button}<//>`,
            )}
          </div>
        `}
  `;
}

/** A practitioner's own request: details, history, conversation, reply and actions. */
export function RequestPage({ id, user }) {
  const [round, setRound] = useState(0);
  const [notice, setNotice] = useState(null);
  const [stale, setStale] = useState(false);
  const valid = UUID.test(id);
  const request = useApi(valid ? `/requests/${id}` : null, round);
  const timeline = useTimeline(valid ? id : null, round);

  if (!valid || request.error?.status === 404 || request.error?.status === 400) return html`<${NotFound} />`;
  const failure = request.error ?? timeline.error;
  if (failure) {
    return html`<${Page} name="request" title="Your request"><${ErrorSummary} errors=${errorsOf(failure)} /><//>`;
  }
  const loading = !request.data || !timeline.items;
  if (loading) return html`<${Page} name="request" title="Your request" busy />`;

  const data = request.data;
  const reload = (message = null) => {
    setNotice(message);
    setStale(false);
    setRound((r) => r + 1);
  };
  const messages = timeline.items.filter((i) => i.kind === 'message' && i.message?.kind === 'reply').map((i) => i.message);
  const changes = timeline.items.filter((i) => i.kind === 'status_change' && i.status_change);
  return html`
    <${Page}
      name="request"
      title=${`Request ${data.reference}`}
      busy=${request.loading || timeline.loading}
      heading=${html`<span class="govuk-caption-l">${data.reference}</span>${data.title}`}
      before=${html`
        ${stale
          ? html`<${Banner} title="This request has changed" focus>
              <p class="govuk-notification-banner__heading">This request changed since you opened it, so nothing was done.</p>
              <p class="govuk-body">Reload it to see what changed, then try again.</p>
              <${Button} type="button" onClick=${() => reload()}>Reload the request<//>
            <//>`
          : null}
        ${notice ? html`<${Banner} success><p class="govuk-notification-banner__heading">${notice}</p><//>` : null}
      `}
    >
      <p class="govuk-body"><${StatusTag} status=${data.status} /></p>
      ${data.status === 'awaiting_requester'
        ? html`<${Banner} title="The unit needs you">
            <p class="govuk-notification-banner__heading">The unit has asked you for information. Reply below.</p>
            <p class="govuk-body">The response clock is paused until you reply.</p>
          <//>`
        : null}
      ${data.immediate_risk && !FINAL.includes(data.status)
        ? html`<${WarningText}>If the young person is in immediate danger, call 999.<//>`
        : null}
      ${data.redacted_at
        ? html`<div class="govuk-inset-text">The text of this request was removed on ${formatDateTime(data.redacted_at)} under the unit's retention policy.</div>`
        : null}
      <${SummaryList}
        rows=${[
          ['Reference', data.reference],
          ['Status', label(STATUSES, data.status)],
          ['Sent', formatDateTime(data.created_at)],
          ['Kind of exploitation', label(CATEGORIES, data.category)],
          ['Urgency', label(URGENCY_SHORT, data.urgency)],
          ['Young person', youngPersonText(data.young_person)],
          ['Contact', [label(CONTACT_METHODS, data.contact.method), data.contact.times].filter(Boolean).join(', ')],
          ['Your reference', data.local_reference],
          ['First response due', data.due_at && !data.milestones.first_response_at ? `${formatDateTime(data.due_at)} (${relativeTo(data.due_at)})` : null],
          ['First response', data.milestones.first_response_at ? formatDateTime(data.milestones.first_response_at) : null],
        ]}
      />
      <h2 class="govuk-heading-m">What you told the unit</h2>
      <div class="govuk-body nru-pre">${data.description}</div>
      ${EDITABLE.includes(data.status)
        ? html`<p class="govuk-body"><a class="govuk-link" href=${`/requests/${data.id}/edit`}>Change the details of this request</a></p>`
        : null}
      <h2 class="govuk-heading-m">Conversation</h2>
      <${Conversation} messages=${messages} user=${user} />
      ${FINAL.includes(data.status)
        ? html`<p class="govuk-body">This request is ${label(STATUSES, data.status).toLowerCase()}: it takes no more replies.</p>`
        : html`<${Reply} id=${data.id} onSent=${reload} />`}
      <${Actions} request=${request} onDone=${reload} onStale=${() => setStale(true)} />
      <${History} request=${data} changes=${changes} user=${user} />
    <//>
  `;
}
