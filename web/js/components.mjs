// The page furniture and form patterns (GOV.UK Frontend's markup), shared
// by every page. User text is always passed as text children, never as HTML.
import { get } from './api.mjs';
import { takeFlash } from './flash.mjs';
import { html, useEffect, useRef, useState } from './html.mjs';

export const SERVICE = 'NRU Helpdesk';

/**
 * One page: its <main> (named for tests and styles, busy while loading),
 * its title in the tab, and focus on its heading when it opens. With
 * `panel`, the heading sits in a confirmation panel above that text.
 */
export function Page({ name, title, busy = false, heading = title, before = null, panel = null, children }) {
  const h1 = useRef(null);
  // The placeholder shown while a page's module loads leaves the message to that page.
  const [done] = useState(() => (name === 'loading' ? null : takeFlash()));
  useEffect(() => {
    document.title = `${title} – ${SERVICE}`;
  }, [title]);
  useEffect(() => {
    h1.current?.focus({ preventScroll: false });
  }, [name]);
  return html`
    <main class="govuk-main-wrapper" id="main-content" data-page=${name} aria-busy=${busy ? 'true' : 'false'}>
      ${done ? html`<${Banner} success>${html`<p class="govuk-notification-banner__heading">${done}</p>`}<//>` : null}
      ${before}
      ${panel
        ? html`<div class="govuk-panel govuk-panel--confirmation">
            <h1 class="govuk-panel__title" tabindex="-1" ref=${h1}>${heading}</h1>
            <div class="govuk-panel__body">${panel}</div>
          </div>`
        : html`<h1 class="govuk-heading-l" tabindex="-1" ref=${h1}>${heading}</h1>`}
      ${busy && !children ? html`<p class="govuk-body" role="status">Loading…</p>` : children}
    </main>
  `;
}

/** What shows while the session is restored or a page's module is fetched. */
export function Loading() {
  return html`<${Page} name="loading" title="Loading" busy />`;
}

/** The id of the input for an API field name ("young_person.age" → "f-young_person-age"). */
export function fieldId(field) {
  return `f-${field.replace(/[^A-Za-z0-9_]/g, '-')}`;
}

/**
 * The error summary at the top of a form: each error links to its field.
 * It takes focus when it appears, so a screen reader announces it.
 */
export function ErrorSummary({ errors, title = 'There is a problem' }) {
  const box = useRef(null);
  useEffect(() => {
    if (errors.length) box.current?.focus();
  }, [errors]);
  if (!errors.length) return null;
  const go = (event, field) => {
    const target = document.getElementById(fieldId(field));
    if (!target) return;
    event.preventDefault();
    target.scrollIntoView({ block: 'center' });
    target.focus();
  };
  return html`
    <div class="govuk-error-summary" tabindex="-1" ref=${box}>
      <div role="alert">
        <h2 class="govuk-error-summary__title">${title}</h2>
        <div class="govuk-error-summary__body">
          <ul class="govuk-list govuk-error-summary__list">
            ${errors.map(
              (e) => html`<li key=${`${e.field}:${e.message}`}>
                ${e.field
                  ? html`<a href=${`#${fieldId(e.field)}`} onClick=${(event) => go(event, e.field)}>${e.message}</a>`
                  : e.message}
              </li>`,
            )}
          </ul>
        </div>
      </div>
    </div>
  `;
}

/** The message for `field` among `errors` (its first), or null. */
export function errorFor(errors, field) {
  return errors.find((e) => e.field === field)?.message ?? null;
}

function Hint({ id, children }) {
  return children ? html`<div id=${id} class="govuk-hint">${children}</div>` : null;
}

function ErrorMessage({ id, children }) {
  return children
    ? html`<p id=${id} class="govuk-error-message"><span class="govuk-visually-hidden">Error:</span> ${children}</p>`
    : null;
}

function describedBy(id, hint, error) {
  return [hint && `${id}-hint`, error && `${id}-error`].filter(Boolean).join(' ') || undefined;
}

/** A labelled text input (or email, password, number). */
export function TextInput({
  field, label, hint, error, value, onInput, type = 'text', width, autocomplete, spellcheck, inputmode, labelClass = '',
}) {
  const id = fieldId(field);
  const widthClass = width ? ` govuk-input--width-${width}` : '';
  return html`
    <div class=${`govuk-form-group${error ? ' govuk-form-group--error' : ''}`}>
      <label class=${`govuk-label ${labelClass}`} for=${id}>${label}</label>
      <${Hint} id=${`${id}-hint`}>${hint}<//>
      <${ErrorMessage} id=${`${id}-error`}>${error}<//>
      <input
        class=${`govuk-input${widthClass}${error ? ' govuk-input--error' : ''}`}
        id=${id}
        name=${field}
        type=${type}
        value=${value}
        onInput=${(event) => onInput(event.currentTarget.value)}
        aria-describedby=${describedBy(id, hint, error)}
        autocomplete=${autocomplete ?? 'off'}
        spellcheck=${spellcheck}
        inputmode=${inputmode}
      />
    </div>
  `;
}

/** A labelled textarea. */
export function TextArea({ field, label, hint, error, value, onInput, rows = 5, labelClass = '' }) {
  const id = fieldId(field);
  return html`
    <div class=${`govuk-form-group${error ? ' govuk-form-group--error' : ''}`}>
      <label class=${`govuk-label ${labelClass}`} for=${id}>${label}</label>
      <${Hint} id=${`${id}-hint`}>${hint}<//>
      <${ErrorMessage} id=${`${id}-error`}>${error}<//>
      <textarea
        class=${`govuk-textarea${error ? ' govuk-textarea--error' : ''}`}
        id=${id}
        name=${field}
        rows=${rows}
        value=${value}
        onInput=${(event) => onInput(event.currentTarget.value)}
        aria-describedby=${describedBy(id, hint, error)}
        spellcheck="true"
      ></textarea>
    </div>
  `;
}

/**
 * A fieldset of radios or checkboxes. `options` is [value, label, hint?];
 * `conditional` maps a value to what is shown under it while it is chosen.
 * The first input carries the field's id, so an error links to it.
 */
function Choices({ kind, field, legend, legendClass = 'govuk-fieldset__legend--m', hint, error, options, checked, onToggle, conditional = {}, inline = false, small = false, children }) {
  const id = fieldId(field);
  const block = kind === 'radio' ? 'govuk-radios' : 'govuk-checkboxes';
  return html`
    <div class=${`govuk-form-group${error ? ' govuk-form-group--error' : ''}`}>
      <fieldset class="govuk-fieldset" aria-describedby=${describedBy(id, hint, error)}>
        <legend class=${`govuk-fieldset__legend ${legendClass}`}>${legend}</legend>
        <${Hint} id=${`${id}-hint`}>${hint}<//>
        ${children}
        <${ErrorMessage} id=${`${id}-error`}>${error}<//>
        <div class=${`${block}${inline ? ` ${block}--inline` : ''}${small ? ` ${block}--small` : ''}`}>
          ${options.map(([value, text, optionHint], index) => {
            const inputId = index === 0 ? id : `${id}-${index + 1}`;
            const on = checked(value);
            return html`
              <div class=${`${block}__item`} key=${value}>
                <input
                  class=${`${block}__input`}
                  id=${inputId}
                  name=${field}
                  type=${kind}
                  value=${value}
                  checked=${on}
                  onChange=${() => onToggle(value)}
                  aria-describedby=${optionHint ? `${inputId}-hint` : undefined}
                />
                <label class=${`govuk-label ${block}__label`} for=${inputId}>${text}</label>
                ${optionHint ? html`<div id=${`${inputId}-hint`} class=${`govuk-hint ${block}__hint`}>${optionHint}</div>` : null}
              </div>
              ${on && conditional[value] ? html`<div class=${`${block}__conditional`} key=${`${value}-more`}>${conditional[value]}</div>` : null}
            `;
          })}
        </div>
      </fieldset>
    </div>
  `;
}

export function Radios({ value, onChange, ...rest }) {
  return html`<${Choices} kind="radio" checked=${(v) => v === value} onToggle=${onChange} ...${rest} />`;
}

export function Checkboxes({ values, onChange, ...rest }) {
  const toggle = (v) => onChange(values.includes(v) ? values.filter((x) => x !== v) : [...values, v]);
  return html`<${Choices} kind="checkbox" checked=${(v) => values.includes(v)} onToggle=${toggle} ...${rest} />`;
}

/** A labelled select; `options` is [value, label]. */
export function Select({ field, label, hint, error, value, onChange, options }) {
  const id = fieldId(field);
  return html`
    <div class=${`govuk-form-group${error ? ' govuk-form-group--error' : ''}`}>
      <label class="govuk-label" for=${id}>${label}</label>
      <${Hint} id=${`${id}-hint`}>${hint}<//>
      <${ErrorMessage} id=${`${id}-error`}>${error}<//>
      <select
        class=${`govuk-select${error ? ' govuk-select--error' : ''}`}
        id=${id}
        name=${field}
        value=${value}
        onChange=${(event) => onChange(event.currentTarget.value)}
        aria-describedby=${describedBy(id, hint, error)}
      >
        ${options.map(([v, text]) => html`<option key=${v} value=${v} selected=${v === value}>${text}</option>`)}
      </select>
    </div>
  `;
}

/** A button; `variant` is "secondary" or "warning". */
export function Button({ children, variant, type = 'submit', disabled = false, onClick }) {
  const variantClass = variant ? ` govuk-button--${variant}` : '';
  return html`
    <button type=${type} class=${`govuk-button${variantClass}`} disabled=${disabled} aria-disabled=${disabled ? 'true' : undefined} onClick=${onClick}>
      ${children}
    </button>
  `;
}

/**
 * A banner at the top of a page: `success` for a done thing, otherwise
 * "Important". A success banner, or one with `focus`, takes focus when it
 * appears, so that it is read out and the keyboard starts from it.
 */
export function Banner({ title, success = false, focus = success, children }) {
  const id = useRef(`banner-${Math.random().toString(36).slice(2)}`).current;
  const box = useRef(null);
  useEffect(() => {
    if (focus) box.current?.focus();
  }, []);
  return html`
    <div
      class=${`govuk-notification-banner${success ? ' govuk-notification-banner--success' : ''}`}
      role=${success ? 'alert' : 'region'}
      aria-labelledby=${id}
      tabindex=${focus ? '-1' : undefined}
      ref=${box}
    >
      <div class="govuk-notification-banner__header">
        <h2 class="govuk-notification-banner__title" id=${id}>${title ?? (success ? 'Success' : 'Important')}</h2>
      </div>
      <div class="govuk-notification-banner__content">${children}</div>
    </div>
  `;
}

export function WarningText({ children }) {
  return html`
    <div class="govuk-warning-text">
      <span class="govuk-warning-text__icon" aria-hidden="true">!</span>
      <strong class="govuk-warning-text__text"><span class="govuk-visually-hidden">Warning</span> ${children}</strong>
    </div>
  `;
}

export function Tag({ colour, children }) {
  return html`<strong class=${`govuk-tag${colour ? ` govuk-tag--${colour}` : ''}`}>${children}</strong>`;
}

/** A summary list of [key, value] rows (rows with a null value are left out). */
export function SummaryList({ rows }) {
  return html`
    <dl class="govuk-summary-list">
      ${rows
        .filter(([, value]) => value !== null && value !== undefined && value !== '')
        .map(
          ([key, value]) => html`
            <div class="govuk-summary-list__row" key=${key}>
              <dt class="govuk-summary-list__key">${key}</dt>
              <dd class="govuk-summary-list__value">${value}</dd>
            </div>
          `,
        )}
    </dl>
  `;
}

/**
 * The answer of a GET, fetched again when `path` or `round` changes; what
 * was shown stays while it is fetched again. No fetch for a null path.
 */
export function useApi(path, round = 0) {
  const [state, setState] = useState({ loading: path !== null, data: null, etag: null, error: null });
  useEffect(() => {
    if (path === null) return undefined;
    let live = true;
    setState((s) => ({ ...s, loading: true }));
    get(path).then(
      ({ data, etag }) => live && setState({ loading: false, data, etag, error: null }),
      (error) => live && setState({ loading: false, data: null, etag: null, error }),
    );
    return () => {
      live = false;
    };
  }, [path, round]);
  return state;
}

/**
 * Errors for a form from an ApiError: each field error with its field's
 * name from `labels` in front (the API's messages do not repeat it), and
 * anything else as one message for the top of the form.
 */
export function errorsOf(error, labels = {}) {
  if (error.fieldErrors.length) {
    return error.fieldErrors.map(({ field, message }) => ({
      field,
      message: labels[field] ? `${labels[field]}: ${message}` : sentence(message),
    }));
  }
  return [{ field: null, message: error.problem.detail || error.message }];
}

function sentence(text) {
  const trimmed = String(text ?? '').trim();
  return trimmed ? trimmed[0].toUpperCase() + trimmed.slice(1) : 'This is not valid';
}
