#!/usr/bin/env node
// End-to-end test of Gatehouse's OIDC federation against a real OpenID Provider
// (oidc-provider, see upstream.mjs), driven over plain HTTP with a scripted browser.
//
//   GATEHOUSE_BIN=/path/to/gatehouse node oidc_e2e.mjs
//
// Prints one PASS/FAIL line per check, INFO lines about what the upstream saw, and
// `N passed, M failed`; exits 0 only when every check passes. See README.md.

import { randomBytes } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { Browser, BrowserError, describeResponse, httpRequest, parseLinks } from './browser.mjs';
import {
  App, CheckFailure, callbackSummary, expect, expectEqual, expectIdentity as expectIdentityOf, freePort, outcome, random,
  runSuite, startGatehouse,
} from './harness.mjs';
import { driveDevInteractions, startUpstream } from './upstream.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const GATEHOUSE_BIN = path.resolve(HERE, process.env.GATEHOUSE_BIN ?? '../../target/debug/gatehouse');

const POOL_ID = 'local_FedTest01';
const CLIENT_ID = 'fedclient00000000000000000';
const APP_ORIGIN = 'http://localhost:3000';
const APP_CALLBACK = `${APP_ORIGIN}/callback`;
const PROVIDER = 'Upstream';
const UPSTREAM_CLIENT_ID = 'gatehouse';

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
require_pkce = false
allowed_oauth_scopes = ["openid", "email", "profile"]
supported_identity_providers = ["COGNITO", "Upstream", "Google"]

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

# Google is an OpenID Provider with a fixed issuer; here the issuer is overridden to point at
# the local upstream, so the Google connector runs its real code path.
[[pool.identity_provider]]
name = "Google"
type = "Google"
attribute_mapping = { email = "email", email_verified = "email_verified", given_name = "given_name", username = "sub" }
[pool.identity_provider.details]
client_id = "gatehouse"
client_secret = "env:UPSTREAM_SECRET"
authorize_scopes = "openid email profile"
oidc_issuer = "http://localhost:UPSTREAM_PORT"
`;

// ---------------------------------------------------------------------------
// The test
// ---------------------------------------------------------------------------

const CHECKS = [1, 2, 3, 4, 5, 6, 7, 9, 8];

await runSuite({ tmpPrefix: 'gatehouse-fed-', checkTimeoutMs: CHECK_TIMEOUT_MS, overallTimeoutMs: OVERALL_TIMEOUT_MS }, async ({ tmp, reporter, onCleanup, setGatehouse }) => {
  const check = reporter.check.bind(reporter);
  const info = reporter.info.bind(reporter);
  let upstream;
  let gatehouse;
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
    onCleanup(() => upstream.close());
    upstreamMeta = (await httpRequest(`${upstream.issuer}/.well-known/openid-configuration`)).json;
    const configFile = path.join(tmp, 'gatehouse.toml');
    writeFileSync(configFile, CONFIG_TEMPLATE.replaceAll('UPSTREAM_PORT', String(upstream.port)));
    gatehouse = await startGatehouse({ bin: GATEHOUSE_BIN, configFile, tmp, port: gport, env: { UPSTREAM_SECRET: upstreamSecret } });
    setGatehouse(gatehouse);
    info(`upstream ${upstream.issuer} (oidc-provider), gatehouse ${base} (${path.relative(process.cwd(), GATEHOUSE_BIN) || GATEHOUSE_BIN})`);
  } catch (err) {
    setupError = err;
  }
  if (setupError) {
    reporter.setupFailed(setupError, CHECKS);
    return;
  }

  const app = new App({ base, clientId: CLIENT_ID, callback: APP_CALLBACK });
  const { isApp } = app;
  const authorizeUrl = (o) => app.authorizeUrl(o);
  const exchange = (code) => app.exchange(code);
  const verifiedClaims = (idToken) => app.verifiedClaims(idToken);
  const expectCodeAtCallback = (nav, state) => app.expectCode(nav, state);
  const expectIdentity = (claims, o) => expectIdentityOf(claims, { providerName: PROVIDER, providerType: 'OIDC', ...o });
  const gatehouseOrigin = new URL(base).origin;
  const upstreamOrigin = new URL(upstream.issuer).origin;
  /** Navigation through Gatehouse and the upstream's dev pages until the app's callback. */
  const signIn = async (browser, url, options, initiator = APP_ORIGIN) => {
    const first = await browser.navigate(url, { initiator });
    const driven = await driveDevInteractions(browser, first, options);
    return { first, end: driven.nav, steps: driven.steps, hops: [...first.hops, ...(driven.nav === first ? [] : driven.nav.hops)] };
  };

  const ctx = {};

  // --- 1 -----------------------------------------------------------------
  await check(1, 'authorize?identity_provider=Upstream → upstream (own state, nonce, S256 challenge, idpresponse redirect_uri) → login ann → consent → idpresponse → app callback with code and state', async () => {
    const browser = new Browser({
      name: 'jar-1',
      stopAt: isApp,
      // The cookies as they were just before the upstream sent the browser back (for check 6).
      beforeRequest: (url, b) => {
        if (!ctx.preIdpResponse && url.origin === gatehouseOrigin && url.pathname.endsWith('/oauth2/idpresponse')) {
          ctx.preIdpResponse = b.clone('jar-1-before-idpresponse');
        }
      },
    });
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
  await check(6, 'replay of check 1\'s idpresponse URL → no code (4xx page or error redirect), in the same browser and with its cookies from before the first answer', async () => {
    expect(ctx.idpResponseUrl1 && ctx.snapshot1 && ctx.preIdpResponse, 'no idpresponse URL from check 1');
    const replay = async (browser) => {
      const nav = await browser.navigate(ctx.idpResponseUrl1, { initiator: upstreamOrigin, stopAt: (u) => u.origin !== gatehouseOrigin });
      if (nav.stoppedAt) {
        expect(isApp(nav.stoppedAt), `${browser.name}: redirected away from Gatehouse to ${nav.stoppedAt.href}`);
        expect(!nav.stoppedAt.searchParams.has('code'), `${browser.name}: the replay produced a code: ${nav.stoppedAt.href}`);
        expect(nav.stoppedAt.searchParams.has('error'), `${browser.name}: redirect to the app without error: ${nav.stoppedAt.href}`);
        return `error redirect (${callbackSummary(nav.stoppedAt)})`;
      }
      expect(nav.page.status >= 400 && nav.page.status < 500, `${browser.name}: expected a 4xx page, got ${describeResponse(nav.page, 200)}`);
      return `HTTP ${nav.page.status} page`;
    };
    // As asked: the same browser, after check 1 (Gatehouse may have dropped its binding cookie).
    const same = await replay(ctx.snapshot1.clone('jar-6-same'));
    // Stronger: the cookies from before the first answer, so only single use can refuse it.
    const before = await replay(ctx.preIdpResponse.clone('jar-6-pre-answer-cookies'));
    return `same browser: ${same}; with the pre-answer cookies: ${before}`;
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

  // --- 9 -----------------------------------------------------------------
  await check(9, 'Google connector (issuer overridden to the local upstream) → Google_ann-0001, providerType Google, issuer null', async () => {
    const browser = new Browser({ name: 'jar-9', stopAt: isApp });
    const state = random();
    const run = await signIn(browser, authorizeUrl({ state, identityProvider: 'Google' }), { login: 'ann', consent: 'accept' });
    const code = expectCodeAtCallback(run.end, state);
    const c = await verifiedClaims((await exchange(code)).id_token);
    expectEqual(c['cognito:username'], 'Google_ann-0001', 'cognito:username');
    expectEqual(c.email_verified, true, 'email_verified');
    expect(c.sub !== ctx.claims2?.sub, 'the Google identity is another user than the Upstream one');
    const id = expectIdentity(c, { userId: 'ann-0001', providerName: 'Google', providerType: 'Google', issuer: null });
    expectEqual(id.issuer, null, 'identities[0].issuer of a social provider');
    return `cognito:username ${c['cognito:username']}, identities[0] ${JSON.stringify(id)}`;
  });

  // Before the upstream goes away: what it saw of Gatehouse, for whoever reads a failure.
  const seen = upstream.log.filter((e) => e.path !== '/favicon.ico');
  const tokenCalls = seen.filter((e) => e.path === '/token');
  const userinfoCalls = seen.filter((e) => e.path === '/me');
  info(`upstream saw: discovery ${seen.filter((e) => e.path === '/.well-known/openid-configuration').length}x, jwks ${seen.filter((e) => e.path === '/jwks').length}x, `
    + `authorize ${seen.filter((e) => e.path === '/auth').length}x, `
    + `token ${tokenCalls.length}x [${[...new Set(tokenCalls.map((e) => `${e.clientAuth}${e.hasCodeVerifier ? '+code_verifier' : ''}→${e.status}`))].join(', ')}], `
    + `userinfo ${userinfoCalls.length}x [${[...new Set(userinfoCalls.map((e) => `${e.method}${e.bearer ? ' Bearer' : ''}→${e.status}`))].join(', ')}]`);
  for (const e of seen.filter((x) => x.error)) {
    const expected = /access_denied \(End-User aborted interaction\)/.test(e.error) ? ' (expected: check 5 cancels)' : '';
    info(`upstream error: ${e.method} ${e.path} → ${e.status}: ${e.error}${expected}`);
  }

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
});
