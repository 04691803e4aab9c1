#!/usr/bin/env node
// Self-test of the upstream OpenID Provider (upstream.mjs) alone, without Gatehouse: a fake
// confidential client whose redirect URI is a tiny HTTP listener on loopback runs the code flow
// through the development login/consent pages with the scripted Browser, exchanges the code,
// verifies the RS256 ID token against the JWKS and reads userinfo. One PASS/FAIL line per check,
// then `N passed, M failed`; exit 0 only when all pass.

import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';

import { Browser, describeResponse, decodeJwt, httpRequest, parseForms, parseLinks, verifyJwt } from './browser.mjs';
import { DEMO_ACCOUNTS, driveDevInteractions, startUpstream } from './upstream.mjs';

const OVERALL_TIMEOUT_MS = 120_000;
const CLIENT_ID = 'selftest-client';
const CLIENT_SECRET = randomBytes(24).toString('base64url');

let passed = 0;
let failed = 0;

async function check(name, fn) {
  try {
    const detail = await fn();
    passed += 1;
    console.log(`PASS ${name}${detail ? ` (${detail})` : ''}`);
    return true;
  } catch (err) {
    failed += 1;
    console.log(`FAIL ${name}: ${err?.message ?? err}`);
    if (process.env.DEBUG && err?.stack) console.error(err.stack);
    return false;
  }
}

function expect(condition, message) {
  if (!condition) throw new Error(message);
}

function expectEqual(actual, expected, what) {
  if (actual !== expected) throw new Error(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
}

const b64url = (buf) => Buffer.from(buf).toString('base64url');
const random = () => b64url(randomBytes(16));

/** The relying party's redirect_uri: records every query it receives. */
async function startCallbackListener() {
  const received = [];
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://127.0.0.1');
    received.push(url);
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('callback received\n');
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address();
  return {
    redirectUri: `http://127.0.0.1:${port}/cb`,
    received,
    close: () => new Promise((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}

function authorizeUrl(meta, redirectUri, extra = {}) {
  const verifier = b64url(randomBytes(32));
  const params = {
    response_type: 'code',
    client_id: CLIENT_ID,
    redirect_uri: redirectUri,
    scope: 'openid email profile',
    state: random(),
    nonce: random(),
    code_challenge: b64url(createHash('sha256').update(verifier).digest()),
    code_challenge_method: 'S256',
    ...extra,
  };
  for (const [k, v] of Object.entries(params)) if (v === undefined) delete params[k];
  const url = new URL(meta.authorization_endpoint);
  url.search = new URLSearchParams(params).toString();
  return { url, verifier, state: params.state, nonce: params.nonce };
}

/** Runs a browser through the upstream to the callback listener; returns the callback query. */
async function runToCallback(browser, callback, url, driveOptions) {
  const before = callback.received.length;
  const nav = await browser.navigate(url);
  const { nav: end, steps } = await driveDevInteractions(browser, nav, driveOptions);
  const last = end.page;
  expect(last && last.url.href.startsWith(callback.redirectUri), `did not reach the redirect URI; last: ${describeResponse(last)}`);
  expect(callback.received.length === before + 1, 'the callback listener did not record the request');
  return { params: callback.received.at(-1).searchParams, steps, hops: nav.hops.concat(end.hops ?? []) };
}

function basic(id, secret) {
  const enc = (s) => encodeURIComponent(s).replace(/%20/g, '+');
  return `Basic ${Buffer.from(`${enc(id)}:${enc(secret)}`).toString('base64')}`;
}

async function exchange(meta, { code, verifier, redirectUri, method = 'basic', secret = CLIENT_SECRET }) {
  const form = { grant_type: 'authorization_code', code, redirect_uri: redirectUri };
  if (verifier) form.code_verifier = verifier;
  const headers = {};
  if (method === 'basic') headers.authorization = basic(CLIENT_ID, secret);
  else Object.assign(form, { client_id: CLIENT_ID, client_secret: secret });
  return httpRequest(meta.token_endpoint, { method: 'POST', form, headers });
}

async function main() {
  const callback = await startCallbackListener();
  const upstream = await startUpstream({
    port: 0,
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    redirectUris: [callback.redirectUri],
    accounts: DEMO_ACCOUNTS,
  });
  const cleanup = async () => {
    await upstream.close();
    await callback.close();
  };
  const timer = setTimeout(() => {
    console.log(`FAIL overall: did not finish within ${OVERALL_TIMEOUT_MS} ms`);
    console.log(`${passed} passed, ${failed + 1} failed`);
    process.exit(1);
  }, OVERALL_TIMEOUT_MS);
  timer.unref();

  let meta;
  let jwks;
  const ann = {};
  try {
    await check('discovery: issuer is exactly http://localhost:<port>, endpoints and capabilities', async () => {
      const res = await httpRequest(`${upstream.issuer}/.well-known/openid-configuration`);
      expectEqual(res.status, 200, 'status');
      meta = res.json;
      expectEqual(meta.issuer, `http://localhost:${upstream.port}`, 'issuer');
      expectEqual(meta.issuer, upstream.issuer, 'issuer vs startUpstream().issuer');
      for (const ep of ['authorization_endpoint', 'token_endpoint', 'userinfo_endpoint', 'jwks_uri']) {
        expect(meta[ep]?.startsWith(`${upstream.issuer}/`), `${ep} ${meta[ep]} is not under the issuer`);
      }
      expect(meta.response_types_supported.includes('code'), 'response type code not supported');
      expect(meta.code_challenge_methods_supported.includes('S256'), 'S256 not supported');
      expect(meta.id_token_signing_alg_values_supported.includes('RS256'), 'RS256 not supported');
      for (const m of ['client_secret_basic', 'client_secret_post']) {
        expect(meta.token_endpoint_auth_methods_supported.includes(m), `${m} not advertised`);
      }
      for (const c of ['sub', 'email', 'email_verified', 'given_name', 'family_name', 'name']) {
        expect(meta.claims_supported.includes(c), `claim ${c} not in claims_supported`);
      }
      expect(meta.authorization_response_iss_parameter_supported === true, 'iss response parameter not advertised');
      return `authorize ${new URL(meta.authorization_endpoint).pathname}, token ${new URL(meta.token_endpoint).pathname}, userinfo ${new URL(meta.userinfo_endpoint).pathname}`;
    });
    if (!meta) throw new Error('no discovery document; stopping');

    await check('jwks: an RSA signing key for RS256', async () => {
      const res = await httpRequest(meta.jwks_uri);
      expectEqual(res.status, 200, 'status');
      jwks = res.json;
      const rsa = jwks.keys.filter((k) => k.kty === 'RSA' && k.alg === 'RS256');
      expect(rsa.length >= 1, `no RS256 RSA key in ${res.body}`);
      expect(!jwks.keys.some((k) => 'd' in k), 'private key material in the JWKS');
      return `kid ${rsa[0].kid}`;
    });

    const browser = new Browser({ name: 'selftest' });
    await check('code flow (PKCE S256, nonce, state): dev login page, consent page, callback with code, state, iss', async () => {
      const req = authorizeUrl(meta, callback.redirectUri);
      const nav = await browser.navigate(req.url);
      const loginPage = nav.page;
      expect(loginPage.status === 200 && /^\/interaction\/[^/]+$/.test(loginPage.url.pathname), `expected the login page, got ${describeResponse(loginPage)}`);
      const forms = parseForms(loginPage);
      const form = forms.find((f) => f.fields.some((x) => x.name === 'prompt' && x.value === 'login'));
      expect(form, 'no login form (hidden prompt=login)');
      expectEqual(form.method, 'post', 'login form method');
      const names = form.fields.map((f) => `${f.name}:${f.type}`).join(',');
      expect(names.includes('login:text') && names.includes('password:password'), `login form fields: ${names}`);
      const abort = parseLinks(loginPage).find((l) => l.href.pathname.endsWith('/abort'));
      expect(abort, 'no abort link on the login page');
      const cookies = browser.jar.list('localhost');
      expect(cookies.length > 0, 'no upstream cookies were set');
      expect(cookies.every((c) => !c.secure), `a Secure cookie over http: ${cookies.filter((c) => c.secure).map((c) => c.name)}`);
      expectEqual(browser.jar.rejected.length, 0, `rejected cookies: ${JSON.stringify(browser.jar.rejected)}`);

      const { nav: end, steps } = await driveDevInteractions(browser, nav, { login: 'ann', password: 'whatever' });
      expect(end.page?.url.href.startsWith(callback.redirectUri), `did not reach the callback: ${describeResponse(end.page)}`);
      expectEqual(steps.join(' '), 'login(ann) consent', 'interaction steps');
      const q = callback.received.at(-1).searchParams;
      expect(q.get('code'), 'no code');
      expectEqual(q.get('state'), req.state, 'state');
      expectEqual(q.get('iss'), upstream.issuer, 'iss response parameter');
      Object.assign(ann, { code: q.get('code'), verifier: req.verifier, nonce: req.nonce });
      return `form ${form.action.pathname} fields [${names}], cookies ${cookies.map((c) => `${c.name}(${c.sameSite}${c.httpOnly ? ',HttpOnly' : ''})`).join(' ')}`;
    });

    await check('token endpoint: client_secret_basic + code_verifier → RS256 ID token that verifies against the JWKS', async () => {
      expect(ann.code, 'no code from the previous check');
      const res = await exchange(meta, { code: ann.code, verifier: ann.verifier, redirectUri: callback.redirectUri });
      expectEqual(res.status, 200, `status (${res.body})`);
      const { id_token: idToken, access_token: accessToken, token_type: tokenType } = res.json;
      expect(idToken && accessToken, `missing tokens in ${res.body}`);
      expectEqual(tokenType, 'Bearer', 'token_type');
      const { header, payload } = verifyJwt(idToken, jwks, { algorithms: ['RS256'] });
      expectEqual(header.alg, 'RS256', 'alg');
      expectEqual(payload.iss, upstream.issuer, 'iss');
      expectEqual(payload.aud, CLIENT_ID, 'aud');
      expectEqual(payload.sub, 'ann-0001', 'sub');
      expectEqual(payload.nonce, ann.nonce, 'nonce');
      expect(payload.exp > Date.now() / 1000, 'expired');
      // A tampered token must not verify.
      const [h, p, s] = idToken.split('.');
      const forged = b64url(JSON.stringify({ ...payload, sub: 'mallory' }));
      let forgedOk = true;
      try {
        verifyJwt(`${h}.${forged}.${s}`, jwks);
      } catch {
        forgedOk = false;
      }
      expect(!forgedOk, 'a tampered ID token verified');
      ann.accessToken = accessToken;
      ann.idClaims = payload;
      const extra = ['email', 'given_name'].filter((c) => c in payload);
      return `ID token claims: ${Object.keys(payload).join(',')}${extra.length ? '' : ' (profile/email claims only via userinfo: conformIdTokenClaims)'}; used ${upstream.log.filter((e) => e.path === '/token').at(-1)?.clientAuth}`;
    });

    await check('userinfo (GET, Bearer): email, email_verified, given_name, family_name, name for ann', async () => {
      expect(ann.accessToken, 'no access token from the previous check');
      const res = await httpRequest(meta.userinfo_endpoint, { headers: { authorization: `Bearer ${ann.accessToken}` } });
      expectEqual(res.status, 200, `status (${res.body})`);
      const u = res.json;
      expectEqual(u.sub, 'ann-0001', 'sub');
      expectEqual(u.email, 'ann@example.org', 'email');
      expectEqual(u.email_verified, true, 'email_verified');
      expectEqual(u.given_name, 'Ann', 'given_name');
      expectEqual(u.family_name, 'Upstream', 'family_name');
      expectEqual(u.name, 'Ann Upstream', 'name');
      return JSON.stringify(u);
    });

    await check('second sign-in in the same browser goes straight back (upstream session + grant); client_secret_post accepted', async () => {
      const req = authorizeUrl(meta, callback.redirectUri);
      const { params, steps } = await runToCallback(browser, callback, req.url, { login: 'ann' });
      expectEqual(steps.length, 0, `interaction steps ${steps}`);
      expectEqual(params.get('state'), req.state, 'state');
      const res = await exchange(meta, { code: params.get('code'), verifier: req.verifier, redirectUri: callback.redirectUri, method: 'post' });
      expectEqual(res.status, 200, `status (${res.body})`);
      expectEqual(decodeJwt(res.json.id_token).payload.sub, 'ann-0001', 'sub');
      const entry = upstream.log.filter((e) => e.path === '/token').at(-1);
      expectEqual(entry.clientAuth, 'client_secret_post', 'recorded client auth');
      return 'no login, no consent';
    });

    await check('code replay at the token endpoint → invalid_grant (oidc-provider also revokes the grant)', async () => {
      const res = await exchange(meta, { code: ann.code, verifier: ann.verifier, redirectUri: callback.redirectUri });
      expectEqual(res.status, 400, `status (${res.body})`);
      expectEqual(res.json?.error, 'invalid_grant', 'error');
    });

    await check('PKCE enforced when a challenge was sent: no code_verifier → invalid_grant; wrong secret → invalid_client', async () => {
      const req = authorizeUrl(meta, callback.redirectUri);
      const { params } = await runToCallback(browser, callback, req.url, { login: 'ann' });
      const noVerifier = await exchange(meta, { code: params.get('code'), redirectUri: callback.redirectUri });
      expectEqual(noVerifier.status, 400, `status without verifier (${noVerifier.body})`);
      expectEqual(noVerifier.json?.error, 'invalid_grant', 'error without verifier');
      const req2 = authorizeUrl(meta, callback.redirectUri);
      const { params: p2 } = await runToCallback(browser, callback, req2.url, { login: 'ann' });
      const wrong = await exchange(meta, { code: p2.get('code'), verifier: req2.verifier, redirectUri: callback.redirectUri, secret: 'not-the-secret' });
      expectEqual(wrong.status, 401, `status with a wrong secret (${wrong.body})`);
      expectEqual(wrong.json?.error, 'invalid_client', 'error with a wrong secret');
      return `without verifier: ${noVerifier.json.error_description}`;
    });

    await check('PKCE optional for the confidential client: a flow without code_challenge works', async () => {
      const req = authorizeUrl(meta, callback.redirectUri, { code_challenge: undefined, code_challenge_method: undefined });
      const { params } = await runToCallback(browser, callback, req.url, { login: 'ann' });
      const res = await exchange(meta, { code: params.get('code'), redirectUri: callback.redirectUri });
      expectEqual(res.status, 200, `status (${res.body})`);
    });

    await check('abort at the consent page (GET /interaction/<uid>/abort) → callback with error=access_denied, state, iss', async () => {
      const fresh = new Browser({ name: 'selftest-abort' });
      const req = authorizeUrl(meta, callback.redirectUri);
      const { params, steps } = await runToCallback(fresh, callback, req.url, { login: 'ann', consent: 'abort' });
      expectEqual(steps.join(' '), 'login(ann) abort(consent)', 'steps');
      expectEqual(params.get('error'), 'access_denied', 'error');
      expect(params.get('error_description'), 'no error_description');
      expectEqual(params.get('state'), req.state, 'state');
      expectEqual(params.get('iss'), upstream.issuer, 'iss');
      expect(!params.has('code'), 'a code came with the error');
      return `error_description="${params.get('error_description')}"`;
    });

    await check('bob in a fresh browser: userinfo email_verified false', async () => {
      const fresh = new Browser({ name: 'selftest-bob' });
      const req = authorizeUrl(meta, callback.redirectUri);
      const { params, steps } = await runToCallback(fresh, callback, req.url, { login: 'bob' });
      expectEqual(steps.join(' '), 'login(bob) consent', 'steps');
      const res = await exchange(meta, { code: params.get('code'), verifier: req.verifier, redirectUri: callback.redirectUri });
      expectEqual(res.status, 200, `status (${res.body})`);
      const { payload } = verifyJwt(res.json.id_token, jwks);
      expectEqual(payload.sub, 'bob-0002', 'sub');
      const u = await httpRequest(meta.userinfo_endpoint, { headers: { authorization: `Bearer ${res.json.access_token}` } });
      expectEqual(u.json?.email_verified, false, 'email_verified');
      expectEqual(u.json?.email, 'bob@example.org', 'email');
      expect(!('family_name' in u.json), 'bob has no family_name');
      return JSON.stringify(u.json);
    });

    await check('unregistered redirect_uri → error page at the upstream, no redirect', async () => {
      const fresh = new Browser({ name: 'selftest-bad-redirect' });
      const req = authorizeUrl(meta, 'http://127.0.0.1:1/evil');
      const nav = await fresh.navigate(req.url);
      expectEqual(nav.page.status, 400, `status (${describeResponse(nav.page)})`);
      expect(!nav.page.location, 'redirected');
    });

    await check('close() stops the provider (connections refused afterwards)', async () => {
      await upstream.close();
      let refused = false;
      try {
        await httpRequest(`${upstream.issuer}/.well-known/openid-configuration`, { timeoutMs: 3000 });
      } catch (err) {
        refused = /ECONNREFUSED/.test(err.message);
      }
      expect(refused, 'the upstream still answers');
    });
  } catch (err) {
    failed += 1;
    console.log(`FAIL selftest aborted: ${err?.message ?? err}`);
  } finally {
    await cleanup();
  }
  console.log(`${passed} passed, ${failed} failed`);
  process.exitCode = failed === 0 && passed > 0 ? 0 : 1;
}

main().catch((err) => {
  console.log(`FAIL selftest crashed: ${err?.stack ?? err}`);
  console.log(`${passed} passed, ${failed + 1} failed`);
  process.exit(1);
});
