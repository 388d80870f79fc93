// The application: who is signed in decides which pages exist, the path
// decides which one shows. Signed out, every path shows the sign-in page
// and keeps its address, so a link from an email (/requests/<id>) opens
// that request once the person has signed in.
import { Page } from './components.mjs';
import { html, useEffect, useState } from './html.mjs';
import { IdleWarning, Layout } from './layout.mjs';
import { match, navigate, useLocation } from './router.mjs';
import { currentSession, restore, subscribe } from './session.mjs';
import { Account } from './pages/account.mjs';
import { ChangePassword } from './pages/change-password.mjs';
import { EditRequest } from './pages/edit.mjs';
import { MyRequests } from './pages/my-requests.mjs';
import { NotAllowed, NotFound } from './pages/not-found.mjs';
import { Preferences } from './pages/preferences.mjs';
import { RequestPage } from './pages/request.mjs';
import { SignIn, SignedOut } from './pages/sign-in.mjs';
import { Submit } from './pages/submit.mjs';
import { Submitted } from './pages/submitted.mjs';

const ROUTES = [
  ['/', 'home'],
  ['/requests', 'my-requests'],
  ['/requests/new', 'submit'],
  ['/requests/:id', 'request'],
  ['/requests/:id/submitted', 'submitted'],
  ['/requests/:id/edit', 'edit'],
  ['/account', 'account'],
  ['/account/password', 'change-password'],
  ['/account/notifications', 'preferences'],
  ['/signed-out', 'signed-out'],
];

const EVERYONE = {
  account: Account,
  'change-password': ChangePassword,
  preferences: Preferences,
};

// The pages each role uses. Parts for specialists, coordinators and admins
// add theirs here; a page outside a role's set shows "not allowed" (the API
// refuses the calls anyway).
const PAGES = {
  practitioner: {
    ...EVERYONE,
    'my-requests': MyRequests,
    submit: Submit,
    request: RequestPage,
    submitted: Submitted,
    edit: EditRequest,
  },
  specialist: EVERYONE,
  coordinator: EVERYONE,
  admin: EVERYONE,
};

const HOME = { practitioner: '/requests' };

function useSession() {
  const [state, setState] = useState(currentSession);
  useEffect(() => subscribe(setState), []);
  return state;
}

function SignedIn({ user, path }) {
  const found = match(ROUTES, path);
  const [name, params] = found ?? ['not-found', {}];
  useEffect(() => {
    if (name === 'home' || name === 'signed-out') navigate(HOME[user.role] ?? '/account', { replace: true });
  }, [name, user.role]);
  if (user.password_change_required) return html`<${ChangePassword} forced />`;
  if (name === 'home' || name === 'signed-out') return html`<${Page} name="loading" title="Loading" busy />`;
  if (name === 'not-found') return html`<${NotFound} />`;
  const Component = PAGES[user.role]?.[name];
  if (!Component) return html`<${NotAllowed} />`;
  return html`<${Component} key=${path} user=${user} path=${path} ...${params} />`;
}

export function App() {
  const session = useSession();
  const path = useLocation();
  useEffect(() => {
    restore();
  }, []);
  useEffect(() => {
    // After sign-out the address no longer shows a page of the session.
    if (session.status === 'signed-out' && session.generation > 0 && !session.notice) {
      navigate('/signed-out', { replace: true });
    }
  }, [session.generation]);

  let page;
  if (session.status === 'restoring') {
    page = html`<${Page} name="loading" title="Loading" busy />`;
  } else if (session.status === 'signed-in') {
    page = html`<${SignedIn} user=${session.user} path=${path} />`;
  } else if (match(ROUTES, path)?.[0] === 'signed-out') {
    page = html`<${SignedOut} />`;
  } else {
    page = html`<${SignIn} notice=${session.notice} toRequest=${/^\/requests\/[^/]+$/.test(path.split('?')[0]) && path !== '/requests/new'} />`;
  }
  // The key drops every page's state when the session changes.
  return html`
    <${Layout} user=${session.status === 'signed-in' ? session.user : null} path=${path} key=${session.generation}>
      ${page}
    <//>
    ${session.status === 'signed-in' && session.warning !== null ? html`<${IdleWarning} seconds=${session.warning} />` : null}
  `;
}
