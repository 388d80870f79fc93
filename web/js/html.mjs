// The one place the vendored libraries are imported: every other module
// takes `html`, `render` and the hooks from here.
import { h, render } from '../vendor/preact.mjs';
import htm from '../vendor/htm.mjs';

export const html = htm.bind(h);
export { render };
export { useCallback, useEffect, useMemo, useRef, useState } from '../vendor/preact-hooks.mjs';
