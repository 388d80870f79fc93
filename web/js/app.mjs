// The application: who is signed in decides which pages exist, the path
// decides which one shows. Signed out, every path shows the sign-in page
// and keeps its address, so a link from an email (/requests/<id>) opens
// that request once the person has signed in.
import { ChangePassword } from './change-password.mjs';
import { Loading } from './components.mjs';
import { html, useEffect, useState } from './html.mjs';
import { IdleWarning, Layout } from './layout.mjs';
import { NotAllowed, NotFound } from './not-found.mjs';
import { match, navigate, useLocation } from './router.mjs';
import { currentSession, restore, subscribe } from './session.mjs';
import { SignIn, SignedOut } from './sign-in.mjs';

/**
 * A page from js/pages/, fetched the first time it is shown: the first
 * load of the client (the sign-in page) then needs half the files. The
 * server preloads every module except these.
 */
function onDemand(load, name) {
  let loaded = null;
  return function OnDemand(props) {
    const [Component, setComponent] = useState(() => loaded);
    useEffect(() => {
      if (Component) return;
      load().then((module) => {
        loaded = module[name];
        setComponent(() => loaded);
      });
    }, []);
    return Component ? html`<${Component} ...${props} />` : html`<${Loading} />`;
  };
}

const Account = onDemand(() => import('./pages/account.mjs'), 'Account');
const EditRequest = onDemand(() => import('./pages/edit.mjs'), 'EditRequest');
const MyRequests = onDemand(() => import('./pages/my-requests.mjs'), 'MyRequests');
const Preferences = onDemand(() => import('./pages/preferences.mjs'), 'Preferences');
const RequestPage = onDemand(() => import('./pages/request.mjs'), 'RequestPage');
const Submit = onDemand(() => import('./pages/submit.mjs'), 'Submit');
const Submitted = onDemand(() => import('./pages/submitted.mjs'), 'Submitted');

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
  if (name === 'home' || name === 'signed-out') return html`<${Loading} />`;
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
    page = html`<${Loading} />`;
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
