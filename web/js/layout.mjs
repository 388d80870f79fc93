// The frame around every page: skip link, the service's name and
// navigation for the signed-in person's role, and the footer. Not GOV.UK's
// header: this service is not GOV.UK and shows none of its marks.
import { SERVICE } from './components.mjs';
import { html, useEffect, useRef } from './html.mjs';
import { signOut, stillHere } from './session.mjs';
import { formatSeconds } from './format.mjs';

const PRACTITIONER_NAV = [
  ['/requests', 'My requests'],
  ['/requests/new', 'New request'],
  ['/account', 'Your account'],
];
const STAFF_NAV = [['/account', 'Your account']];

function current(path, href) {
  const [pathname] = path.split('?');
  if (href === '/requests') return pathname === '/requests' || (/^\/requests\/[^/]+/.test(pathname) && pathname !== '/requests/new');
  return pathname === href || pathname.startsWith(`${href}/`);
}

function Navigation({ user, path }) {
  const items = user.password_change_required ? [] : user.role === 'practitioner' ? PRACTITIONER_NAV : STAFF_NAV;
  return html`
    <nav aria-label="Menu" class="govuk-service-navigation__wrapper">
      <ul class="govuk-service-navigation__list" id="navigation">
        ${items.map(([href, text]) => {
          const here = current(path, href);
          return html`
            <li class=${`govuk-service-navigation__item${here ? ' govuk-service-navigation__item--active' : ''}`} key=${href}>
              <a class="govuk-service-navigation__link" href=${href} aria-current=${here ? 'page' : undefined}>
                ${here ? html`<strong class="govuk-service-navigation__active-fallback">${text}</strong>` : text}
              </a>
            </li>
          `;
        })}
        <li class="govuk-service-navigation__item">
          <button type="button" class="govuk-service-navigation__link nru-link-button" onClick=${() => signOut()}>Sign out</button>
        </li>
      </ul>
    </nav>
  `;
}

export function Layout({ user, path, children }) {
  const skip = (event) => {
    const heading = document.querySelector('#main-content h1');
    if (!heading) return;
    event.preventDefault();
    heading.focus();
  };
  return html`
    <a href="#main-content" class="govuk-skip-link" onClick=${skip}>Skip to main content</a>
    <header class="nru-header">
      <section class="govuk-service-navigation" aria-label="Service information">
        <div class="govuk-width-container">
          <div class="govuk-service-navigation__container">
            <span class="govuk-service-navigation__service-name">
              <a href="/" class="govuk-service-navigation__link">${SERVICE}</a>
            </span>
            ${user ? html`<${Navigation} user=${user} path=${path} />` : null}
          </div>
          ${user
            ? html`<p class="govuk-body-s nru-signed-in-as">Signed in as <strong>${user.display_name}</strong></p>`
            : null}
        </div>
      </section>
    </header>
    <div class="govuk-width-container">${children}</div>
    <footer class="govuk-footer">
      <div class="govuk-width-container">
        <div class="govuk-footer__meta">
          <div class="govuk-footer__meta-item govuk-footer__meta-item--grow">
            <h2 class="govuk-visually-hidden">About this service</h2>
            <p class="govuk-body-s">
              ${SERVICE}: guidance from the national response unit on child sexual exploitation, criminal
              exploitation, trafficking and modern slavery. If a child is in immediate danger, call 999.
            </p>
            <a class="govuk-footer__link" href="/docs/">API documentation</a>
          </div>
        </div>
      </div>
    </footer>
  `;
}

/**
 * The warning before an idle sign-out: a modal dialog that takes focus.
 * Any key or click anywhere counts as activity and closes it.
 */
export function IdleWarning({ seconds }) {
  const dialog = useRef(null);
  useEffect(() => {
    const element = dialog.current;
    if (element && !element.open) element.showModal();
    return () => element?.open && element.close();
  }, []);
  return html`
    <dialog class="nru-dialog" ref=${dialog} aria-labelledby="idle-title" aria-describedby="idle-text" onCancel=${(event) => event.preventDefault()}>
      <h2 class="govuk-heading-m" id="idle-title">You are about to be signed out</h2>
      <p class="govuk-body" id="idle-text">
        For your security, you will be signed out in ${formatSeconds(seconds)} because nothing has happened for a while.
      </p>
      <div class="govuk-button-group">
        <button type="button" class="govuk-button" onClick=${stillHere}>Stay signed in</button>
        <button type="button" class="govuk-button govuk-button--secondary" onClick=${() => signOut()}>Sign out</button>
      </div>
    </dialog>
  `;
}
