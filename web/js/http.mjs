// The API's wire format: a same-origin fetch that is never cached, JSON in
// and out, and problem+json (RFC 9457) as an ApiError. No session here:
// api.mjs adds the signed-in person's token.

/** An answer that was not a success, with the API's problem details. */
export class ApiError extends Error {
  constructor(status, problem, headers) {
    super(problem?.detail || problem?.title || `The service answered ${status}`);
    this.status = status;
    this.problem = problem ?? {};
    this.fieldErrors = Array.isArray(problem?.errors) ? problem.errors : [];
    const retry = Number.parseInt(headers?.get('retry-after') ?? '', 10);
    this.retryAfter = Number.isFinite(retry) ? retry : null;
  }

  /** Whether the problem's `type` is the named one (its last path segment). */
  is(kind) {
    return typeof this.problem.type === 'string' && this.problem.type.endsWith(`/${kind}`);
  }
}

/** The service could not be reached at all (no answer). */
function unreachable() {
  return new ApiError(0, {
    title: 'The service could not be reached',
    detail: 'The service could not be reached. Check your connection and try again.',
  });
}

/** A fetch to the API: same origin, never cached, never following redirects elsewhere. */
export async function send(method, path, { token, body, headers = {} } = {}) {
  const all = { accept: 'application/json, application/problem+json', ...headers };
  if (token) all.authorization = `Bearer ${token}`;
  if (body !== undefined) all['content-type'] = 'application/json';
  try {
    return await fetch(`/api/v1${path}`, {
      method,
      headers: all,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
      cache: 'no-store',
      redirect: 'error',
    });
  } catch {
    throw unreachable();
  }
}

/** The JSON of an answer (null for 204 or a body that is not JSON). */
export async function readJson(response) {
  if (response.status === 204) return null;
  const type = response.headers.get('content-type') ?? '';
  if (!type.includes('json')) return null;
  try {
    return await response.json();
  } catch {
    return null;
  }
}

/**
 * Reads and drops an answer whose body is not wanted, so the browser
 * finishes with it (cancelling would count as a failed request).
 */
export function discard(response) {
  response.arrayBuffer().catch(() => {});
}
