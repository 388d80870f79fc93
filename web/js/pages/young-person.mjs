// The young person's fields, shared by the submit and edit forms.
import { Checkboxes, Radios, Select, TextInput, WarningText } from '../components.mjs';
import { html } from '../html.mjs';
import { AGE_BANDS, FLAGS, GENDERS } from '../labels.mjs';

/** The form's state for a stored young person. */
export function youngPersonForm(person) {
  let ageKnown = 'unknown';
  if (person.age !== null && person.age !== undefined) ageKnown = 'age';
  else if (person.age_band) ageKnown = 'band';
  return {
    ageKnown,
    age: person.age === null || person.age === undefined ? '' : String(person.age),
    age_band: person.age_band ?? '',
    gender: person.gender ?? '',
    flags: person.flags ?? [],
  };
}

/** The API's young_person from the form: an age or an age band, never both. */
export function youngPersonOf(form) {
  return {
    age: form.ageKnown === 'age' ? Number(form.age.trim()) : null,
    age_band: form.ageKnown === 'band' ? form.age_band : null,
    gender: form.gender || null,
    flags: form.flags,
  };
}

export function ageErrors(form) {
  if (form.ageKnown === 'age' && !/^\d{1,2}$/.test(form.age.trim())) {
    return [{ field: 'young_person.age', message: 'Enter the young person’s age in years, for example 15' }];
  }
  if (form.ageKnown === 'band' && !form.age_band) {
    return [{ field: 'young_person.age_band', message: 'Select an age band' }];
  }
  return [];
}

export function YoungPersonFields({ form, set, error }) {
  return html`
    <h2 class="govuk-heading-m">The young person</h2>
    <${WarningText}>No names. The unit never needs the young person’s name to give guidance.<//>
    <${Radios}
      field="young_person.age_known"
      legend="How old are they?"
      legendClass="govuk-fieldset__legend--s"
      options=${[
        ['age', 'I know their age'],
        ['band', 'I know roughly how old they are'],
        ['unknown', 'I do not know'],
      ]}
      value=${form.ageKnown}
      onChange=${set('ageKnown')}
      conditional=${{
        age: html`<${TextInput}
          field="young_person.age"
          label="Age in years"
          inputmode="numeric"
          width="3"
          value=${form.age}
          onInput=${set('age')}
          error=${error('young_person.age')}
        />`,
        band: html`<${Select}
          field="young_person.age_band"
          label="Age band"
          options=${[['', 'Select an age band'], ...Object.entries(AGE_BANDS)]}
          value=${form.age_band}
          onChange=${set('age_band')}
          error=${error('young_person.age_band')}
        />`,
      }}
    />
    <${Radios}
      field="young_person.gender"
      legend="Gender (optional)"
      legendClass="govuk-fieldset__legend--s"
      options=${Object.entries(GENDERS)}
      value=${form.gender}
      onChange=${set('gender')}
      error=${error('young_person.gender')}
      small
    />
    <${Checkboxes}
      field="young_person.flags"
      legend="Do any of these apply? (optional)"
      legendClass="govuk-fieldset__legend--s"
      hint="Select all that apply."
      options=${Object.entries(FLAGS)}
      values=${form.flags}
      onChange=${set('flags')}
      error=${error('young_person.flags')}
      small
    />
  `;
}
