// What the federation end-to-end scripts (oidc_e2e.mjs, social_e2e.mjs) share: PASS/FAIL
// reporting, free ports, running `gatehouse serve` and cleaning up after it, and the app's side
// of the OAuth flow (authorize URL, callback checks, token exchange, ID token verification).

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { describeResponse, httpRequest, verifyJwt } from './browser.mjs';

export const STARTUP_TIMEOUT_MS = 60_000;

// ---------------------------------------------------------------------------
// Expectations and reporting
// ---------------------------------------------------------------------------

/** A check's expectation that did not hold (its message is the FAIL line's reason). */
export class CheckFailure extends Error {}

export function expect(condition, message) {
  if (!condition) throw new CheckFailure(message);
}

export function expectEqual(actual, expected, what) {
  if (actual !== expected) throw new CheckFailure(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
}

export function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new CheckFailure(`${what} did not finish within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** PASS/FAIL/INFO lines and the `N passed, M failed` count. */
export class Reporter {
  constructor({ checkTimeoutMs = 45_000 } = {}) {
    this.checkTimeoutMs = checkTimeoutMs;
    this.passed = 0;
    this.failed = 0;
  }

  /** Runs one check: `fn` returns an optional detail for the PASS line, or throws. */
  async check(number, name, fn, { timeoutMs = this.checkTimeoutMs } = {}) {
    const label = `${number} ${name}`;
    try {
      const detail = await withTimeout(Promise.resolve().then(fn), timeoutMs, `check ${number}`);
      this.passed += 1;
      console.log(`PASS ${label}${detail ? ` — ${detail}` : ''}`);
      return true;
    } catch (err) {
      this.failed += 1;
      console.log(`FAIL ${label} — ${err?.message ?? err}`);
      if (process.env.DEBUG && err?.stack) console.error(err.stack);
      return false;
    }
  }

  fail(label, message) {
    this.failed += 1;
    console.log(`FAIL ${label} — ${message}`);
  }

  info(text) {
    console.log(`INFO ${text}`);
  }

  /** Setup failed: one FAIL for it and one for each check that cannot run. */
  setupFailed(err, checkLabels) {
    this.fail('0 setup', err?.message ?? String(err));
    for (const n of checkLabels) this.fail(`${n} not run`, 'setup failed');
  }

  summary(extraFailures = 0) {
    console.log(`${this.passed} passed, ${this.failed + extraFailures} failed`);
  }
}

// ---------------------------------------------------------------------------
// Processes, ports, files
// ---------------------------------------------------------------------------

export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

export function tail(file, lines = 40) {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/**
 * Starts `gatehouse serve` with the config file, a SQLite database, `--outbox` and its log in
 * `tmp`; resolves with a handle { child, logFile, exited, stop() } when it prints
 * `Gatehouse listening on`. `env` is added to the environment (after GATEHOUSE_* and
 * DATABASE_URL are removed from it, so that only the flags configure Gatehouse).
 */
export function startGatehouse({ bin, configFile, tmp, port, env: extraEnv = {}, startupTimeoutMs = STARTUP_TIMEOUT_MS }) {
  const logFile = path.join(tmp, 'gatehouse.log');
  const log = createWriteStream(logFile);
  const env = { ...process.env };
  // Flags are explicit; keep the caller's environment from overriding anything else.
  for (const k of Object.keys(env)) if (k.startsWith('GATEHOUSE_') || k === 'DATABASE_URL') delete env[k];
  Object.assign(env, extraEnv);
  env.RUST_BACKTRACE = env.RUST_BACKTRACE ?? '1';
  const args = [
    'serve',
    '--config', configFile,
    '--database-url', `sqlite://${path.join(tmp, 'g.db')}`,
    '--listen', `127.0.0.1:${port}`,
    '--public-url', `http://127.0.0.1:${port}`,
    '--outbox', path.join(tmp, 'outbox.jsonl'),
  ];
  const child = spawn(bin, args, { cwd: tmp, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const handle = {
    child,
    logFile,
    exited: false,
    stop() {
      return new Promise((resolve) => {
        if (handle.exited) return resolve();
        const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
        child.once('exit', () => {
          clearTimeout(killer);
          resolve();
        });
        child.kill('SIGTERM');
      });
    },
  };
  return new Promise((resolve, reject) => {
    let buffered = '';
    let ready = false;
    const timer = setTimeout(() => {
      if (!ready) reject(new Error(`gatehouse did not print "Gatehouse listening on" within ${startupTimeoutMs} ms; log:\n${tail(logFile)}`));
    }, startupTimeoutMs);
    child.stdout.on('data', (chunk) => {
      log.write(chunk);
      if (ready) return;
      buffered += chunk.toString('utf8');
      const line = buffered.split('\n').find((l) => l.startsWith('Gatehouse listening on'));
      if (line) {
        ready = true;
        clearTimeout(timer);
        handle.listeningLine = line.trim();
        resolve(handle);
      }
    });
    child.stderr.on('data', (chunk) => log.write(chunk));
    child.on('error', (err) => {
      handle.exited = true;
      clearTimeout(timer);
      reject(new Error(`cannot run ${bin}: ${err.message}`));
    });
    child.on('exit', (code, signal) => {
      handle.exited = true;
      handle.exitStatus = signal ?? code;
      if (!ready) {
        clearTimeout(timer);
        // Let the log stream flush before reading it.
        setTimeout(() => reject(new Error(`gatehouse exited (${signal ?? code}) before listening; log:\n${tail(logFile)}`)), 100);
      }
    });
  });
}

/**
 * Runs a test script's body with a temporary directory and a Reporter, and always cleans up:
 * on return, on a crash, on SIGINT/SIGTERM, and after `overallTimeoutMs`. The body registers what
 * must be stopped with `onCleanup(async fn)` (run last-registered first) and the Gatehouse handle
 * with `setGatehouse(handle)` (killed at exit as a last resort; its log tail is printed when a
 * check failed). Prints `N passed, M failed` and sets the exit code (0 only if all passed).
 */
export async function runSuite({ tmpPrefix, keepTmp = process.env.KEEP_TMP === '1', checkTimeoutMs, overallTimeoutMs = 300_000 }, body) {
  const reporter = new Reporter({ checkTimeoutMs });
  const tmp = mkdtempSync(path.join(tmpdir(), tmpPrefix));
  const stoppers = [];
  let gatehouse;
  let cleaned = false;
  const cleanup = async () => {
    if (cleaned) return;
    cleaned = true;
    await gatehouse?.stop().catch(() => {});
    for (const stop of stoppers.reverse()) await Promise.resolve().then(stop).catch(() => {});
    if (keepTmp) console.error(`(kept ${tmp})`);
    else rmSync(tmp, { recursive: true, force: true });
  };
  for (const sig of ['SIGINT', 'SIGTERM']) {
    process.once(sig, async () => {
      await cleanup();
      process.exit(130);
    });
  }
  process.once('exit', () => {
    // Last resort if something above did not get to run.
    if (gatehouse && !gatehouse.exited) gatehouse.child.kill('SIGKILL');
    if (!cleaned && !keepTmp) rmSync(tmp, { recursive: true, force: true });
  });
  const overall = setTimeout(async () => {
    console.log(`FAIL overall timeout: the test did not finish within ${overallTimeoutMs} ms`);
    reporter.summary(1);
    await cleanup();
    process.exit(1);
  }, overallTimeoutMs);
  overall.unref();

  const suite = {
    tmp,
    reporter,
    onCleanup: (fn) => stoppers.push(fn),
    setGatehouse: (handle) => {
      gatehouse = handle;
    },
  };
  let crashed = 0;
  try {
    await body(suite);
  } catch (err) {
    crashed = 1;
    console.log(`FAIL crashed — ${err?.stack ?? err}`);
  } finally {
    if ((reporter.failed > 0 || crashed) && gatehouse) {
      console.error(`--- gatehouse log (last 40 lines of ${gatehouse.logFile}) ---`);
      console.error(tail(gatehouse.logFile));
      console.error('--- end of gatehouse log ---');
    }
    await cleanup();
    reporter.summary(crashed);
    process.exitCode = reporter.failed === 0 && !crashed && reporter.passed > 0 ? 0 : 1;
  }
}

// ---------------------------------------------------------------------------
// The app's side of the flow
// ---------------------------------------------------------------------------

export const random = () => randomBytes(12).toString('base64url');

/** The payload of a JWT, unverified. */
export function jwtClaims(token) {
  return JSON.parse(Buffer.from(String(token).split('.')[1] ?? '', 'base64url').toString('utf8'));
}

export function callbackSummary(url) {
  const q = url.searchParams;
  if (q.has('error')) return `error=${q.get('error')}${q.has('error_description') ? ` error_description="${q.get('error_description')}"` : ''}`;
  return `code=${q.has('code') ? '…' : '(none)'} state=${q.get('state')}`;
}

/** Where a navigation ended, in words. */
export function outcome(nav) {
  if (nav.stoppedAt) return `redirected to ${nav.stoppedAt.origin}${nav.stoppedAt.pathname} (${callbackSummary(nav.stoppedAt)})`;
  return describeResponse(nav.page, 300);
}

/**
 * `identities` as Cognito has it: an array of one object (accepted as an array or a JSON string
 * of an array). `issuer`: the expected value (null is always accepted too, as Cognito puts null
 * there for social providers). Returns the entry or throws.
 */
export function expectIdentity(claims, { userId, providerName, providerType, issuer = null }) {
  let identities = claims.identities;
  expect(identities !== undefined, 'no identities claim');
  if (typeof identities === 'string') {
    try {
      identities = JSON.parse(identities);
    } catch {
      throw new CheckFailure(`identities is a string that is not JSON: ${claims.identities}`);
    }
  }
  expect(Array.isArray(identities), `identities is not an array: ${JSON.stringify(claims.identities)}`);
  expectEqual(identities.length, 1, 'number of identities');
  const id = identities[0];
  expect(id && typeof id === 'object', `identities[0] is not an object: ${JSON.stringify(id)}`);
  expectEqual(id.userId, userId, 'identities[0].userId');
  expectEqual(id.providerName, providerName, 'identities[0].providerName');
  expectEqual(id.providerType, providerType, 'identities[0].providerType');
  expect(id.issuer === issuer || id.issuer === null, `identities[0].issuer: expected ${JSON.stringify(issuer)}${issuer === null ? '' : ' or null'}, got ${JSON.stringify(id.issuer)}`);
  expect(id.primary === true || id.primary === 'true', `identities[0].primary: expected true or "true", got ${JSON.stringify(id.primary)}`);
  const dc = id.dateCreated;
  expect(
    (typeof dc === 'number' && Number.isFinite(dc)) || (typeof dc === 'string' && /^\d+$/.test(dc)),
    `identities[0].dateCreated: expected a number or numeric string, got ${JSON.stringify(dc)}`,
  );
  return id;
}

/**
 * The relying party: a public app client of a Gatehouse pool at `base`
 * (`http://127.0.0.1:<port>/<pool id>`) whose callback is never requested.
 */
export class App {
  constructor({ base, clientId, callback, scope = 'openid email profile' }) {
    this.base = base;
    this.clientId = clientId;
    this.callback = callback;
    this.origin = new URL(callback).origin;
    this.scope = scope;
    /** For Browser's stopAt: the app's own URLs are never requested. */
    this.isApp = (url) => url.origin === this.origin;
  }

  authorizeUrl({ state, identityProvider }) {
    const q = new URLSearchParams({
      response_type: 'code',
      client_id: this.clientId,
      redirect_uri: this.callback,
      scope: this.scope,
      state,
    });
    if (identityProvider) q.set('identity_provider', identityProvider);
    return `${this.base}/oauth2/authorize?${q}`;
  }

  /** Expects the navigation to have stopped at the app's callback with a code and `state`. */
  expectCode(nav, state) {
    expect(nav.stoppedAt && this.isApp(nav.stoppedAt), `did not end at the app's callback: ${outcome(nav)}`);
    const cb = nav.stoppedAt;
    expectEqual(`${cb.origin}${cb.pathname}`, this.callback, 'callback URL');
    expect(!cb.searchParams.has('error'), `callback carries an error: ${callbackSummary(cb)}`);
    expect(cb.searchParams.get('code'), `callback has no code: ${cb.search}`);
    expectEqual(cb.searchParams.get('state'), state, "the app's state at the callback");
    return cb.searchParams.get('code');
  }

  /**
   * Expects the navigation to have stopped at the app's callback with an `error`, the app's
   * `state` and no code. Returns the callback's query parameters.
   */
  expectError(nav, state) {
    expect(nav.stoppedAt && this.isApp(nav.stoppedAt), `did not end at the app's callback: ${outcome(nav)}`);
    const cb = nav.stoppedAt;
    expectEqual(`${cb.origin}${cb.pathname}`, this.callback, 'callback URL');
    const q = cb.searchParams;
    expect(!q.has('code'), `a code came back: ${callbackSummary(cb)}`);
    expect(q.get('error'), `callback without error or code: ${cb.search}`);
    expectEqual(q.get('state'), state, "the app's state at the callback");
    return q;
  }

  async exchange(code) {
    const res = await httpRequest(`${this.base}/oauth2/token`, {
      method: 'POST',
      form: { grant_type: 'authorization_code', client_id: this.clientId, code, redirect_uri: this.callback },
    });
    expectEqual(res.status, 200, `token endpoint status (${res.body.slice(0, 300)})`);
    expect(res.json?.id_token, `no id_token in ${res.body.slice(0, 300)}`);
    return res.json;
  }

  /** The ID token's claims after checking its signature (pool JWKS), `iss` and `aud`. */
  async verifiedClaims(idToken) {
    if (!this.jwks) {
      const meta = (await httpRequest(`${this.base}/.well-known/openid-configuration`)).json;
      this.jwks = (await httpRequest(meta.jwks_uri)).json;
    }
    let claims;
    try {
      claims = verifyJwt(idToken, this.jwks, { algorithms: ['RS256'] }).payload;
    } catch (err) {
      throw new CheckFailure(`Gatehouse ID token does not verify against the pool's JWKS: ${err.message}`);
    }
    expectEqual(claims.iss, this.base, 'ID token iss');
    expectEqual(claims.aud, this.clientId, 'ID token aud');
    return claims;
  }
}
