// The real server on a fresh SQLite database, for browser tests and the
// budgets script. No node:test in here, so scripts can use it too.

import { spawn } from 'node:child_process';
import { mkdtempSync, openSync, closeSync, readFileSync, readdirSync, rmSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { apiClient } from './api.mjs';

/** The repository's root folder. */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/** The server binary: $NRU_HELPDESK_BIN, else the debug build (scripts/web-test builds it). */
export function serverBinary() {
  return process.env.NRU_HELPDESK_BIN || join(repoRoot, 'target/debug/nru-helpdesk');
}

export const ADMIN_EMAIL = 'admin@browser-tests.example';
export const ADMIN_PASSWORD = 'browser-tests-admin-password';

const running = new Set();

// Whatever ends the test process, its servers end too (a SIGKILL of the
// test process itself cannot be caught: the server would outlive it).
process.on('exit', () => {
  for (const server of running) server._killNow();
});
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    for (const server of running) server._killNow();
    process.exit(signal === 'SIGINT' ? 130 : 143);
  });
}

/** Stops every server this process started and has not stopped yet. */
export async function stopAllServers() {
  await Promise.all([...running].map((server) => server.stop()));
}

/** A loopback port nobody listens on right now. */
function freePort() {
  return new Promise((ok, fail) => {
    const probe = createServer();
    probe.unref();
    probe.on('error', fail);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => ok(port));
    });
  });
}

const sleep = (ms) => new Promise((ok) => setTimeout(ok, ms));

/**
 * Starts `nru-helpdesk serve` on a free loopback port with a fresh SQLite
 * file in a temporary folder, and waits until /readyz answers.
 *
 * Settings (as `.ci/server.sh`): a bootstrap admin, the sign-in throttle
 * raised to 1,000,000 failures, request budgets off, log level warn;
 * `server.public_origin` and `email.web_base_url` are the server's own
 * http://127.0.0.1:<port>; emails are written as .eml files into
 * `<dir>/mail` (`server.emails()` reads them).
 *
 * `env` overrides or adds settings, for example
 *   { APP__AUTH__ACCESS_TOKEN_TTL_SECONDS: '5',
 *     APP__AUTH__IDLE_TIMEOUT_SECONDS: '20',
 *     APP__AUTH__LOGIN_MAX_FAILURES_PER_ACCOUNT_ADDRESS: '3' }
 *
 * Returns { base, origin, port, adminEmail, adminPassword, dir, mailDir,
 * logFile, log(), emails(), stop() } plus the API helpers of apiClient(base)
 * (signIn, api, createTeam, createUser, submitRequest, seedUnit, adminToken).
 * stop() is idempotent; servers still running when the process exits are
 * killed.
 */
export async function startServer({ env = {}, binary = serverBinary(), readyTimeoutMs = 30_000 } = {}) {
  if (!existsSync(binary)) {
    throw new Error(`no server binary at ${binary}: run \`cargo build\` first (scripts/web-test does)`);
  }
  let lastError;
  // The port is free when probed but another process could take it before
  // the server binds it: try again on a new port then.
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await startOnce({ env, binary, readyTimeoutMs, port: await freePort() });
    } catch (error) {
      lastError = error;
      if (!error.portTaken) throw error;
    }
  }
  throw lastError;
}

async function startOnce({ env, binary, readyTimeoutMs, port }) {
  const dir = mkdtempSync(join(tmpdir(), 'nru-browser-'));
  const base = `http://127.0.0.1:${port}`;
  const mailDir = join(dir, 'mail');
  const logFile = join(dir, 'server.log');
  const settings = {
    APP_ENV: 'development',
    APP_CONFIG_DIR: join(repoRoot, 'config'),
    APP__DATABASE__URL: `sqlite://${join(dir, 'browser.db')}`,
    APP__SERVER__HOST: '127.0.0.1',
    APP__SERVER__PORT: String(port),
    APP__SERVER__PUBLIC_ORIGIN: base,
    APP__SERVER__SHUTDOWN_TIMEOUT_SECONDS: '1',
    APP__BOOTSTRAP__ADMIN_EMAIL: ADMIN_EMAIL,
    APP__BOOTSTRAP__ADMIN_PASSWORD: ADMIN_PASSWORD,
    APP__AUTH__LOGIN_MAX_FAILURES_PER_ADDRESS: '1000000',
    APP__AUTH__LOGIN_MAX_FAILURES_PER_ACCOUNT: '1000000',
    APP__AUTH__LOGIN_MAX_FAILURES_PER_ACCOUNT_ADDRESS: '1000000',
    APP__LIMITS__PER_CALLER_PER_MINUTE: '0',
    APP__LIMITS__PER_ADDRESS_PER_MINUTE: '0',
    APP__LOG__LEVEL: 'warn',
    NO_COLOR: '1',
    APP__EMAIL__TRANSPORT: 'file',
    APP__EMAIL__FILE_DIR: mailDir,
    APP__EMAIL__WEB_BASE_URL: base,
    APP__EMAIL__WORKER_INTERVAL_SECONDS: '1',
    ...env,
  };
  const logFd = openSync(logFile, 'a');
  const child = spawn(binary, ['serve'], {
    cwd: repoRoot,
    env: { ...process.env, ...settings },
    stdio: ['ignore', logFd, logFd],
  });
  closeSync(logFd);
  // The test process may end while the server runs: the exit handler kills it.
  child.unref();

  let exited = null;
  const exitedPromise = new Promise((ok) => {
    child.on('exit', (code, signal) => {
      exited = { code, signal };
      ok(exited);
    });
  });
  const log = () => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : '');

  let stopped = false;
  const server = {
    base,
    origin: base,
    port,
    adminEmail: ADMIN_EMAIL,
    adminPassword: ADMIN_PASSWORD,
    dir,
    mailDir,
    logFile,
    pid: child.pid,
    /** The server's output so far (warnings and errors). */
    log,
    /** The emails written so far: [{ file, raw }], oldest first by name. */
    emails() {
      if (!existsSync(mailDir)) return [];
      return readdirSync(mailDir)
        .filter((f) => f.endsWith('.eml'))
        .sort()
        .map((file) => ({ file, raw: readFileSync(join(mailDir, file), 'utf8') }));
    },
    /** Stops the server (SIGTERM, SIGKILL after 5 s) and removes its folder. */
    async stop() {
      if (stopped) return;
      stopped = true;
      running.delete(server);
      if (!exited) {
        child.kill('SIGTERM');
        const killer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await exitedPromise;
        clearTimeout(killer);
      }
      rmSync(dir, { recursive: true, force: true });
    },
    _killNow() {
      if (!exited) child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
  Object.assign(server, apiClient(base, { adminEmail: ADMIN_EMAIL, adminPassword: ADMIN_PASSWORD }));
  running.add(server);

  const deadline = Date.now() + readyTimeoutMs;
  for (;;) {
    if (exited) {
      running.delete(server);
      const output = log();
      rmSync(dir, { recursive: true, force: true });
      const error = new Error(
        `the server exited (${exited.signal ?? `code ${exited.code}`}) before it was ready:\n${output.slice(-4000)}`,
      );
      error.portTaken = /address already in use|AddrInUse/i.test(output);
      throw error;
    }
    try {
      const answer = await fetch(`${base}/readyz`, { signal: AbortSignal.timeout(2_000) });
      if (answer.ok) return server;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await server.stop();
      throw new Error(`the server was not ready within ${readyTimeoutMs} ms:\n${log().slice(-4000)}`);
    }
    await sleep(50);
  }
}
