// Every call to the public API as the signed-in person goes through `call`:
// the bearer token from memory, and one retry after a refresh when the
// access token has expired.
import { ApiError, readJson, send } from './http.mjs';
import { accessToken, refreshAfter, sessionRefused, passwordChangeRequired } from './session.mjs';

export { ApiError };

/**
 * Calls the API as the signed-in person. Resolves to `{ data, etag, status,
 * headers }`; rejects with an ApiError.
 */
export async function call(method, path, { body, ifMatch, idempotencyKey } = {}) {
  const headers = {};
  if (ifMatch) headers['if-match'] = ifMatch;
  if (idempotencyKey) headers['idempotency-key'] = idempotencyKey;
  let token = await accessToken();
  let response = await send(method, path, { token, body, headers });
  if (response.status === 401) {
    token = await refreshAfter(token);
    if (!token) {
      sessionRefused();
      throw new ApiError(401, { title: 'Your session has ended' });
    }
    response = await send(method, path, { token, body, headers });
  }
  const data = await readJson(response);
  if (!response.ok) {
    const error = new ApiError(response.status, data, response.headers);
    if (response.status === 401) sessionRefused();
    if (response.status === 403 && error.is('password-change-required')) passwordChangeRequired();
    throw error;
  }
  return { data, etag: response.headers.get('etag'), status: response.status, headers: response.headers };
}

export const get = (path) => call('GET', path);
