#!/usr/bin/env node
// End-to-end test of Gatehouse's OIDC federation against a real OpenID Provider
// (oidc-provider, see upstream.mjs), driven over plain HTTP with a scripted browser.
//
//   GATEHOUSE_BIN=/path/to/gatehouse node oidc_e2e.mjs
//
// Prints one PASS/FAIL line per check, INFO lines about what the upstream saw, and
// `N passed, M failed`; exits 0 only when every check passes. See README.md.

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync, createWriteStream, readFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { Browser, BrowserError, describeResponse, httpRequest, parseLinks, verifyJwt } from './browser.mjs';
import { driveDevInteractions, startUpstream } from './upstream.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const GATEHOUSE_BIN = path.resolve(HERE, process.env.GATEHOUSE_BIN ?? '../../target/debug/gatehouse');
const KEEP_TMP = process.env.KEEP_TMP === '1';

const POOL_ID = 'local_FedTest01';
const CLIENT_ID = 'fedclient00000000000000000';
const APP_ORIGIN = 'http://localhost:3000';
const APP_CALLBACK = `${APP_ORIGIN}/callback`;
const PROVIDER = 'Upstream';
const UPSTREAM_CLIENT_ID = 'gatehouse';

const STARTUP_TIMEOUT_MS = 60_000;
const CHECK_TIMEOUT_MS = 45_000;
const DOWN_TIMEOUT_MS = 15_000;
const OVERALL_TIMEOUT_MS = 300_000;

const ACCOUNTS = {
  ann: { sub: 'ann-0001', email: 'ann@example.org', email_verified: true, given_name: 'Ann', family_name: 'Upstream' },
  bob: { sub: 'bob-0002', email: 'bob@example.org', email_verified: false, given_name: 'Bob' },
};

const CONFIG_TEMPLATE = `[[pool]]
id = "local_FedTest01"
name = "fed"

[[pool.client]]
id = "fedclient00000000000000000"
name = "app"
callback_urls = ["http://localhost:3000/callback"]
allowed_oauth_flows = ["code"]
allowed_oauth_scopes = ["openid", "email", "profile"]
supported_identity_providers = ["COGNITO", "Upstream"]

[[pool.identity_provider]]
name = "Upstream"
type = "OIDC"
attribute_mapping = { email = "email", email_verified = "email_verified", given_name = "given_name", family_name = "family_name", username = "sub" }
[pool.identity_provider.details]
client_id = "gatehouse"
client_secret = "env:UPSTREAM_SECRET"
authorize_scopes = "openid email profile"
oidc_issuer = "http://localhost:UPSTREAM_PORT"
attributes_request_method = "GET"
`;

// ---------------------------------------------------------------------------
// Reporting
// ---------------------------------------------------------------------------

let passed = 0;
let failed = 0;

class CheckFailure extends Error {}

function expect(condition, message) {
  if (!condition) throw new CheckFailure(message);
}

function expectEqual(actual, expected, what) {
  if (actual !== expected) throw new CheckFailure(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
}

function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new CheckFailure(`${what} did not finish within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

async function check(number, name, fn) {
  const label = `${number} ${name}`;
  try {
    const detail = await withTimeout(Promise.resolve().then(fn), CHECK_TIMEOUT_MS, `check ${number}`);
    passed += 1;
    console.log(`PASS ${label}${detail ? ` — ${detail}` : ''}`);
    return true;
  } catch (err) {
    failed += 1;
    console.log(`FAIL ${label} — ${err?.message ?? err}`);
    if (process.env.DEBUG && err?.stack) console.error(err.stack);
    return false;
  }
}

function info(text) {
  console.log(`INFO ${text}`);
}

// ---------------------------------------------------------------------------
// Processes and files
// ---------------------------------------------------------------------------

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function tail(file, lines = 40) {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Starts `gatehouse serve`; resolves when it prints `Gatehouse listening on`. */
function startGatehouse({ bin, configFile, tmp, port, upstreamSecret }) {
  const logFile = path.join(tmp, 'gatehouse.log');
  const log = createWriteStream(logFile);
  const env = { ...process.env, UPSTREAM_SECRET: upstreamSecret };
  // Flags are explicit; keep the caller's environment from overriding anything else.
  for (const k of Object.keys(env)) if (k.startsWith('GATEHOUSE_') || k === 'DATABASE_URL') delete env[k];
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
      if (!ready) reject(new Error(`gatehouse did not print "Gatehouse listening on" within ${STARTUP_TIMEOUT_MS} ms; log:\n${tail(logFile)}`));
    }, STARTUP_TIMEOUT_MS);
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

// ---------------------------------------------------------------------------
// Flow helpers
// ---------------------------------------------------------------------------

const random = () => randomBytes(12).toString('base64url');
const isApp = (url) => url.origin === APP_ORIGIN;

function idTokenClaims(token) {
  return JSON.parse(Buffer.from(String(token).split('.')[1] ?? '', 'base64url').toString('utf8'));
}

function callbackSummary(url) {
  const q = url.searchParams;
  if (q.has('error')) return `error=${q.get('error')}${q.has('error_description') ? ` error_description="${q.get('error_description')}"` : ''}`;
  return `code=${q.has('code') ? '…' : '(none)'} state=${q.get('state')}`;
}

/** Where a navigation ended, in words. */
function outcome(nav) {
  if (nav.stoppedAt) return `redirected to ${nav.stoppedAt.origin}${nav.stoppedAt.pathname} (${callbackSummary(nav.stoppedAt)})`;
  return describeResponse(nav.page, 300);
}

/** Expects the navigation to have stopped at the app's callback with a code and `state`. */
function expectCodeAtCallback(nav, state) {
  expect(nav.stoppedAt && isApp(nav.stoppedAt), `did not end at the app's callback: ${outcome(nav)}`);
  const cb = nav.stoppedAt;
  expectEqual(`${cb.origin}${cb.pathname}`, APP_CALLBACK, 'callback URL');
  expect(!cb.searchParams.has('error'), `callback carries an error: ${callbackSummary(cb)}`);
  expect(cb.searchParams.get('code'), `callback has no code: ${cb.search}`);
  expectEqual(cb.searchParams.get('state'), state, "the app's state at the callback");
  return cb.searchParams.get('code');
}

function jwtError(err) {
  return err instanceof CheckFailure ? err : new CheckFailure(err.message);
}

/**
 * `identities` as Cognito has it: an array of one object (accepted as an array or a JSON string
 * of an array). Returns the entry or throws.
 */
function expectIdentity(claims, { userId, issuer }) {
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
  expectEqual(id.providerName, PROVIDER, 'identities[0].providerName');
  expectEqual(id.providerType, 'OIDC', 'identities[0].providerType');
  expect(id.issuer === issuer || id.issuer === null, `identities[0].issuer: expected ${JSON.stringify(issuer)} or null, got ${JSON.stringify(id.issuer)}`);
  expect(id.primary === true || id.primary === 'true', `identities[0].primary: expected true or "true", got ${JSON.stringify(id.primary)}`);
  const dc = id.dateCreated;
  expect(
    (typeof dc === 'number' && Number.isFinite(dc)) || (typeof dc === 'string' && /^\d+$/.test(dc)),
    `identities[0].dateCreated: expected a number or numeric string, got ${JSON.stringify(dc)}`,
  );
  return id;
}

// ---------------------------------------------------------------------------
// The test
// ---------------------------------------------------------------------------

async function main() {
  const tmp = mkdtempSync(path.join(tmpdir(), 'gatehouse-fed-'));
  let upstream;
  let gatehouse;
  let cleaned = false;
  const cleanup = async () => {
    if (cleaned) return;
    cleaned = true;
    await gatehouse?.stop().catch(() => {});
    await upstream?.close().catch(() => {});
    if (KEEP_TMP) console.error(`(kept ${tmp})`);
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
    if (!cleaned && !KEEP_TMP) rmSync(tmp, { recursive: true, force: true });
  });
  const overall = setTimeout(async () => {
    console.log(`FAIL overall timeout: the test did not finish within ${OVERALL_TIMEOUT_MS} ms`);
    console.log(`${passed} passed, ${failed + 1} failed`);
    await cleanup();
    process.exit(1);
  }, OVERALL_TIMEOUT_MS);
  overall.unref();

  const CHECKS = 8;
  try {
    // --- setup -------------------------------------------------------------
    let setupError;
    let base;
    let idpResponse;
    let upstreamMeta;
    try {
      if (!existsSync(GATEHOUSE_BIN)) throw new Error(`GATEHOUSE_BIN ${GATEHOUSE_BIN} does not exist`);
      const gport = await freePort();
      base = `http://127.0.0.1:${gport}/${POOL_ID}`;
      idpResponse = `${base}/oauth2/idpresponse`;
      const upstreamSecret = randomBytes(24).toString('base64url');
      upstream = await startUpstream({
        port: 0,
        clientId: UPSTREAM_CLIENT_ID,
        clientSecret: upstreamSecret,
        redirectUris: [idpResponse],
        accounts: ACCOUNTS,
        conformIdTokenClaims: process.env.UPSTREAM_FULL_ID_TOKEN !== '1',
      });
      upstreamMeta = (await httpRequest(`${upstream.issuer}/.well-known/openid-configuration`)).json;
      const configFile = path.join(tmp, 'gatehouse.toml');
      writeFileSync(configFile, CONFIG_TEMPLATE.replace('UPSTREAM_PORT', String(upstream.port)));
      gatehouse = await startGatehouse({ bin: GATEHOUSE_BIN, configFile, tmp, port: gport, upstreamSecret });
      info(`upstream ${upstream.issuer} (oidc-provider), gatehouse ${base} (${path.relative(process.cwd(), GATEHOUSE_BIN) || GATEHOUSE_BIN})`);
    } catch (err) {
      setupError = err;
    }
    if (setupError) {
      console.log(`FAIL 0 setup — ${setupError.message}`);
      failed += 1;
      for (let n = 1; n <= CHECKS; n += 1) {
        console.log(`FAIL ${n} not run — setup failed`);
        failed += 1;
      }
      return;
    }

    const gatehouseOrigin = new URL(base).origin;
    const upstreamOrigin = new URL(upstream.issuer).origin;
    const authorizeUrl = ({ state, identityProvider }) => {
      const q = new URLSearchParams({
        response_type: 'code',
        client_id: CLIENT_ID,
        redirect_uri: APP_CALLBACK,
        scope: 'openid email profile',
        state,
      });
      if (identityProvider) q.set('identity_provider', identityProvider);
      return `${base}/oauth2/authorize?${q}`;
    };
    const exchange = async (code) => {
      const res = await httpRequest(`${base}/oauth2/token`, {
        method: 'POST',
        form: { grant_type: 'authorization_code', client_id: CLIENT_ID, code, redirect_uri: APP_CALLBACK },
      });
      expectEqual(res.status, 200, `token endpoint status (${res.body.slice(0, 300)})`);
      expect(res.json?.id_token, `no id_token in ${res.body.slice(0, 300)}`);
      return res.json;
    };
    let gatehouseJwks;
    const verifiedClaims = async (idToken) => {
      if (!gatehouseJwks) {
        const meta = (await httpRequest(`${base}/.well-known/openid-configuration`)).json;
        gatehouseJwks = (await httpRequest(meta.jwks_uri)).json;
      }
      let claims;
      try {
        claims = verifyJwt(idToken, gatehouseJwks, { algorithms: ['RS256'] }).payload;
      } catch (err) {
        throw jwtError(new Error(`Gatehouse ID token does not verify against the pool's JWKS: ${err.message}`));
      }
      expectEqual(claims.iss, base, 'ID token iss');
      expectEqual(claims.aud, CLIENT_ID, 'ID token aud');
      return claims;
    };
    /** Navigation through Gatehouse and the upstream's dev pages until the app's callback. */
    const signIn = async (browser, url, options, initiator = APP_ORIGIN) => {
      const first = await browser.navigate(url, { initiator });
      const driven = await driveDevInteractions(browser, first, options);
      return { first, end: driven.nav, steps: driven.steps, hops: [...first.hops, ...(driven.nav === first ? [] : driven.nav.hops)] };
    };

    const ctx = {};

    // --- 1 -----------------------------------------------------------------
    await check(1, 'authorize?identity_provider=Upstream → upstream (own state, nonce, S256 challenge, idpresponse redirect_uri) → login ann → consent → idpresponse → app callback with code and state', async () => {
      const browser = new Browser({ name: 'jar-1', stopAt: isApp });
      const state = random();
      ctx.appState1 = state;
      const run = await signIn(browser, authorizeUrl({ state, identityProvider: PROVIDER }), { login: 'ann', consent: 'accept' });
      const first = run.first.hops[0] ?? run.first.page;
      // The first hop: Gatehouse's redirect to the upstream's authorization endpoint.
      if (!first) throw new CheckFailure(`no response from Gatehouse: ${outcome(run.first)}`);
      expect([302, 303].includes(first.status) && first.location, `Gatehouse did not redirect: ${describeResponse(first, 300)}`);
      const up = new URL(first.location, first.url);
      expect(
        `${up.origin}${up.pathname}` === upstreamMeta.authorization_endpoint,
        `Gatehouse redirected to ${up.origin}${up.pathname}${isApp(up) ? ` (${callbackSummary(up)})` : ''}, not to the upstream's authorization endpoint ${upstreamMeta.authorization_endpoint}`,
      );
      const p = up.searchParams;
      expectEqual(first.status, 302, 'status of the redirect to the upstream');
      expectEqual(p.get('response_type'), 'code', 'upstream response_type');
      expectEqual(p.get('client_id'), UPSTREAM_CLIENT_ID, 'upstream client_id');
      expectEqual(p.get('redirect_uri'), idpResponse, 'upstream redirect_uri');
      const scopes = new Set((p.get('scope') ?? '').split(' '));
      for (const s of ['openid', 'email', 'profile']) expect(scopes.has(s), `upstream scope lacks ${s}: ${p.get('scope')}`);
      expect(p.get('state'), 'no state sent upstream');
      expect(p.get('nonce'), 'no nonce sent upstream');
      expect(p.get('code_challenge'), 'no code_challenge sent upstream');
      expectEqual(p.get('code_challenge_method'), 'S256', 'code_challenge_method');
      for (const [k, v] of p) expect(!v.includes(state), `the app's state leaks upstream in ${k}=${v}`);
      ctx.upstreamState1 = p.get('state');

      // The way back: upstream → idpresponse → app.
      const back = run.hops.find((h) => h.url.origin === gatehouseOrigin && h.url.pathname === new URL(idpResponse).pathname);
      expect(back, `never reached ${idpResponse}; upstream steps [${run.steps}]; ended ${outcome(run.end)}`);
      expectEqual(back.url.searchParams.get('state'), ctx.upstreamState1, 'state returned to idpresponse');
      expect(back.url.searchParams.get('code'), 'no code at idpresponse');
      ctx.idpResponseUrl1 = back.url.href;
      ctx.snapshot1 = browser.clone('jar-1-snapshot');
      ctx.browser1 = browser;
      expectEqual(run.steps.join(' '), 'login(ann) consent', 'upstream interaction steps');
      ctx.code1 = expectCodeAtCallback(run.end, state);
      return `upstream steps: ${run.steps.join(', ')}; ${run.hops.length} hops`;
    });

    // --- 2 -----------------------------------------------------------------
    await check(2, 'token exchange → ID token: cognito:username Upstream_ann-0001, email, email_verified true, names, identities', async () => {
      expect(ctx.code1, 'no code from check 1');
      const tokens = await exchange(ctx.code1);
      const c = await verifiedClaims(tokens.id_token);
      ctx.claims2 = c;
      expectEqual(c['cognito:username'], `${PROVIDER}_ann-0001`, 'cognito:username');
      expectEqual(c.email, 'ann@example.org', 'email');
      expectEqual(c.email_verified, true, 'email_verified');
      expectEqual(c.given_name, 'Ann', 'given_name');
      expectEqual(c.family_name, 'Upstream', 'family_name');
      const id = expectIdentity(c, { userId: 'ann-0001', issuer: upstream.issuer });
      expect(c.sub, 'no sub');
      return `sub ${c.sub}, identities[0] ${JSON.stringify(id)}`;
    });

    // --- 3 -----------------------------------------------------------------
    await check(3, 'hosted sign-in page links to identity_provider=Upstream; following it (upstream session) returns a code for the same user', async () => {
      expect(ctx.browser1, 'no browser from check 1');
      expect(ctx.claims2?.sub, 'no sub from check 2');
      const browser = ctx.browser1;
      // Forget Gatehouse's cookies (not the upstream's): a Gatehouse session from check 1 would
      // skip the sign-in page this check is about.
      browser.jar.clearHost(new URL(base).hostname);
      const state = random();
      const nav = await browser.navigate(authorizeUrl({ state }), { initiator: APP_ORIGIN });
      expect(!nav.stoppedAt, `no sign-in page: ${outcome(nav)}`);
      const page = nav.page;
      expect(page.status === 200 && page.url.origin === gatehouseOrigin && /\/login$/.test(page.url.pathname), `expected Gatehouse's /login page, got ${describeResponse(page, 200)}`);
      const links = parseLinks(page);
      const link = links.find((l) => l.href.href.includes(`identity_provider=${PROVIDER}`) || l.href.searchParams.get('identity_provider') === PROVIDER);
      expect(link, `no link with identity_provider=${PROVIDER} on ${page.url.pathname}; links: ${links.map((l) => l.attrs.href).join(' ') || '(none)'}`);
      const followed = await browser.follow(page, link.href);
      const driven = await driveDevInteractions(browser, followed, { login: 'ann', consent: 'accept' });
      const code = expectCodeAtCallback(driven.nav, state);
      const c = await verifiedClaims((await exchange(code)).id_token);
      expectEqual(c.sub, ctx.claims2.sub, 'sub (same federated user as check 2)');
      return `link "${link.text}" → ${link.href.pathname}?…; upstream steps: ${driven.steps.join(', ') || 'none (signed in there already)'}`;
    });

    // --- 4 -----------------------------------------------------------------
    await check(4, 'bob (email_verified false upstream) in a fresh browser → ID token email_verified false', async () => {
      const browser = new Browser({ name: 'jar-4', stopAt: isApp });
      const state = random();
      const run = await signIn(browser, authorizeUrl({ state, identityProvider: PROVIDER }), { login: 'bob', consent: 'accept' });
      const code = expectCodeAtCallback(run.end, state);
      const c = await verifiedClaims((await exchange(code)).id_token);
      expectEqual(c.email_verified, false, 'email_verified');
      return `cognito:username ${c['cognito:username']}, email ${c.email}`;
    });

    // --- 5 -----------------------------------------------------------------
    await check(5, 'cancel at the upstream consent page → idpresponse error=access_denied → app callback error=access_denied, error_description, state', async () => {
      const browser = new Browser({ name: 'jar-5', stopAt: isApp });
      const state = random();
      const run = await signIn(browser, authorizeUrl({ state, identityProvider: PROVIDER }), { login: 'ann', consent: 'abort' });
      const back = run.hops.find((h) => h.url.origin === gatehouseOrigin && h.url.pathname.endsWith('/oauth2/idpresponse'));
      expect(back, `never reached idpresponse; upstream steps [${run.steps}]; ended ${outcome(run.end)}`);
      expectEqual(back.url.searchParams.get('error'), 'access_denied', 'error at idpresponse');
      expect(run.end.stoppedAt && isApp(run.end.stoppedAt), `did not end at the app's callback: ${outcome(run.end)}`);
      const q = run.end.stoppedAt.searchParams;
      expectEqual(q.get('error'), 'access_denied', 'error at the callback');
      expect(q.get('error_description'), 'no error_description at the callback');
      expectEqual(q.get('state'), state, "the app's state at the callback");
      expect(!q.has('code'), 'a code came with the error');
      return `steps: ${run.steps.join(', ')}; ${callbackSummary(run.end.stoppedAt)}`;
    });

    // --- 6 -----------------------------------------------------------------
    await check(6, 'replay of check 1\'s idpresponse URL (same browser) → no code (4xx page or error redirect)', async () => {
      expect(ctx.idpResponseUrl1 && ctx.snapshot1, 'no idpresponse URL from check 1');
      const browser = ctx.snapshot1.clone('jar-6');
      const nav = await browser.navigate(ctx.idpResponseUrl1, { initiator: upstreamOrigin, stopAt: (u) => u.origin !== gatehouseOrigin });
      if (nav.stoppedAt) {
        expect(isApp(nav.stoppedAt), `redirected away from Gatehouse to ${nav.stoppedAt.href}`);
        expect(!nav.stoppedAt.searchParams.has('code'), `the replay produced a code: ${nav.stoppedAt.href}`);
        expect(nav.stoppedAt.searchParams.has('error'), `redirect to the app without error: ${nav.stoppedAt.href}`);
        return `error redirect: ${callbackSummary(nav.stoppedAt)}`;
      }
      expect(nav.page.status >= 400 && nav.page.status < 500, `expected a 4xx page, got ${describeResponse(nav.page, 200)}`);
      return `HTTP ${nav.page.status} page`;
    });

    // --- 7 -----------------------------------------------------------------
    await check(7, 'idpresponse?state=forged&code=x → 4xx page, no redirect to the callback', async () => {
      const browser = (ctx.snapshot1 ?? new Browser()).clone('jar-7');
      const url = `${idpResponse}?${new URLSearchParams({ code: 'x', state: 'forged' })}`;
      const nav = await browser.navigate(url, { initiator: upstreamOrigin, stopAt: (u) => u.origin !== gatehouseOrigin });
      if (nav.stoppedAt) {
        expect(!nav.stoppedAt.searchParams.has('code'), `a forged state produced a code: ${nav.stoppedAt.href}`);
        throw new CheckFailure(`expected a 4xx page, got a redirect to ${nav.stoppedAt.href}`);
      }
      expect(nav.page.status >= 400 && nav.page.status < 500, `expected a 4xx page, got ${describeResponse(nav.page, 200)}`);
      return `HTTP ${nav.page.status} page`;
    });

    // Before the upstream goes away: what it saw of Gatehouse, for whoever reads a failure.
    const seen = upstream.log.filter((e) => e.path !== '/favicon.ico');
    const tokenCalls = seen.filter((e) => e.path === '/token');
    const userinfoCalls = seen.filter((e) => e.path === '/me');
    info(`upstream saw: discovery ${seen.filter((e) => e.path === '/.well-known/openid-configuration').length}x, jwks ${seen.filter((e) => e.path === '/jwks').length}x, `
      + `authorize ${seen.filter((e) => e.path === '/auth').length}x, `
      + `token ${tokenCalls.length}x [${[...new Set(tokenCalls.map((e) => `${e.clientAuth}${e.hasCodeVerifier ? '+code_verifier' : ''}→${e.status}`))].join(', ')}], `
      + `userinfo ${userinfoCalls.length}x [${[...new Set(userinfoCalls.map((e) => `${e.method}${e.bearer ? ' Bearer' : ''}→${e.status}`))].join(', ')}]`);
    for (const e of seen.filter((x) => x.error)) info(`upstream error: ${e.method} ${e.path} → ${e.status}: ${e.error}`);

    // --- 8 -----------------------------------------------------------------
    await upstream.close();
    await check(8, 'upstream down → redirect to the dead upstream, or an error redirect/page; never a bare 500 or a hang > 15 s', async () => {
      const browser = new Browser({ name: 'jar-8', timeoutMs: DOWN_TIMEOUT_MS });
      const state = random();
      const started = Date.now();
      let nav;
      try {
        nav = await browser.navigate(authorizeUrl({ state, identityProvider: PROVIDER }), {
          initiator: APP_ORIGIN,
          stopAt: (u) => u.origin !== gatehouseOrigin,
        });
      } catch (err) {
        if (err instanceof BrowserError && /timed out/.test(err.message)) throw new CheckFailure(`Gatehouse did not answer within ${DOWN_TIMEOUT_MS} ms`);
        throw err;
      }
      const ms = Date.now() - started;
      if (nav.stoppedAt) {
        if (nav.stoppedAt.origin === upstreamOrigin) return `redirected to the (dead) upstream ${nav.stoppedAt.pathname} — discovery cached (${ms} ms)`;
        expect(isApp(nav.stoppedAt), `redirected to an unexpected place: ${nav.stoppedAt.href}`);
        const q = nav.stoppedAt.searchParams;
        expect(!q.has('code'), `a code without any upstream sign-in: ${nav.stoppedAt.href}`);
        expect(q.has('error'), `redirect to the app without error or code: ${nav.stoppedAt.href}`);
        expectEqual(q.get('state'), state, "the app's state on the error redirect");
        return `error redirect: ${callbackSummary(nav.stoppedAt)}${q.get('error') === 'temporarily_unavailable' ? '' : ' (not temporarily_unavailable)'} (${ms} ms)`;
      }
      const page = nav.page;
      const isPage = /<html|<body|<!doctype/i.test(page.body ?? '');
      expect(!(page.status >= 500 && !isPage), `HTTP ${page.status} without a page: ${describeResponse(page, 200)}`);
      return `HTTP ${page.status} page (${ms} ms)`;
    });
  } finally {
    if (failed > 0 && gatehouse) {
      console.error(`--- gatehouse log (last 40 lines of ${gatehouse.logFile}) ---`);
      console.error(tail(gatehouse.logFile));
      console.error('--- end of gatehouse log ---');
    }
    await cleanup();
    console.log(`${passed} passed, ${failed} failed`);
    process.exitCode = failed === 0 && passed > 0 ? 0 : 1;
  }
}

main().catch((err) => {
  console.log(`FAIL crashed — ${err?.stack ?? err}`);
  console.log(`${passed} passed, ${failed + 1} failed`);
  process.exit(1);
});
