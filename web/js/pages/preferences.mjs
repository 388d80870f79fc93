import { call } from '../api.mjs';
import { Button, Checkboxes, ErrorSummary, Page, errorsOf, useApi } from '../components.mjs';
import { flash } from '../flash.mjs';
import { html, useEffect, useRef, useState } from '../html.mjs';
import { EMAIL_EVENTS, label } from '../labels.mjs';
import { navigate } from '../router.mjs';

/** Which routine emails the person gets; safety-critical ones always send. */
export function Preferences() {
  const { data, loading, error } = useApi('/me/notification-preferences');
  const [chosen, setChosen] = useState(null);
  const [errors, setErrors] = useState([]);
  const [busy, setBusy] = useState(false);
  const sending = useRef(false);

  const events = data?.events ?? [];
  const optional = events.filter((e) => !e.safety_critical);
  const always = events.filter((e) => e.safety_critical);
  useEffect(() => {
    if (data) setChosen(optional.filter((e) => e.enabled).map((e) => e.event));
  }, [data]);

  const submit = async (event) => {
    event.preventDefault();
    if (sending.current) return;
    sending.current = true;
    setBusy(true);
    try {
      const body = { events: Object.fromEntries(optional.map((e) => [e.event, chosen.includes(e.event)])) };
      await call('PUT', '/me/notification-preferences', { body });
      flash('Your email choices have been saved.');
      navigate('/account');
    } catch (failure) {
      setErrors(errorsOf(failure));
      setBusy(false);
      sending.current = false;
    }
  };

  if (error) {
    return html`<${Page} name="preferences" title="Emails you get"><${ErrorSummary} errors=${errorsOf(error)} /><//>`;
  }
  return html`
    <${Page} name="preferences" title="Emails you get" busy=${loading || chosen === null}>
      <${ErrorSummary} errors=${errors} />
      <form novalidate onSubmit=${submit}>
        ${optional.length
          ? html`<${Checkboxes}
              field="events"
              legend="Which of these emails do you want?"
              hint="Select all that apply."
              options=${optional.map((e) => [e.event, label(EMAIL_EVENTS, e.event)])}
              values=${chosen ?? []}
              onChange=${setChosen}
            />`
          : null}
        ${always.length
          ? html`
              <h2 class="govuk-heading-m">Always sent</h2>
              <p class="govuk-body">For safety, these are always sent and cannot be switched off:</p>
              <ul class="govuk-list govuk-list--bullet">
                ${always.map((e) => html`<li key=${e.event}>${label(EMAIL_EVENTS, e.event)}</li>`)}
              </ul>
            `
          : null}
        <${Button} disabled=${busy}>Save<//>
      </form>
    <//>
  `;
}
