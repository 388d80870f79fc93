import { call } from '../api.mjs';
import {
  Button, ErrorSummary, Page, Radios, Select, TextArea, TextInput, WarningText, errorFor, errorsOf,
} from '../components.mjs';
import { html, useRef, useState } from '../html.mjs';
import {
  CATEGORIES, CONTACT_METHODS, ORGANISATIONS, REGIONS, URGENCIES, label,
} from '../labels.mjs';
import { navigate } from '../router.mjs';
import { YoungPersonFields, ageErrors, youngPersonOf } from './young-person.mjs';

const EMPTY = {
  title: '',
  description: '',
  category: '',
  urgency: '',
  ageKnown: '',
  age: '',
  age_band: '',
  gender: '',
  flags: [],
  method: '',
  times: '',
  local_reference: '',
  organisation: '',
  region: '',
};

// The name of each field the API may find fault with.
export const LABELS = {
  title: 'Title',
  description: 'Description',
  category: 'Kind of exploitation',
  urgency: 'Urgency',
  'young_person.age': 'Age',
  'young_person.age_band': 'Age band',
  'young_person.flags': 'Circumstances',
  'young_person.gender': 'Gender',
  'contact.method': 'How to contact you',
  'contact.times': 'When you can be contacted',
  local_reference: 'Your reference',
  organisation: 'Organisation',
  region: 'Region',
};

/** The fields a person must fill in before anything is sent. */
function missing(form) {
  const errors = [];
  if (!form.title.trim()) errors.push({ field: 'title', message: 'Enter a title for your request' });
  if (!form.description.trim()) errors.push({ field: 'description', message: 'Describe the concern' });
  if (!form.category) errors.push({ field: 'category', message: 'Select the kind of exploitation' });
  if (!form.urgency) errors.push({ field: 'urgency', message: 'Select how urgent the case is' });
  errors.push(...ageErrors(form));
  if (!form.method) errors.push({ field: 'contact.method', message: 'Select how the unit should contact you' });
  return errors;
}

function bodyOf(form) {
  const body = {
    title: form.title.trim(),
    description: form.description.trim(),
    category: form.category,
    urgency: form.urgency,
    young_person: youngPersonOf(form),
    contact: { method: form.method, times: form.times.trim() || null },
  };
  if (form.local_reference.trim()) body.local_reference = form.local_reference.trim();
  if (form.organisation) body.organisation = form.organisation;
  if (form.region) body.region = form.region;
  return body;
}

export function Submit({ user }) {
  const [form, setForm] = useState(EMPTY);
  const [errors, setErrors] = useState([]);
  const [busy, setBusy] = useState(false);
  // One key for this form: a double click, a retry after a lost answer or
  // a resubmission after a fix all make at most one request.
  const key = useRef(crypto.randomUUID());
  const sending = useRef(false);
  const set = (name) => (value) => setForm((f) => ({ ...f, [name]: value }));

  const submit = async (event) => {
    event.preventDefault();
    if (sending.current) return;
    const problems = missing(form);
    if (problems.length) {
      setErrors(problems);
      return;
    }
    sending.current = true;
    setBusy(true);
    try {
      const { data } = await call('POST', '/requests', { body: bodyOf(form), idempotencyKey: key.current });
      navigate(`/requests/${data.id}/submitted`);
    } catch (error) {
      setErrors(errorsOf(error, LABELS));
      setBusy(false);
      sending.current = false;
    }
  };

  const error = (field) => errorFor(errors, field);
  const profile = (labels, value) => (value ? ` (${label(labels, value)})` : '');
  return html`
    <${Page} name="submit" title="Ask the unit for guidance">
      <${ErrorSummary} errors=${errors} />
      <${WarningText}>If a child is in immediate danger, call 999 now. Do that before you fill in this form.<//>
      <form novalidate onSubmit=${submit}>
        <${TextInput}
          field="title"
          label="Title"
          labelClass="govuk-label--m"
          hint="A few words about the concern, for example: Concern about county lines recruitment."
          value=${form.title}
          onInput=${set('title')}
          error=${error('title')}
        />
        <${WarningText}>Do not include anyone's name. Describe the young person by age and circumstances.<//>
        <${TextArea}
          field="description"
          label="Describe the concern"
          labelClass="govuk-label--m"
          hint="What has happened, what you know and what you need guidance on. At least 10 characters."
          rows="8"
          value=${form.description}
          onInput=${set('description')}
          error=${error('description')}
        />
        <${Radios}
          field="category"
          legend="What kind of exploitation is it about?"
          options=${Object.entries(CATEGORIES)}
          value=${form.category}
          onChange=${set('category')}
          error=${error('category')}
        />
        <${Radios}
          field="urgency"
          legend="How urgent is it?"
          hint="Immediate-risk requests alert the unit's on-duty coordinators straight away."
          options=${Object.entries(URGENCIES)}
          value=${form.urgency}
          onChange=${set('urgency')}
          error=${error('urgency')}
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
        <${TextInput}
          field="contact.times"
          label="When can you be contacted? (optional)"
          hint="For example: weekdays 9am to 5pm."
          value=${form.times}
          onInput=${set('times')}
          error=${error('contact.times')}
        />
        <h2 class="govuk-heading-m">About your case (optional)</h2>
        <${TextInput}
          field="local_reference"
          label="Your own reference for the case (optional)"
          hint="Your organisation's case or crime reference number, if you have one."
          width="20"
          value=${form.local_reference}
          onInput=${set('local_reference')}
          error=${error('local_reference')}
        />
        <${Select}
          field="organisation"
          label="Organisation"
          hint="Change this only if you are asking for another organisation."
          options=${[['', `Your profile’s organisation${profile(ORGANISATIONS, user.organisation)}`], ...Object.entries(ORGANISATIONS)]}
          value=${form.organisation}
          onChange=${set('organisation')}
          error=${error('organisation')}
        />
        <${Select}
          field="region"
          label="Region where the young person is"
          options=${[['', `Your profile’s region${profile(REGIONS, user.region)}`], ...Object.entries(REGIONS)]}
          value=${form.region}
          onChange=${set('region')}
          error=${error('region')}
        />
        <${Button} disabled=${busy}>${busy ? 'Sending…' : 'Send request'}<//>
      </form>
    <//>
  `;
}

