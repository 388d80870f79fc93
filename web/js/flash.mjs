// A one-off success message for the next page (after a form is done), held
// in memory only and dropped at sign-out.
import { whenSignedOut } from './session.mjs';

let pending = null;

export function flash(text) {
  pending = text;
}

/** The pending message, once: the page that shows it takes it. */
export function takeFlash() {
  const text = pending;
  pending = null;
  return text;
}

whenSignedOut(() => {
  pending = null;
});
