// Entry point: mounts the application into the page's empty #app.
import { App } from './app.mjs';
import { html, render } from './html.mjs';

render(html`<${App} />`, document.getElementById('app'));
