#!/usr/bin/env node
// End-to-end test of Gatehouse's social sign-in (Facebook, Login with Amazon, Sign in with Apple)
// and of its refusal of a misbehaving OpenID Provider, against the local stand-ins of
// standins.mjs, driven over plain HTTP with the scripted browser. Nothing leaves 127.0.0.1.
//
//   GATEHOUSE_BIN=/path/to/gatehouse node social_e2e.mjs
//
// Prints one PASS/FAIL line per check (check 7 has one per Rogue mode), INFO lines about what the
// stand-ins saw, and `N passed, M failed`; exits 0 only when every check passes. See README.md.

import { generateKeyPairSync } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { Browser, BrowserError, describeResponse, pageTitle, parseForms } from './browser.mjs';
import {
  App, CheckFailure, callbackSummary, expect, expectEqual, expectIdentity, freePort, outcome, random, runSuite,
  startGatehouse,
} from './harness.mjs';
import { SLOW_MS, startStandins } from './standins.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const GATEHOUSE_BIN = path.resolve(HERE, process.env.GATEHOUSE_BIN ?? '../../target/debug/gatehouse');

const POOL_ID = 'local_SocialT01';
const CLIENT_ID = 'socialclient00000000000000';
const APP_CALLBACK = 'http://localhost:3000/callback';

const CHECK_TIMEOUT_MS = 45_000;
const OVERALL_TIMEOUT_MS = 300_000;
/** The slowest acceptable answer when the upstream hangs (Gatehouse gives up after 10 s). */
const SLOW_LIMIT_MS = 15_000;

const CONFIG_TEMPLATE = `[[pool]]
id = "local_SocialT01"
name = "social"

[[pool.client]]
id = "socialclient00000000000000"
name = "app"
callback_urls = ["http://localhost:3000/callback"]
allowed_oauth_flows = ["code"]
require_pkce = false
allowed_oauth_scopes = ["openid", "email", "profile"]
supported_identity_providers = ["COGNITO", "Facebook", "LoginWithAmazon", "SignInWithApple", "Rogue"]

[[pool.identity_provider]]
name = "Facebook"
type = "Facebook"
attribute_mapping = { email = "email", given_name = "first_name", family_name = "last_name", username = "id" }
[pool.identity_provider.details]
client_id = "fb-app"
client_secret = "fb-secret"
authorize_scopes = "public_profile,email"
api_version = "v17.0"
authorize_url = "http://127.0.0.1:PORT/v17.0/dialog/oauth"
token_url = "http://127.0.0.1:PORT/v17.0/oauth/access_token"
attributes_url = "http://127.0.0.1:PORT/v17.0/me"

[[pool.identity_provider]]
name = "LoginWithAmazon"
type = "LoginWithAmazon"
attribute_mapping = { email = "email", name = "name", username = "user_id" }
[pool.identity_provider.details]
client_id = "amzn-client"
client_secret = "amzn-secret"
authorize_scopes = "profile"
authorize_url = "http://127.0.0.1:PORT/ap/oa"
token_url = "http://127.0.0.1:PORT/auth/o2/token"
attributes_url = "http://127.0.0.1:PORT/user/profile"

[[pool.identity_provider]]
name = "SignInWithApple"
type = "SignInWithApple"
attribute_mapping = { email = "email", email_verified = "email_verified", given_name = "firstName", family_name = "lastName", username = "sub" }
[pool.identity_provider.details]
client_id = "com.example.web"
team_id = "TEAMID1234"
key_id = "KEYID12345"
private_key = "env:APPLE_PRIVATE_KEY"
authorize_scopes = "name email"
oidc_issuer = "http://127.0.0.1:PORT/apple"
authorize_url = "http://127.0.0.1:PORT/auth/authorize"
token_url = "http://127.0.0.1:PORT/auth/token"
jwks_uri = "http://127.0.0.1:PORT/auth/keys"

[[pool.identity_provider]]
name = "Rogue"
type = "OIDC"
attribute_mapping = { email = "email", username = "sub" }
[pool.identity_provider.details]
client_id = "rogue-client"
client_secret = "rogue-secret"
authorize_scopes = "openid email"
oidc_issuer = "http://127.0.0.1:PORT/rogue"
authorize_url = "http://127.0.0.1:PORT/rogue/authorize"
token_url = "http://127.0.0.1:PORT/rogue/token"
jwks_uri = "http://127.0.0.1:PORT/rogue/jwks"
attributes_url = "http://127.0.0.1:PORT/rogue/userinfo"
attributes_request_method = "POST"
token_endpoint_auth_method = "client_secret_post"
`;

/** Rogue modes that must end in an error redirect, in the order they run. */
const ROGUE_FAILURES = [
  'wrong_iss', 'wrong_aud', 'wrong_nonce', 'expired', 'bad_signature', 'token_error', 'malformed',
  'userinfo_other_sub', 'pkce_mismatch', 'slow',
];
const ERROR_CODES = new Set(['access_denied', 'temporarily_unavailable', 'server_error']);
const CHECKS = ['1', '2', '3', '4', '5', '6', '7.1', '7.2', ...ROGUE_FAILURES.map((_, i) => `7.${i + 3}`)];

await runSuite({ tmpPrefix: 'gatehouse-social-', checkTimeoutMs: CHECK_TIMEOUT_MS, overallTimeoutMs: OVERALL_TIMEOUT_MS }, async ({ tmp, reporter, onCleanup, setGatehouse }) => {
  const check = reporter.check.bind(reporter);
  const info = reporter.info.bind(reporter);

  // --- setup ---------------------------------------------------------------
  let standins;
  let base;
  let idpResponse;
  try {
    if (!existsSync(GATEHOUSE_BIN)) throw new Error(`GATEHOUSE_BIN ${GATEHOUSE_BIN} does not exist`);
    const gport = await freePort();
    base = `http://127.0.0.1:${gport}/${POOL_ID}`;
    idpResponse = `${base}/oauth2/idpresponse`;
    // Sign in with Apple: the key pair whose private half Gatehouse signs its client secrets with.
    const appleKeys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const applePem = appleKeys.privateKey.export({ type: 'pkcs8', format: 'pem' });
    standins = await startStandins({ redirectUris: [idpResponse], apple: { publicKey: appleKeys.publicKey, booleanClaims: process.env.APPLE_BOOLEAN_CLAIMS === '1' } });
    onCleanup(() => standins.close());
    const configFile = path.join(tmp, 'gatehouse.toml');
    writeFileSync(configFile, CONFIG_TEMPLATE.replaceAll('PORT', String(standins.port)));
    const gatehouse = await startGatehouse({ bin: GATEHOUSE_BIN, configFile, tmp, port: gport, env: { APPLE_PRIVATE_KEY: applePem } });
    setGatehouse(gatehouse);
    info(`stand-ins ${standins.origin}, gatehouse ${base} (${path.relative(process.cwd(), GATEHOUSE_BIN) || GATEHOUSE_BIN})`);
  } catch (err) {
    reporter.setupFailed(err, CHECKS);
    return;
  }

  const app = new App({ base, clientId: CLIENT_ID, callback: APP_CALLBACK });
  const { isApp } = app;
  const log = standins.log;
  /** Stand-in log entries of `route` made since index `from`. */
  const seen = (route, from = 0) => log.slice(from).filter((e) => e.route === route);
  const last = (route, from = 0) => seen(route, from).at(-1);

  /**
   * The start of a federated sign-in: authorize?identity_provider=NAME in a fresh browser. Expects
   * Gatehouse's 302 to `upstreamPath` on the stand-ins and returns the navigation (up to the app's
   * callback, or the last page) with the upstream request's parameters.
   */
  const federate = async (provider, upstreamPath, { browser = new Browser({ name: `jar-${provider}`, stopAt: isApp }) } = {}) => {
    const state = random();
    const from = log.length;
    const started = Date.now();
    const nav = await browser.navigate(app.authorizeUrl({ state, identityProvider: provider }), { initiator: app.origin });
    const first = nav.hops[0] ?? nav.page;
    const up = first?.location ? new URL(first.location, first.url) : undefined;
    if (!up || up.origin !== standins.origin || up.pathname !== upstreamPath) {
      const where = nav.stoppedAt && isApp(nav.stoppedAt) && nav.hops.length <= 1
        ? `Gatehouse answered the app directly (${callbackSummary(nav.stoppedAt)})`
        : `first hop ${first ? describeResponse(first, 200) : '(none)'}; ended ${outcome(nav)}`;
      throw new CheckFailure(`Gatehouse did not send the browser to ${standins.origin}${upstreamPath}: ${where}`);
    }
    expectEqual(first.status, 302, 'status of the redirect upstream');
    const params = up.searchParams;
    for (const [k, v] of params) expect(!v.includes(state), `the app's state leaks upstream in ${k}=${v}`);
    expect(params.get('state'), 'no state sent upstream');
    return { browser, state, nav, params, from, ms: Date.now() - started };
  };

  /** Apple's form_post page, posted by the browser (the page's script would do it). */
  const postAppleForm = async (browser, nav, { initiator } = {}) => {
    const pageRes = nav.page;
    expect(pageRes && !nav.stoppedAt, `expected Apple's form_post page, got ${outcome(nav)}`);
    expectEqual(pageRes.status, 200, `Apple's authorize page status (${describeResponse(pageRes, 200)})`);
    const form = parseForms(pageRes).find((f) => f.method === 'post');
    expect(form, `no POST form on Apple's page: ${describeResponse(pageRes, 300)}`);
    expectEqual(form.action.href, idpResponse, 'form action');
    const fields = Object.fromEntries(form.fields.map((f) => [f.name, f.value]));
    const posted = initiator
      ? await browser.navigate(form.action, { method: 'POST', form: new URLSearchParams(fields), initiator })
      : await browser.submit(pageRes, form);
    return { fields, posted };
  };

  const ctx = {};

  // --- 1 -------------------------------------------------------------------
  await check(1, 'Facebook: dialog gets scope=public_profile,email and Gatehouse\'s state → code → ID token Facebook_10150000001, email, names, identities (Facebook, issuer null); /me asked for the mapped fields', async () => {
    const run = await federate('Facebook', '/v17.0/dialog/oauth');
    const p = run.params;
    expectEqual(p.get('client_id'), 'fb-app', 'dialog client_id');
    expectEqual(p.get('redirect_uri'), idpResponse, 'dialog redirect_uri');
    expectEqual(p.get('response_type') ?? 'code', 'code', 'dialog response_type');
    expectEqual(p.get('scope'), 'public_profile,email', 'dialog scope (Facebook scopes are comma-separated)');
    const dialog = last('facebook.dialog', run.from);
    expect(dialog, 'the Facebook dialog was never requested');
    expectEqual(dialog.scope, 'public_profile,email', 'scope the dialog received');
    const code = app.expectCode(run.nav, run.state);
    const tokenCall = last('facebook.token', run.from);
    expect(tokenCall?.status === 200, `access_token exchange: ${tokenCall ? `${tokenCall.status}` : 'never called'}`);
    const me = last('facebook.me', run.from);
    expect(me?.status === 200, `/me: ${me ? me.status : 'never called'}`);
    const fields = new Set((me.fields ?? '').split(',').map((f) => f.trim().split(/[.{]/)[0]));
    for (const f of ['id', 'email', 'first_name', 'last_name']) expect(fields.has(f), `/me?fields= lacks ${f}: ${me.fields ?? '(no fields parameter)'}`);
    const c = await app.verifiedClaims((await app.exchange(code)).id_token);
    expectEqual(c['cognito:username'], 'Facebook_10150000001', 'cognito:username');
    expectEqual(c.email, 'fay@example.com', 'email');
    expectEqual(c.given_name, 'Fay', 'given_name');
    expectEqual(c.family_name, 'Book', 'family_name');
    const id = expectIdentity(c, { userId: '10150000001', providerName: 'Facebook', providerType: 'Facebook', issuer: null });
    return `/me fields=${me.fields} (token in ${me.tokenIn}), token ${tokenCall.method}; identities[0] ${JSON.stringify(id)}`;
  });

  // --- 2 -------------------------------------------------------------------
  await check(2, 'Facebook: the user cancels → app callback error=access_denied with the app\'s state', async () => {
    standins.facebook.nextDialog('cancel');
    const run = await federate('Facebook', '/v17.0/dialog/oauth');
    const dialog = last('facebook.dialog', run.from);
    expectEqual(dialog?.outcome, 'cancel', 'the dialog\'s outcome');
    const q = app.expectError(run.nav, run.state);
    expectEqual(q.get('error'), 'access_denied', 'error');
    return callbackSummary(run.nav.stoppedAt);
  });
  standins.facebook.nextDialog('approve');

  // --- 3 -------------------------------------------------------------------
  await check(3, 'Facebook: the access_token endpoint refuses the code → app callback with an error (not a 500) and a useful error_description', async () => {
    standins.facebook.refuseNextCode();
    const run = await federate('Facebook', '/v17.0/dialog/oauth');
    const q = app.expectError(run.nav, run.state);
    const refused = last('facebook.token', run.from);
    expect(refused?.refused, `the stand-in did not refuse a code (token calls: ${seen('facebook.token', run.from).map((e) => e.status).join(', ') || 'none'})`);
    const description = q.get('error_description') ?? '';
    expect(description, 'no error_description');
    expect(/expired|token|code|facebook|OAuthException/i.test(description), `error_description does not say what went wrong: "${description}"`);
    return callbackSummary(run.nav.stoppedAt);
  });

  // --- 4 -------------------------------------------------------------------
  await check(4, 'Login with Amazon: S256 PKCE verified by the stand-in → ID token LoginWithAmazon_amzn1.account.AEXAMPLE, email, name', async () => {
    const run = await federate('LoginWithAmazon', '/ap/oa');
    const p = run.params;
    expectEqual(p.get('client_id'), 'amzn-client', 'client_id');
    expectEqual(p.get('redirect_uri'), idpResponse, 'redirect_uri');
    expectEqual(p.get('response_type'), 'code', 'response_type');
    expectEqual(p.get('scope'), 'profile', 'scope');
    expect(p.get('code_challenge'), 'no code_challenge');
    expectEqual(p.get('code_challenge_method'), 'S256', 'code_challenge_method');
    const code = app.expectCode(run.nav, run.state);
    const tokenCall = last('amazon.token', run.from);
    expect(tokenCall, 'the LWA token endpoint was never called');
    expectEqual(tokenCall.pkce, 'verified', 'PKCE at the token endpoint');
    const profile = last('amazon.profile', run.from);
    expectEqual(profile?.status, 200, '/user/profile status');
    const c = await app.verifiedClaims((await app.exchange(code)).id_token);
    expectEqual(c['cognito:username'], 'LoginWithAmazon_amzn1.account.AEXAMPLE', 'cognito:username');
    expectEqual(c.email, 'amy@example.com', 'email');
    expectEqual(c.name, 'Amy Zon', 'name');
    const id = expectIdentity(c, { userId: 'amzn1.account.AEXAMPLE', providerName: 'LoginWithAmazon', providerType: 'LoginWithAmazon', issuer: null });
    return `client auth ${tokenCall.clientAuth}, profile token in ${profile.tokenIn}; identities[0] ${JSON.stringify(id)}`;
  });

  // --- 5 -------------------------------------------------------------------
  await check(5, 'Sign in with Apple, first time: form_post (with `user`) to /oauth2/idpresponse → code → ID token SignInWithApple_001234.apple-user.0001, email, email_verified, names from `user`; ES256 client secret verified', async () => {
    const run = await federate('SignInWithApple', '/auth/authorize');
    const p = run.params;
    expectEqual(p.get('client_id'), 'com.example.web', 'client_id');
    expectEqual(p.get('redirect_uri'), idpResponse, 'redirect_uri');
    expectEqual(p.get('response_type'), 'code', 'response_type');
    expectEqual(p.get('response_mode'), 'form_post', 'response_mode');
    expectEqual(p.get('scope'), 'name email', 'scope');
    expect(p.get('nonce'), 'no nonce');
    const { fields, posted } = await postAppleForm(run.browser, run.nav);
    expect(fields.user, `Apple's first answer has no user field (fields: ${Object.keys(fields).join(', ')})`);
    const tokenCall = last('apple.token', run.from);
    let code;
    try {
      code = app.expectCode(posted, run.state);
    } catch (err) {
      const upstream = !tokenCall
        ? 'Apple\'s token endpoint was never called'
        : tokenCall.status !== 200
          ? `Apple's token endpoint refused: ${tokenCall.reason ?? `HTTP ${tokenCall.status}`}`
          : 'Apple\'s token endpoint answered 200 with a token response whose id_token has email_verified and is_private_email as strings ("true"/"false"), as Apple sends them (APPLE_BOOLEAN_CLAIMS=1 makes the stand-in send booleans)';
      throw new CheckFailure(`${upstream}; ${err.message.slice(0, 300)}`);
    }
    expect(tokenCall.clientSecret?.ok, `the ES256 client secret was refused: ${tokenCall.clientSecret?.reason ?? tokenCall.reason ?? `HTTP ${tokenCall.status}`}`);
    expectEqual(tokenCall.status, 200, 'Apple token status');
    const c = await app.verifiedClaims((await app.exchange(code)).id_token);
    expectEqual(c['cognito:username'], 'SignInWithApple_001234.apple-user.0001', 'cognito:username');
    expectEqual(c.email, 'apple@example.com', 'email');
    expectEqual(c.email_verified, true, 'email_verified');
    expectEqual(c.given_name, 'Apple', 'given_name');
    expectEqual(c.family_name, 'Seed', 'family_name');
    expectIdentity(c, { userId: '001234.apple-user.0001', providerName: 'SignInWithApple', providerType: 'SignInWithApple', issuer: standins.issuers.apple });
    ctx.appleSub = c.sub;
    const secret = tokenCall.clientSecret;
    return `client secret kid ${secret.header.kid}, exp in ${Math.round((secret.claims.exp - secret.claims.iat) / 60)} min; sub ${c.sub}`;
  });

  // --- 6 -------------------------------------------------------------------
  await check(6, 'Sign in with Apple again, fresh jar (no `user` field) → same sub, given_name still Apple', async () => {
    expect(ctx.appleSub, 'no sub from check 5');
    const run = await federate('SignInWithApple', '/auth/authorize');
    const { fields, posted } = await postAppleForm(run.browser, run.nav);
    expect(!fields.user, 'Apple sent the user field again');
    const code = app.expectCode(posted, run.state);
    const c = await app.verifiedClaims((await app.exchange(code)).id_token);
    expectEqual(c.sub, ctx.appleSub, 'sub (the same user as check 5)');
    expectEqual(c.given_name, 'Apple', 'given_name (kept although Apple did not send it again)');
    expectEqual(c.family_name, 'Seed', 'family_name');
    return `sub ${c.sub}`;
  });

  // Not a check: what a real browser does with Apple's form_post, a cross-site POST (Apple's page
  // is on appleid.apple.com). Here the stand-ins share Gatehouse's site (127.0.0.1), so checks 5
  // and 6 post same-site; this probe posts the same form as if from https://appleid.apple.com.
  // (Gatehouse ties the answer to the browser before it calls Apple, so this tells something
  // even while checks 5 and 6 fail for another reason.)
  {
    try {
      const run = await federate('SignInWithApple', '/auth/authorize');
      const target = new URL(idpResponse);
      const binding = run.browser.jar.list(target.hostname).map((ck) => `"${ck.raw.replace(/^([^=]+=)[^;]*/, '$1…')}"`).join(', ') || '(none)';
      const crossSiteCookies = run.browser.jar.header(target, { sameSite: false, topLevel: true, method: 'POST' }) ?? '(none)';
      const { posted } = await postAppleForm(run.browser, run.nav, { initiator: new URL('https://appleid.apple.com/auth/authorize') });
      if (posted.stoppedAt && isApp(posted.stoppedAt) && posted.stoppedAt.searchParams.has('code')) {
        info('Apple form_post as a cross-site POST (as from appleid.apple.com): code at the callback — OK');
      } else {
        const tokenCalled = seen('apple.token', run.from).length > 0;
        info(`WARNING Apple form_post as a cross-site POST (as from appleid.apple.com) fails: ${posted.page ? `HTTP ${posted.page.status} "${pageTitle(posted.page)}"` : outcome(posted)}; `
          + `Apple's token endpoint ${tokenCalled ? 'was' : 'was not'} called; Gatehouse's cookies in the browser: ${binding}; sent with a cross-site POST: ${crossSiteCookies}`);
      }
    } catch (err) {
      info(`Apple cross-site form_post probe did not run: ${err.message}`);
    }
  }

  // --- 7 -------------------------------------------------------------------
  const outcomes = {};
  await check('7.1', 'Rogue good → code (client_secret_post, PKCE verified, userinfo POST)', async () => {
    standins.rogue.setMode('good');
    const run = await federate('Rogue', '/rogue/authorize');
    const code = app.expectCode(run.nav, run.state);
    const tokenCall = last('rogue.token', run.from);
    expectEqual(tokenCall?.clientAuth, 'client_secret_post', 'client authentication at the token endpoint');
    expectEqual(tokenCall.pkce, 'verified', 'PKCE at the token endpoint');
    const userinfo = last('rogue.userinfo', run.from);
    expect(userinfo, 'userinfo was never called');
    const c = await app.verifiedClaims((await app.exchange(code)).id_token);
    expectEqual(c['cognito:username'], 'Rogue_rogue-user-0001', 'cognito:username');
    expectEqual(c.email, 'rogue@example.com', 'email');
    ctx.rogueSub = c.sub;
    return `userinfo ${userinfo.method}, token in ${userinfo.tokenIn}; JWKS fetched ${standins.rogue.jwksFetches}x so far`;
  });

  await check('7.2', 'Rogue rotated_key (new kid, published from now on) → Gatehouse fetches the JWKS again → code', async () => {
    const fetchesBefore = standins.rogue.jwksFetches;
    standins.rogue.setMode('rotated_key');
    const run = await federate('Rogue', '/rogue/authorize');
    const code = app.expectCode(run.nav, run.state);
    const tokenCall = last('rogue.token', run.from);
    expectEqual(tokenCall?.mode, 'rotated_key', 'mode of the token answer');
    const fetches = seen('rogue.jwks', run.from);
    expect(fetches.length >= 1, `no JWKS fetch after the rotation (${standins.rogue.jwksFetches} in all)`);
    expect(fetches.some((e) => e.kids.includes(tokenCall.idTokenKid)), `no JWKS fetch published ${tokenCall.idTokenKid}`);
    const c = await app.verifiedClaims((await app.exchange(code)).id_token);
    if (ctx.rogueSub) expectEqual(c.sub, ctx.rogueSub, 'sub (the same user as 7.1)');
    return `JWKS fetches: ${fetchesBefore} before, ${standins.rogue.jwksFetches} after (new kid ${tokenCall.idTokenKid})`;
  });

  for (const [i, mode] of ROGUE_FAILURES.entries()) {
    await check(`7.${i + 3}`, `Rogue ${mode} → app callback error (access_denied, temporarily_unavailable or server_error) with the app's state, no code, no bare 500${mode === 'slow' ? `, within ${SLOW_LIMIT_MS / 1000} s` : ''}`, async () => {
      standins.rogue.setMode(mode);
      let run;
      try {
        run = await federate('Rogue', '/rogue/authorize', { browser: new Browser({ name: `jar-rogue-${mode}`, stopAt: isApp, timeoutMs: SLOW_LIMIT_MS + 5_000 }) });
      } catch (err) {
        if (err instanceof BrowserError && /timed out/.test(err.message)) throw new CheckFailure(`Gatehouse did not answer within ${SLOW_LIMIT_MS + 5_000} ms`);
        throw err;
      }
      const tokenCall = last('rogue.token', run.from);
      expect(tokenCall, 'the Rogue token endpoint was never called');
      expectEqual(tokenCall.mode, mode, 'mode of the token answer');
      if (!run.nav.stoppedAt) {
        const pageRes = run.nav.page;
        throw new CheckFailure(`no redirect to the app: ${pageRes.status >= 500 ? 'a 5xx answer: ' : ''}${describeResponse(pageRes, 200)}`);
      }
      const q = app.expectError(run.nav, run.state);
      const error = q.get('error');
      expect(ERROR_CODES.has(error), `error=${error}, not one of ${[...ERROR_CODES].join(', ')}`);
      if (mode === 'userinfo_other_sub') expect(last('rogue.userinfo', run.from)?.sub === standins.rogue.user.otherSub, 'userinfo was not asked (or did not answer for the other sub)');
      if (mode === 'slow') expect(run.ms <= SLOW_LIMIT_MS, `Gatehouse answered after ${run.ms} ms (the stand-in waits ${SLOW_MS} ms)`);
      outcomes[mode] = error;
      return `${callbackSummary(run.nav.stoppedAt)}${mode === 'slow' ? ` after ${run.ms} ms` : ''}`;
    });
  }

  // --- what the stand-ins saw ----------------------------------------------
  info(`rogue outcomes: ${Object.entries(outcomes).map(([m, e]) => `${m}→${e}`).join(', ')}`);
  const counts = {};
  for (const e of log) counts[e.route] = (counts[e.route] ?? 0) + 1;
  info(`stand-ins saw: ${Object.entries(counts).map(([r, n]) => `${r} ${n}x`).join(', ')}`);
  const tokenCalls = (route) => [...new Set(seen(route).map((e) => `${e.method} ${e.clientAuth ?? (e.clientSecret ? 'client_secret_post (ES256 JWT)' : e.auth ?? 'no auth header')}${e.pkce ? ` pkce=${e.pkce}` : ''}→${e.status ?? 'no answer (caller gone)'}`))].join(', ') || 'none';
  info(`token calls: facebook [${tokenCalls('facebook.token')}], amazon [${tokenCalls('amazon.token')}], apple [${tokenCalls('apple.token')}], rogue [${tokenCalls('rogue.token')}]`);
  for (const e of log.filter((x) => x.route === 'apple.token' && x.status !== 200)) info(`apple token refused: ${e.reason ?? e.status}`);
  for (const e of log.filter((x) => x.error || x.route === 'unknown')) info(`stand-in ${e.method} ${e.path}: ${e.error ?? 'unknown route'}`);
});
