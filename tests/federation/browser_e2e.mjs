// Federation in a real browser: Debian's chromium (playwright-core) against Gatehouse and a real
// OpenID Provider (oidc-provider). What an HTTP client cannot show: that the pages' CSP lets the
// browser go on to the provider — from the provider button, and from the corporate-email form
// (whose answer is a page that moves on by itself) — and back to the app.
//
//   node browser_e2e.mjs        (GATEHOUSE_BIN defaults to ../../target/debug/gatehouse)

import { chromium } from 'playwright-core';
import { existsSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startUpstream } from './upstream.mjs';
import { App, expect, expectEqual, freePort, random, runSuite, startGatehouse } from './harness.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const GATEHOUSE_BIN = process.env.GATEHOUSE_BIN ?? path.resolve(HERE, '../../target/debug/gatehouse');
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const POOL_ID = 'local_FedBrow01';
const CLIENT_ID = 'fedbrowserclient0000000000';
const APP_CALLBACK = 'http://localhost:3000/callback';
const CHECKS = [1, 2];

const CONFIG_TEMPLATE = `[[pool]]
id = "${POOL_ID}"
name = "fedbrowser"

[[pool.client]]
id = "${CLIENT_ID}"
name = "Browser app"
callback_urls = ["${APP_CALLBACK}"]
allowed_oauth_flows = ["code"]
require_pkce = false
allowed_oauth_scopes = ["openid", "email"]
supported_identity_providers = ["COGNITO", "Corp"]

[[pool.identity_provider]]
name = "Corp"
type = "OIDC"
idp_identifiers = ["corp.example"]
attribute_mapping = { email = "email", email_verified = "email_verified", username = "sub" }
[pool.identity_provider.details]
client_id = "gatehouse"
client_secret = "env:UPSTREAM_SECRET"
authorize_scopes = "openid email"
oidc_issuer = "UPSTREAM_ISSUER"
`;

await runSuite({ tmpPrefix: 'gatehouse-fedbrowser-', checkTimeoutMs: 45_000 }, async ({ tmp, reporter, onCleanup, setGatehouse }) => {
  const check = reporter.check.bind(reporter);
  let base;
  let upstream;
  let browser;
  try {
    if (!existsSync(GATEHOUSE_BIN)) throw new Error(`GATEHOUSE_BIN ${GATEHOUSE_BIN} does not exist`);
    if (!existsSync(CHROMIUM)) throw new Error(`no chromium at ${CHROMIUM} (apt-get install chromium)`);
    const gport = await freePort();
    base = `http://127.0.0.1:${gport}/${POOL_ID}`;
    const secret = randomBytes(24).toString('base64url');
    upstream = await startUpstream({
      port: 0,
      clientId: 'gatehouse',
      clientSecret: secret,
      redirectUris: [`${base}/oauth2/idpresponse`],
      accounts: { ann: { sub: 'ann-0001', email: 'ann@corp.example', email_verified: true } },
    });
    onCleanup(() => upstream.close());
    const configFile = path.join(tmp, 'gatehouse.toml');
    writeFileSync(configFile, CONFIG_TEMPLATE.replace('UPSTREAM_ISSUER', upstream.issuer));
    setGatehouse(await startGatehouse({ bin: GATEHOUSE_BIN, configFile, tmp, port: gport, env: { UPSTREAM_SECRET: secret } }));
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu'] });
    onCleanup(() => browser.close());
  } catch (err) {
    reporter.setupFailed(err, CHECKS);
    return;
  }
  const app = new App({ base, clientId: CLIENT_ID, callback: APP_CALLBACK, scope: 'openid email' });

  /** A fresh browser on the app's authorization URL; returns the page and the CSP violations seen. */
  const open = async (state) => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const violations = [];
    page.on('console', (m) => {
      if (/Content Security Policy|Refused to/.test(m.text())) violations.push(m.text());
    });
    await page.route(`${new URL(APP_CALLBACK).origin}/**`, (route) => route.fulfill({ body: 'the app' }));
    await page.goto(app.authorizeUrl({ state }));
    return { page, violations, context };
  };

  /** Signs in at the provider's own pages (login, then consent if asked) and waits for the app. */
  const atProvider = async (page) => {
    await page.waitForURL((u) => u.href.startsWith(upstream.issuer), { timeout: 15_000 });
    await page.fill('input[name="login"]', 'ann');
    await page.fill('input[name="password"]', 'any');
    await page.click('button[type="submit"]');
    await page.waitForURL((u) => u.href.startsWith(APP_CALLBACK) || u.pathname.includes('/interaction/'), { timeout: 15_000 });
    if (!page.url().startsWith(APP_CALLBACK)) await page.click('button[type="submit"]');
    await page.waitForURL((u) => u.href.startsWith(APP_CALLBACK), { timeout: 15_000 });
    return new URL(page.url());
  };

  const finish = async (callback, state, violations) => {
    expect(violations.length === 0, `CSP violations: ${violations.join(' | ')}`);
    expectEqual(callback.searchParams.get('state'), state, "the app's state");
    const code = callback.searchParams.get('code');
    expect(code, `no code at the callback: ${callback.search}`);
    const claims = await app.verifiedClaims((await app.exchange(code)).id_token);
    expectEqual(claims['cognito:username'], 'Corp_ann-0001', 'cognito:username');
    return claims;
  };

  await check(1, 'Chromium: the sign-in page\'s provider button → provider sign-in → app callback with a code', async () => {
    const state = random();
    const { page, violations, context } = await open(state);
    await page.click('a.idpButton-customizable');
    const claims = await finish(await atProvider(page), state, violations);
    await context.close();
    return `ID token for ${claims['cognito:username']}`;
  });

  await check(2, 'Chromium: the corporate-email form → "Continue to Corp" page moves on by itself → provider → app callback', async () => {
    const state = random();
    const { page, violations, context } = await open(state);
    await page.fill('#idpEmail', 'ann@Corp.Example');
    await page.click('input[name="idpEmailSubmit"]');
    const claims = await finish(await atProvider(page), state, violations);
    await context.close();
    return `ID token for ${claims['cognito:username']}, email ${claims.email}`;
  });
});
