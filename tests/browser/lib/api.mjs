// Setting data up through the public API, from Node, as an integrator would.

import { randomBytes } from 'node:crypto';

/** The password every account made by createUser gets unless told otherwise. */
export const USER_PASSWORD = 'browser-tests-password';

let made = 0;
/** A name no other call in any test process returns. */
export function unique(prefix) {
  made += 1;
  return `${prefix}-${process.pid}-${made}-${randomBytes(3).toString('hex')}`;
}

/** The body README's walkthrough submits: valid for any practitioner. */
export function requestBody(overrides = {}) {
  return {
    title: 'Concern about county lines recruitment',
    description: 'A 15-year-old is being asked to carry packages between two towns.',
    category: 'child_criminal_exploitation',
    urgency: 'high',
    young_person: { age: 15, flags: ['missing_from_home'] },
    contact: { method: 'phone', times: 'weekdays 9-5' },
    ...overrides,
  };
}

function failure(what, answer) {
  const body = typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body);
  return new Error(`${what}: HTTP ${answer.status} ${body}`);
}

/**
 * API helpers bound to one server's base URL (startServer() puts them on the
 * server object itself).
 */
export function apiClient(base, { adminEmail, adminPassword } = {}) {
  /**
   * One call. `path` is under /api/v1 unless it starts with /api/ itself
   * ('/requests' → /api/v1/requests). A plain object body is sent as JSON;
   * a string or URLSearchParams as is. Never throws on an HTTP status.
   * Returns { status, headers (lower-case names), body (parsed JSON, text,
   * or null when empty) }.
   */
  async function api(token, method, path, body, headers = {}) {
    const url = base + (path.startsWith('/api/') ? path : `/api/v1${path.startsWith('/') ? '' : '/'}${path}`);
    const sent = { ...headers };
    if (token) sent.authorization = `Bearer ${token}`;
    let payload;
    if (body !== undefined && body !== null) {
      if (typeof body === 'string' || body instanceof URLSearchParams) {
        payload = body;
      } else {
        payload = JSON.stringify(body);
        if (!Object.keys(sent).some((h) => h.toLowerCase() === 'content-type')) {
          sent['content-type'] = 'application/json';
        }
      }
    }
    const answer = await fetch(url, { method, headers: sent, body: payload, redirect: 'manual' });
    const text = await answer.text();
    let parsed = text === '' ? null : text;
    if (text !== '' && /json/.test(answer.headers.get('content-type') ?? '')) parsed = JSON.parse(text);
    return { status: answer.status, headers: Object.fromEntries(answer.headers), body: parsed };
  }

  /** Signs in (body mode) and returns the access token. */
  async function signIn(email, password = USER_PASSWORD) {
    const answer = await api(null, 'POST', '/auth/login', { email, password });
    if (answer.status !== 200) throw failure(`sign-in as ${email}`, answer);
    return answer.body.access_token;
  }

  /** Signs the bootstrap admin in; returns a fresh access token. */
  function adminToken() {
    return signIn(adminEmail, adminPassword);
  }

  /** Creates a team; returns it ({ id, name, … }). */
  async function createTeam(token, { name = unique('Team'), description } = {}) {
    const answer = await api(token, 'POST', '/teams', { name, ...(description ? { description } : {}) });
    if (answer.status !== 201) throw failure('create team', answer);
    return answer.body;
  }

  /**
   * Creates an account; returns { id, email, password, role, display_name,
   * user } (user: the API's answer). Emails are unique. Practitioners get
   * organisation 'police' and region 'london' unless given; specialists and
   * coordinators need `team_ids` (a team id list).
   */
  async function createUser(token, { role = 'practitioner', email, password = USER_PASSWORD, display_name, ...rest } = {}) {
    email ??= `${unique(role)}@browser-tests.example`;
    display_name ??= `${role[0].toUpperCase()}${role.slice(1)} ${made}`;
    const body = { email, password, role, display_name, ...rest };
    if (role === 'practitioner') {
      body.organisation ??= 'police';
      body.region ??= 'london';
    } else if ((role === 'specialist' || role === 'coordinator') && !body.team_ids) {
      throw new Error(`createUser: a ${role} needs team_ids (createTeam first)`);
    }
    const answer = await api(token, 'POST', '/users', body);
    if (answer.status !== 201) throw failure(`create ${role} ${email}`, answer);
    return { id: answer.body.id, email, password, role, display_name, user: answer.body };
  }

  /**
   * A practitioner submits a request: README's body with `overrides`
   * (top-level fields replaced). Returns the created request (id,
   * reference, status, …).
   */
  async function submitRequest(token, overrides = {}, headers = {}) {
    const answer = await api(token, 'POST', '/requests', requestBody(overrides), headers);
    if (answer.status !== 201) throw failure('submit request', answer);
    return answer.body;
  }

  /**
   * A fresh unit: a team, and one account per role, each signed in.
   * Returns { admin, team, specialist, coordinator, practitioner,
   * otherPractitioner } where each person is { id, email, password, role,
   * display_name, token } (admin: the bootstrap admin) and team is the API's
   * team. otherPractitioner works for another organisation and region
   * (health, wales), so sees none of practitioner's requests.
   */
  async function seedUnit() {
    const token = await adminToken();
    const team = await createTeam(token);
    const [specialist, coordinator, practitioner, otherPractitioner] = await Promise.all([
      createUser(token, { role: 'specialist', team_ids: [team.id] }),
      createUser(token, { role: 'coordinator', team_ids: [team.id] }),
      createUser(token, { role: 'practitioner' }),
      createUser(token, { role: 'practitioner', organisation: 'health', region: 'wales' }),
    ]);
    const people = { specialist, coordinator, practitioner, otherPractitioner };
    await Promise.all(
      Object.values(people).map(async (person) => {
        person.token = await signIn(person.email, person.password);
      }),
    );
    const me = await api(token, 'GET', '/me');
    const admin = { id: me.body?.id, email: adminEmail, password: adminPassword, role: 'admin', display_name: me.body?.display_name, token };
    return { admin, team, ...people };
  }

  return { api, signIn, adminToken, createTeam, createUser, submitRequest, seedUnit };
}
