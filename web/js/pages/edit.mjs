import { call } from '../api.mjs';
import {
  Banner, Button, ErrorSummary, Page, Radios, TextArea, TextInput, errorFor, errorsOf, useApi,
} from '../components.mjs';
import { flash } from '../flash.mjs';
import { html, useEffect, useRef, useState } from '../html.mjs';
import { CONTACT_METHODS } from '../labels.mjs';
import { navigate } from '../router.mjs';
import { NotFound } from '../not-found.mjs';
import { EDITABLE, UUID } from './request.mjs';
import { LABELS } from './submit.mjs';
import { YoungPersonFields, ageErrors, youngPersonForm, youngPersonOf } from './young-person.mjs';

function formOf(data) {
  return {
    title: data.title,
    description: data.description,
    local_reference: data.local_reference ?? '',
    method: data.contact.method,
    times: data.contact.times ?? '',
    ...youngPersonForm(data.young_person),
  };
}

function bodyOf(form) {
  return {
    title: form.title.trim(),
    description: form.description.trim(),
    local_reference: form.local_reference.trim() || null,
    contact: { method: form.method, times: form.times.trim() || null },
    young_person: youngPersonOf(form),
  };
}

/**
 * Changing a request's details. The change carries the version that was
 * read (If-Match): if someone changed the request meanwhile, nothing is
 * saved and the page says so.
 */
export function EditRequest({ id }) {
  const [round, setRound] = useState(0);
  const valid = UUID.test(id);
  const request = useApi(valid ? `/requests/${id}` : null, round);
  const [form, setForm] = useState(null);
  const [errors, setErrors] = useState([]);
  const [stale, setStale] = useState(false);
  const [busy, setBusy] = useState(false);
  const sending = useRef(false);
  useEffect(() => {
    if (request.data) setForm(formOf(request.data));
  }, [request.data]);

  if (!valid || request.error?.status === 404 || request.error?.status === 400) return html`<${NotFound} />`;
  if (request.error) {
    return html`<${Page} name="edit" title="Change your request"><${ErrorSummary} errors=${errorsOf(request.error)} /><//>`;
  }
  if (!request.data || !form) return html`<${Page} name="edit" title="Change your request" busy />`;
  if (!EDITABLE.includes(request.data.status)) {
    return html`
      <${Page} name="edit" title="Change your request">
        <p class="govuk-body">This request can no longer be changed.</p>
        <p class="govuk-body"><a class="govuk-link" href=${`/requests/${id}`}>Back to the request</a></p>
      <//>
    `;
  }

  const set = (name) => (value) => setForm((f) => ({ ...f, [name]: value }));
  const save = async (event) => {
    event.preventDefault();
    if (sending.current) return;
    const problems = [];
    if (!form.title.trim()) problems.push({ field: 'title', message: 'Enter a title for your request' });
    if (!form.description.trim()) problems.push({ field: 'description', message: 'Describe the concern' });
    problems.push(...ageErrors(form));
    if (problems.length) {
      setErrors(problems);
      return;
    }
    sending.current = true;
    setBusy(true);
    try {
      await call('PATCH', `/requests/${id}`, { body: bodyOf(form), ifMatch: request.etag });
      flash('Your changes have been saved.');
      navigate(`/requests/${id}`);
    } catch (error) {
      if (error.status === 412) {
        setStale(true);
        setErrors([]);
      } else {
        setErrors(errorsOf(error, LABELS));
      }
      setBusy(false);
      sending.current = false;
    }
  };
  const reload = () => {
    setStale(false);
    setForm(null);
    setRound((r) => r + 1);
  };
  const error = (field) => errorFor(errors, field);
  return html`
    <${Page}
      name="edit"
      title="Change your request"
      heading=${html`<span class="govuk-caption-l">${request.data.reference}</span>Change your request`}
      busy=${request.loading}
      before=${stale
        ? html`<${Banner} title="This request has changed" focus>
            <p class="govuk-notification-banner__heading">
              This request changed since you opened it, so your changes have not been saved.
            </p>
            <p class="govuk-body">Copy anything you want to keep, then reload the request to see what changed.</p>
            <${Button} type="button" onClick=${reload}>Reload the request<//>
          <//>`
        : null}
    >
      <${ErrorSummary} errors=${errors} />
      <form novalidate onSubmit=${save}>
        <${TextInput} field="title" label="Title" labelClass="govuk-label--m" value=${form.title} onInput=${set('title')} error=${error('title')} />
        <${TextArea}
          field="description"
          label="Describe the concern"
          labelClass="govuk-label--m"
          hint="Do not include anyone's name."
          rows="8"
          value=${form.description}
          onInput=${set('description')}
          error=${error('description')}
        />
        <${YoungPersonFields} form=${form} set=${set} error=${error} />
        <h2 class="govuk-heading-m">How the unit can reach you</h2>
        <${Radios}
          field="contact.method"
          legend="How should the unit contact you?"
          legendClass="govuk-fieldset__legend--s"
          options=${Object.entries(CONTACT_METHODS)}
          value=${form.method}
          onChange=${set('method')}
          error=${error('contact.method')}
          inline
        />
        <${TextInput} field="contact.times" label="When can you be contacted? (optional)" value=${form.times} onInput=${set('times')} error=${error('contact.times')} />
        <${TextInput}
          field="local_reference"
          label="Your own reference for the case (optional)"
          width="20"
          value=${form.local_reference}
          onInput=${set('local_reference')}
          error=${error('local_reference')}
        />
        <div class="govuk-button-group">
          <${Button} disabled=${busy}>Save changes<//>
          <a class="govuk-link" href=${`/requests/${id}`}>Cancel</a>
        </div>
      </form>
    <//>
  `;
}
