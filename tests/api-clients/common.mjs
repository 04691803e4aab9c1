// Shared by the node suites: the environment the Rust test passes, checks that print one line
// each, codes from the server's outbox file and ID tokens verified against the pool's JWKS with
// jose (tests/api-clients/README.md).
import { existsSync, readFileSync } from 'node:fs';
import { createRemoteJWKSet, jwtVerify } from 'jose';

const env = (name, fallback = '') => process.env[name] ?? fallback;
export const ENDPOINT = env('GATEHOUSE_ENDPOINT', 'http://127.0.0.1:8080/');
export const POOL_ID = env('GATEHOUSE_POOL_ID', 'local_Example01');
export const PUBLIC_CLIENT = env('GATEHOUSE_PUBLIC_CLIENT_ID');
export const LEGACY_CLIENT = env('GATEHOUSE_LEGACY_CLIENT_ID');
export const CONFIDENTIAL_CLIENT = env('GATEHOUSE_CONFIDENTIAL_CLIENT_ID');
export const ADMIN_KEY = env('GATEHOUSE_ADMIN_KEY_ID');
export const ADMIN_SECRET = env('GATEHOUSE_ADMIN_SECRET');
export const READ_KEY = env('GATEHOUSE_READ_KEY_ID');
export const OUTBOX = env('GATEHOUSE_OUTBOX');
export const PASSWORD = env('GATEHOUSE_USER_PASSWORD');
export const ISSUER = `${ENDPOINT.replace(/\/$/, '')}/${POOL_ID}`;

let passed = 0;
let failed = 0;

/** Runs one step; prints PASS or FAIL with the reason. A failure does not stop the suite. */
export async function check(name, fn) {
  try {
    await fn();
    passed += 1;
    console.log(`PASS ${name}`);
  } catch (e) {
    failed += 1;
    const code = e?.code || e?.name;
    const reason = `${code ? `${code}: ` : ''}${e?.message ?? e}`.replace(/\n/g, ' ');
    console.log(`FAIL ${name}: ${reason.slice(0, 600)}`);
  }
}

export function finish() {
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed === 0 ? 0 : 1);
}

export function expect(condition, message) {
  if (!condition) throw new Error(typeof message === 'string' ? message : JSON.stringify(message));
}

/** The Cognito exception name a library reported (amazon-cognito-identity-js: `code`; SDK v3: `name`). */
export const errorCode = (e) => e?.code ?? e?.name;

/** Awaits `promise` and requires it to fail with `code` (and a message containing `message`). */
export async function expectError(code, promise, message) {
  let result;
  try {
    result = await promise;
  } catch (e) {
    expect(errorCode(e) === code, `expected ${code}, got ${errorCode(e)}: ${e?.message}`);
    if (message !== undefined) {
      expect(String(e.message).includes(message), `expected message containing ${JSON.stringify(message)}, got ${JSON.stringify(e.message)}`);
    }
    return e;
  }
  throw new Error(`expected ${code}, the call succeeded: ${JSON.stringify(result)?.slice(0, 200)}`);
}

const recipient = (mail) => (Array.isArray(mail.to) ? mail.to[0] : mail.to);

export function mailsTo(to) {
  if (!OUTBOX || !existsSync(OUTBOX)) return [];
  return readFileSync(OUTBOX, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l))
    .filter((m) => recipient(m) === to);
}

/** The six-digit code in email number `after + 1` to `to` (waits for the outbox a little). */
export async function codeFor(to, after = 0) {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const mine = mailsTo(to);
    if (mine.length > after) {
      const found = /(?<!\d)(\d{6})(?!\d)/.exec(mine[after].body ?? '');
      expect(found, `no code in the email to ${to}`);
      return found[1];
    }
    expect(Date.now() < deadline, `no email #${after + 1} to ${to} in ${OUTBOX}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const jwks = createRemoteJWKSet(new URL(`${ISSUER}/.well-known/jwks.json`));

/** Verifies an ID token against the pool's JWKS; returns its claims. */
export async function verifyIdToken(token, clientId, username) {
  const { payload } = await jwtVerify(token, jwks, { issuer: ISSUER, audience: clientId, algorithms: ['RS256'] });
  expect(payload.token_use === 'id', `token_use ${payload.token_use}`);
  if (username !== undefined) expect(payload['cognito:username'] === username, `cognito:username ${payload['cognito:username']}`);
  return payload;
}

/** Verifies an access token (no audience) and returns its claims. */
export async function verifyAccessToken(token) {
  const { payload } = await jwtVerify(token, jwks, { issuer: ISSUER, algorithms: ['RS256'] });
  expect(payload.token_use === 'access', `token_use ${payload.token_use}`);
  return payload;
}
