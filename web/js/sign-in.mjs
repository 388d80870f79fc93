import { Banner, Button, ErrorSummary, Page, TextInput, errorFor, errorsOf } from './components.mjs';
import { formatSeconds } from './format.mjs';
import { html, useRef, useState } from './html.mjs';
import { signIn } from './session.mjs';

/** What went wrong signing in, in words the person can act on. */
function signInErrors(error) {
  if (error.status === 401) {
    return [{ field: 'email', message: 'Enter a correct email address and password' }];
  }
  if (error.status === 429) {
    const wait = error.retryAfter ? formatSeconds(error.retryAfter) : 'a few minutes';
    return [{ field: null, message: `Too many failed attempts to sign in. Wait ${wait}, then try again.` }];
  }
  return errorsOf(error);
}

export function SignIn({ notice, toRequest }) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [errors, setErrors] = useState([]);
  const [busy, setBusy] = useState(false);
  const sending = useRef(false);

  const submit = async (event) => {
    event.preventDefault();
    if (sending.current) return;
    const missing = [];
    if (!email.trim()) missing.push({ field: 'email', message: 'Enter your email address' });
    if (!password) missing.push({ field: 'password', message: 'Enter your password' });
    if (missing.length) {
      setErrors(missing);
      return;
    }
    sending.current = true;
    setBusy(true);
    try {
      await signIn(email.trim(), password);
    } catch (error) {
      setErrors(signInErrors(error));
      setPassword('');
      setBusy(false);
      sending.current = false;
    }
  };

  return html`
    <${Page} name="sign-in" title="Sign in">
      ${notice ? html`<${Banner}><p class="govuk-notification-banner__heading">${notice}</p><//>` : null}
      <${ErrorSummary} errors=${errors} />
      <p class="govuk-body">
        ${toRequest ? 'Sign in to see the request you followed a link to.' : 'Sign in with the email address and password of your account.'}
      </p>
      <form novalidate onSubmit=${submit}>
        <${TextInput}
          field="email"
          label="Email address"
          type="email"
          autocomplete="username"
          spellcheck="false"
          value=${email}
          onInput=${setEmail}
          error=${errorFor(errors, 'email')}
        />
        <${TextInput}
          field="password"
          label="Password"
          type="password"
          autocomplete="current-password"
          value=${password}
          onInput=${setPassword}
          error=${errorFor(errors, 'password')}
        />
        <${Button} disabled=${busy}>Sign in<//>
      </form>
      <p class="govuk-body">
        If you do not have an account or have forgotten your password, ask your unit's administrator.
      </p>
    <//>
  `;
}

export function SignedOut() {
  return html`
    <${Page} name="signed-out" title="You have signed out">
      <p class="govuk-body">Nothing about your requests is kept in this browser.</p>
      <p class="govuk-body"><a class="govuk-link" href="/">Sign in again</a></p>
    <//>
  `;
}
