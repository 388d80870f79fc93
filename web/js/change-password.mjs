import { Banner, Button, ErrorSummary, Page, TextInput, errorFor, errorsOf } from './components.mjs';
import { call } from './api.mjs';
import { flash } from './flash.mjs';
import { formatSeconds } from './format.mjs';
import { html, useRef, useState } from './html.mjs';
import { navigate } from './router.mjs';
import { passwordChanged } from './session.mjs';

const LABELS = { current_password: 'Current password', new_password: 'New password' };

/** Changing one's own password; `forced` on the first sign-in with a password an admin set. */
export function ChangePassword({ forced }) {
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [again, setAgain] = useState('');
  const [errors, setErrors] = useState([]);
  const [busy, setBusy] = useState(false);
  const sending = useRef(false);

  const submit = async (event) => {
    event.preventDefault();
    if (sending.current) return;
    const problems = [];
    if (!current) problems.push({ field: 'current_password', message: 'Enter your current password' });
    if (next.length < 12) problems.push({ field: 'new_password', message: 'Enter a new password of at least 12 characters' });
    else if (next !== again) problems.push({ field: 'confirm_password', message: 'The new passwords do not match' });
    if (problems.length) {
      setErrors(problems);
      return;
    }
    sending.current = true;
    setBusy(true);
    try {
      await call('POST', '/me/password', { body: { current_password: current, new_password: next } });
      flash('Your password has been changed. Any other sessions of yours have been signed out.');
      passwordChanged();
      navigate(forced ? location.pathname + location.search : '/account', { replace: forced });
    } catch (error) {
      setErrors(
        error.status === 429
          ? [{ field: 'current_password', message: `Too many wrong passwords. Wait ${formatSeconds(error.retryAfter ?? 300)}, then try again.` }]
          : errorsOf(error, LABELS),
      );
      setBusy(false);
      sending.current = false;
    }
  };

  return html`
    <${Page} name="change-password" title=${forced ? 'Choose your own password' : 'Change your password'}>
      ${forced
        ? html`<${Banner}><p class="govuk-notification-banner__heading">
            Your password was set by an administrator. Choose your own password before you carry on.
          </p><//>`
        : null}
      <${ErrorSummary} errors=${errors} />
      <form novalidate onSubmit=${submit}>
        <${TextInput}
          field="current_password"
          label=${forced ? 'The password you were given' : 'Current password'}
          type="password"
          autocomplete="current-password"
          value=${current}
          onInput=${setCurrent}
          error=${errorFor(errors, 'current_password')}
        />
        <${TextInput}
          field="new_password"
          label="New password"
          hint="At least 12 characters. A few unrelated words together make a strong password."
          type="password"
          autocomplete="new-password"
          value=${next}
          onInput=${setNext}
          error=${errorFor(errors, 'new_password')}
        />
        <${TextInput}
          field="confirm_password"
          label="Confirm new password"
          type="password"
          autocomplete="new-password"
          value=${again}
          onInput=${setAgain}
          error=${errorFor(errors, 'confirm_password')}
        />
        <${Button} disabled=${busy}>Change password<//>
      </form>
    <//>
  `;
}
