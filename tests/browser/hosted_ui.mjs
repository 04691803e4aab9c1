#!/usr/bin/env node
// End-to-end browser checks of Gatehouse's hosted sign-in pages.
//
// Starts a real SMTP sink (smtp_sink.py) and the gatehouse binary on free loopback ports, drives
// the pages with headless Debian Chromium (playwright-core) and prints one PASS/FAIL line per
// check, then `N passed, M failed`. Exit code 0 only when every check passed. See README.md.

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, rmSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { guidanceChecks } from './guidance.mjs';
import { totp } from './totp.mjs';

// ---------------------------------------------------------------------------
// Settings
// ---------------------------------------------------------------------------

const HERE = path.dirname(fileURLToPath(import.meta.url));
const GATEHOUSE_BIN = path.resolve(process.env.GATEHOUSE_BIN ?? path.join(HERE, '../../target/debug/gatehouse'));
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SCREENSHOTS = process.env.GATEHOUSE_SCREENSHOTS || null;

const CALLBACK = 'http://localhost:3000/callback';
const CALLBACK_PATTERN = 'http://localhost:3000/**';
const PLAIN_POOL = 'local_BrowserT1';
const MFA_POOL = 'local_BrowserM1';
const PLAIN_CLIENT = 'browserplainclient00000000';
const STYLED_CLIENT = 'browserstyledclient0000000';
const MFA_CLIENT = 'browsermfaclient0000000000';
const TESS = { username: 'tess', password: 'Tess-Passw0rd1!' };

const DESKTOP = { width: 1280, height: 800 };
const MOBILE = { width: 360, height: 740 };
const STEP_TIMEOUT_MS = 15_000;
const STARTUP_TIMEOUT_MS = 20_000;
const MAIL_TIMEOUT_MS = 10_000;
const RUN_TIMEOUT_MS = 150_000;

// ---------------------------------------------------------------------------
// Reporting
// ---------------------------------------------------------------------------

const results = [];

/** Runs one check; `fn` returns an optional detail string or throws with the reason. */
async function check(name, fn) {
  try {
    const detail = await fn();
    results.push(true);
    console.log(`PASS  ${name}${detail ? ` (${detail})` : ''}`);
  } catch (err) {
    results.push(false);
    console.log(`FAIL  ${name}: ${oneLine(err)}`);
  }
}

/** The reason on one line, with URL query strings elided so it stays readable. */
function oneLine(err) {
  const text = err instanceof Error ? err.message : String(err);
  return text
    .replace(/(https?:\/\/[^\s'"?]+)\?[^\s'"]*/g, '$1?…')
    .split('\n').map((l) => l.trim()).filter(Boolean).slice(0, 4).join(' | ');
}

function assert(condition, message) {
  if (!condition) throw new Error(message);
}

function summary() {
  const passed = results.filter(Boolean).length;
  return `${passed} passed, ${results.length - passed} failed`;
}

// ---------------------------------------------------------------------------
// Processes
// ---------------------------------------------------------------------------

const children = [];
let tempDir = null;

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/**
 * Spawns a process and resolves once a stdout line satisfies `isReady`. Keeps the last lines of
 * its output so a failure to start can say why.
 */
function startProcess(label, command, args, { env, isReady }) {
  const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  const output = [];
  const remember = (line) => {
    output.push(line);
    if (output.length > 20) output.shift();
  };
  createInterface({ input: child.stderr }).on('line', remember);
  const stdout = createInterface({ input: child.stdout });

  return new Promise((resolve, reject) => {
    const fail = (why) => {
      clearTimeout(timer);
      reject(new Error(`${label} did not start: ${why}\n${output.join('\n')}`));
    };
    const timer = setTimeout(() => fail(`no ready line within ${STARTUP_TIMEOUT_MS} ms`), STARTUP_TIMEOUT_MS);
    child.once('error', (err) => fail(err.message));
    child.once('exit', (code, signal) => fail(`exited early (${signal ?? code})`));
    stdout.on('line', (line) => {
      remember(line);
      if (isReady(line)) {
        clearTimeout(timer);
        child.removeAllListeners('exit');
        resolve(child);
      }
    });
  });
}

async function stopProcess(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 3_000);
  await exited;
  clearTimeout(timer);
}

function pythonCommand() {
  const venvPython = path.join(HERE, '.venv/bin/python');
  if (existsSync(venvPython)) return { command: venvPython, env: {} };
  const pydeps = path.join(HERE, '.pydeps');
  const pythonPath = [pydeps, process.env.PYTHONPATH].filter(Boolean).join(path.delimiter);
  return { command: process.env.PYTHON ?? 'python3', env: { PYTHONPATH: pythonPath } };
}

const PYDEPS_HINT =
  'install its packages: python3 -m pip install --target tests/browser/.pydeps -r tests/browser/requirements.txt';

async function startSmtpSink(port, mailFile) {
  const { command, env } = pythonCommand();
  const hasDeps = existsSync(path.join(HERE, '.venv')) || existsSync(path.join(HERE, '.pydeps/aiosmtpd'));
  assert(hasDeps, `aiosmtpd is not installed for smtp_sink.py; ${PYDEPS_HINT}`);
  return startProcess('smtp_sink.py', command, [path.join(HERE, 'smtp_sink.py'), String(port), mailFile], {
    env,
    isReady: (line) => line.trim() === 'READY',
  });
}

async function startGatehouse(dir, port, smtpPort) {
  assert(existsSync(GATEHOUSE_BIN), `GATEHOUSE_BIN ${GATEHOUSE_BIN} does not exist (build it or set GATEHOUSE_BIN)`);
  const configFile = path.join(dir, 'gatehouse.toml');
  await writeFile(configFile, configToml(smtpPort));
  const origin = `http://127.0.0.1:${port}`;
  await startProcess('gatehouse', GATEHOUSE_BIN, [
    'serve',
    '--config', configFile,
    '--database-url', `sqlite://${path.join(dir, 'g.db')}`,
    '--listen', `127.0.0.1:${port}`,
    '--public-url', origin,
  ], { env: {}, isReady: (line) => line.startsWith('Gatehouse listening on') });
  return origin;
}

function configToml(smtpPort) {
  return `[mail.smtp]
host = "127.0.0.1"
port = ${smtpPort}
security = "none"

[[pool]]
id = "${PLAIN_POOL}"
name = "browser"
alias_attributes = ["email"]
auto_verified_attributes = ["email"]
required_attributes = ["given_name"]
[pool.password_policy]
minimum_length = 8
require_symbols = false
[pool.messages]
email_from = "no-reply@browser.test"
verification_subject = "Your code"
verification_message = "Your verification code is {####}."
reset_subject = "Reset"
reset_message = "Your password reset code is {####}."

[[pool.client]]
id = "${PLAIN_CLIENT}"
name = "Plain app"
callback_urls = ["${CALLBACK}"]
allowed_oauth_flows = ["code"]
require_pkce = false
allowed_oauth_scopes = ["openid", "email", "profile"]

[[pool.client]]
id = "${STYLED_CLIENT}"
name = "Styled app"
callback_urls = ["${CALLBACK}"]
allowed_oauth_flows = ["code"]
require_pkce = false
allowed_oauth_scopes = ["openid", "email", "profile"]
css = """
.background-customizable { background-color: #112233; }
.submitButton-customizable { background-color: #ff0000; color: #ffffff; }
.banner-customizable { background-color: #334455; }
"""

[[pool]]
id = "${MFA_POOL}"
name = "browsermfa"
mfa = "ON"
[[pool.client]]
id = "${MFA_CLIENT}"
name = "MFA app"
callback_urls = ["${CALLBACK}"]
allowed_oauth_flows = ["code"]
require_pkce = false
allowed_oauth_scopes = ["openid", "email"]
[[pool.user]]
username = "${TESS.username}"
password = "${TESS.password}"
attributes = { email = "tess@example.com", email_verified = "true" }
`;
}

// ---------------------------------------------------------------------------
// Mail: the JSON lines that smtp_sink.py appends
// ---------------------------------------------------------------------------

class Mailbox {
  constructor(file) {
    this.file = file;
  }

  async messages() {
    const text = await readFile(this.file, 'utf8').catch(() => '');
    return text.split('\n').filter(Boolean).map((line) => JSON.parse(line));
  }

  /** How many messages have arrived so far; pass it to `waitFor` to skip older ones. */
  async mark() {
    return (await this.messages()).length;
  }

  async waitFor(address, after) {
    const deadline = Date.now() + MAIL_TIMEOUT_MS;
    for (;;) {
      const found = (await this.messages())
        .slice(after)
        .find((m) => m.to.some((to) => to.toLowerCase() === address.toLowerCase()));
      if (found) return found;
      assert(Date.now() < deadline, `no mail for ${address} within ${MAIL_TIMEOUT_MS / 1000} s`);
      await sleep(200);
    }
  }
}

function codeIn(message) {
  const match = /\b(\d{6})\b/.exec(message.body);
  assert(match, `no 6-digit code in mail "${message.subject}": ${JSON.stringify(message.body)}`);
  return match[1];
}

// ---------------------------------------------------------------------------
// OAuth helpers
// ---------------------------------------------------------------------------

function authorizeUrl(origin, pool, clientId, state) {
  const query = new URLSearchParams({
    response_type: 'code',
    client_id: clientId,
    redirect_uri: CALLBACK,
    scope: 'openid email',
    state,
  });
  return `${origin}/${pool}/oauth2/authorize?${query}`;
}

function isCallback(url) {
  return url.href.startsWith(CALLBACK);
}

/** The code from a callback URL, after checking the state came back unchanged. */
function callbackCode(pageUrl, state) {
  const url = new URL(pageUrl);
  assert(url.href.startsWith(CALLBACK), `not on the callback: ${url.href}`);
  assert(url.searchParams.get('state') === state, `state came back as ${url.searchParams.get('state')}`);
  const code = url.searchParams.get('code');
  assert(code, `no code on the callback: ${url.href}`);
  return code;
}

async function exchangeCode(origin, pool, clientId, code) {
  const response = await fetch(`${origin}/${pool}/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', client_id: clientId, code, redirect_uri: CALLBACK }),
  });
  const body = await response.text();
  assert(response.ok, `token endpoint answered ${response.status}: ${body.slice(0, 300)}`);
  return JSON.parse(body);
}

function jwtClaims(jwt) {
  const payload = String(jwt).split('.')[1];
  assert(payload, 'the ID token is not a JWT');
  return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function randomToken(bytes = 4) {
  return randomBytes(bytes).toString('hex');
}

// ---------------------------------------------------------------------------
// Browser helpers
// ---------------------------------------------------------------------------

/** Everything the pages did, checked at the end. */
const traffic = { requests: [], documents: [], consoleErrors: [] };

function watch(page) {
  page.on('request', (request) => traffic.requests.push(request.url()));
  page.on('response', (response) => {
    if (response.request().resourceType() === 'document') traffic.documents.push(response);
  });
  const record = (text) =>
    traffic.consoleErrors.push(`${new URL(page.url()).pathname}: ${text.replace(/\s+/g, ' ').trim()}`);
  page.on('console', (message) => {
    if (message.type() === 'error') record(message.text());
  });
  page.on('pageerror', (err) => record(err.message));
}

/** Opens a page in a fresh browser context (own cookies), with the app callback answered locally. */
async function withPage(browser, options, fn) {
  const context = await browser.newContext({ viewport: DESKTOP, ...options });
  context.setDefaultTimeout(STEP_TIMEOUT_MS);
  try {
    const page = await context.newPage();
    watch(page);
    await page.route(CALLBACK_PATTERN, (route) =>
      route.fulfill({
        status: 200,
        contentType: 'text/html',
        body: '<!DOCTYPE html><title>App callback</title><p>Signed in: callback reached.</p>',
      }),
    );
    return await fn(page);
  } finally {
    await context.close();
  }
}

async function screenshot(page, name) {
  if (!SCREENSHOTS) return;
  await mkdir(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOTS, name), fullPage: true });
}

async function signIn(page, { username, password }) {
  await page.fill('#signInFormUsername', username);
  await page.fill('#signInFormPassword', password);
}

/**
 * Clicks a submit button and waits for the app callback. Fails at once, naming the directive,
 * when the page's Content-Security-Policy stops the browser from following the redirect.
 */
async function submitToCallback(page, selector) {
  let onConsole;
  const blocked = new Promise((_, reject) => {
    onConsole = (message) => {
      if (message.type() === 'error' && message.text().includes('Content Security Policy')) {
        reject(new Error(`the browser refused the redirect to the callback: ${message.text()}`));
      }
    };
    page.on('console', onConsole);
  });
  blocked.catch(() => {}); // may reject while the click is still pending; the race below reports it
  try {
    await page.click(selector);
    await Promise.race([page.waitForURL(isCallback), blocked]);
  } catch (err) {
    if (err.message.startsWith('the browser refused')) throw err;
    const error = await page.locator('.errorMessage-customizable').allTextContents();
    throw new Error(`did not reach the callback; at ${page.url()}${error.length ? `, error: ${error.join(' ')}` : ''}`);
  } finally {
    page.off('console', onConsole);
  }
}

async function expectPath(page, suffix) {
  await page.waitForURL((url) => url.pathname.endsWith(suffix)).catch(() => {
    throw new Error(`expected ${suffix}, at ${page.url()}`);
  });
}

function computedStyle(page, selector, property) {
  return page.locator(selector).first().evaluate((el, prop) => getComputedStyle(el).getPropertyValue(prop), property);
}

async function ruleClasses(page) {
  return page.$$eval('#passwordRules li', (items) =>
    Object.fromEntries(items.map((li) => [li.dataset.rule, li.className])),
  );
}

// ---------------------------------------------------------------------------
// Checks
// ---------------------------------------------------------------------------

const VALID = 'passwordCheck-valid-customizable';
const NOT_VALID = 'passwordCheck-notValid-customizable';

/** Check 1a: sign-up with the live password rules; leaves the page on /confirm. */
async function signUp(page, env, user) {
  await page.goto(authorizeUrl(env.origin, PLAIN_POOL, PLAIN_CLIENT, user.state));
  await expectPath(page, '/login');
  await page.click('a[href*="/signup?"]');
  await expectPath(page, '/signup');

  await page.fill('input[name="username"]', user.username);
  await page.fill('input[name="email"]', user.email);
  await page.fill('input[name="given_name"]', 'Walt');

  const before = await ruleClasses(page);
  assert(Object.keys(before).length >= 4, `expected at least 4 password rules, got ${JSON.stringify(before)}`);
  assert(Object.values(before).every((c) => c === NOT_VALID), `rules not all unmet before typing: ${JSON.stringify(before)}`);

  const password = page.locator('#password');
  await password.pressSequentially('w');
  const afterOne = await ruleClasses(page);
  assert(afterOne.lowercase === VALID && afterOne.length === NOT_VALID,
    `after typing "w": ${JSON.stringify(afterOne)}`);
  await password.pressSequentially(user.password.slice(1), { delay: 5 });
  const after = await ruleClasses(page);
  assert(Object.values(after).every((c) => c === VALID), `rules not all met after typing: ${JSON.stringify(after)}`);

  const mark = await env.mailbox.mark();
  await page.click('input[name="signUpButton"]');
  await expectPath(page, '/confirm');
  const query = new URL(page.url()).searchParams;
  assert(query.get('username') === user.username, `confirm page for username ${query.get('username')}`);
  const mail = await env.mailbox.waitFor(user.email, mark);
  assert(mail.subject === 'Your code', `verification mail subject "${mail.subject}"`);
  user.code = codeIn(mail);
  return `${Object.keys(after).length} rules turned valid while typing; code mailed to ${user.email}`;
}

/** Check 2: a wrong code is refused with a visible error; the page stays on /confirm. */
async function wrongConfirmationCode(page, user) {
  assert(user.code, 'no confirmation code from the sign-up check');
  const wrong = user.code.slice(0, 5) + String((Number(user.code[5]) + 1) % 10);
  await page.fill('#verification_code', wrong);
  await page.click('input[name="confirm"]');
  const error = page.locator('.errorMessage-customizable');
  await error.waitFor({ state: 'visible' });
  const text = (await error.textContent()).trim();
  assert(text, 'the error message is empty');
  await expectPath(page, '/confirm');
  assert(await page.locator('button[name="resend"]').isVisible(), 'no resend button on the confirm page');
  return `"${text}"`;
}

/** Check 1b: the right code lands on the callback; the ID token names the new, verified user. */
async function rightConfirmationCode(page, env, user) {
  assert(user.code, 'no confirmation code from the sign-up check');
  await page.fill('#verification_code', user.code);
  await submitToCallback(page, 'input[name="confirm"]');
  const tokens = await exchangeCode(env.origin, PLAIN_POOL, PLAIN_CLIENT, callbackCode(page.url(), user.state));
  const claims = jwtClaims(tokens.id_token);
  assert(claims['cognito:username'] === user.username, `cognito:username is ${claims['cognito:username']}`);
  assert(claims.email_verified === true, `email_verified is ${JSON.stringify(claims.email_verified)}`);
  return `cognito:username=${claims['cognito:username']}, email_verified=true`;
}

/** Check 3: forgot password by mail, then sign in with the new password. */
async function forgotPassword(page, env, user) {
  assert(user.code, 'no user from the sign-up check');
  const state = randomToken();
  await page.goto(authorizeUrl(env.origin, PLAIN_POOL, PLAIN_CLIENT, state));
  await page.click('a.redirect-customizable[href*="/forgotPassword?"]');
  await expectPath(page, '/forgotPassword');
  const mark = await env.mailbox.mark();
  await page.fill('input[name="username"]', user.username);
  await page.click('input[name="reset_my_password"]');
  await expectPath(page, '/confirmForgotPassword');

  const mail = await env.mailbox.waitFor(user.email, mark);
  assert(mail.subject === 'Reset', `reset mail subject "${mail.subject}"`);
  const newPassword = `New${randomToken()}Pw7`;
  await page.fill('#forgot_password_code', codeIn(mail));
  await page.fill('#new_password', newPassword);
  await page.fill('input[name="confirm_password"]', newPassword);
  await page.click('form[name="confirmForgotPasswordForm"] input[type="submit"]');
  await page.waitForURL((url) => url.pathname.endsWith('/login') && url.searchParams.get('notice') === 'password_reset')
    .catch(() => { throw new Error(`expected /login?…notice=password_reset, at ${page.url()}`); });
  const notice = (await page.locator('p.notice').textContent()).trim();
  assert(notice, 'the password-reset notice is empty');

  await signIn(page, { username: user.username, password: newPassword });
  await submitToCallback(page, 'input[name="signInSubmitButton"]');
  callbackCode(page.url(), state);
  user.password = newPassword;
  return `notice "${notice}"`;
}

/** Check 4a: first sign-in of tess sets up TOTP; returns the secret. */
async function totpSetup(page, env, mfa) {
  const state = randomToken();
  await page.goto(authorizeUrl(env.origin, MFA_POOL, MFA_CLIENT, state));
  await signIn(page, TESS);
  await page.click('input[name="signInSubmitButton"]');
  const qr = page.locator('figure#totpQr svg');
  await qr.waitFor({ state: 'visible' });
  const box = await qr.boundingBox();
  assert(box && box.width >= 100 && box.height >= 100, `QR code too small: ${JSON.stringify(box)}`);
  const secret = (await page.locator('code#totpSecret').textContent()).replace(/\s/g, '');
  assert(/^[A-Z2-7]{16,}=*$/.test(secret), `secret is not base32: "${secret}"`);
  mfa.secret = secret;
  await screenshot(page, 'totp-setup-desktop.png');

  await page.fill('#totpCode', totp(secret));
  await submitToCallback(page, 'form[name="totpSetupForm"] input[type="submit"]');
  callbackCode(page.url(), state);
  return `QR ${Math.round(box.width)}x${Math.round(box.height)} px, secret of ${secret.length} characters`;
}

/** Check 4b: a fresh context signs tess in with the code of the next 30-second step. */
async function totpChallenge(page, env, mfa) {
  assert(mfa.secret, 'no TOTP secret from the set-up check');
  const state = randomToken();
  await page.goto(authorizeUrl(env.origin, MFA_POOL, MFA_CLIENT, state));
  await signIn(page, TESS);
  await page.click('input[name="signInSubmitButton"]');
  await page.locator('#totpCode').waitFor({ state: 'visible' });
  const step = await page.locator('form:has(#totpCode) input[name="step"]').getAttribute('value');
  assert(step === 'mfa', `challenge form step is ${step}`);
  assert((await page.locator('#totpQr').count()) === 0, 'the challenge shows the set-up QR code again');
  await page.fill('#totpCode', totp(mfa.secret, Date.now() + 30_000));
  await submitToCallback(page, 'form:has(#totpCode) input[type="submit"]');
  const tokens = await exchangeCode(env.origin, MFA_POOL, MFA_CLIENT, callbackCode(page.url(), state));
  const username = jwtClaims(tokens.id_token)['cognito:username'];
  assert(username === TESS.username, `cognito:username is ${username}`);
  return 'challenge passed, ID token for tess';
}

const STYLED_COLOURS = [
  ['.background-customizable', 'background-color', 'rgb(17, 34, 51)'],
  ['.submitButton-customizable', 'background-color', 'rgb(255, 0, 0)'],
  ['.submitButton-customizable', 'color', 'rgb(255, 255, 255)'],
  ['.banner-customizable', 'background-color', 'rgb(51, 68, 85)'],
];

async function openSignIn(page, env, clientId) {
  await page.goto(authorizeUrl(env.origin, PLAIN_POOL, clientId, randomToken()));
  await expectPath(page, '/login');
}

/** Check 5: the styled client's CSS applies, and only to its own pages. */
async function customizedClient(browser, env) {
  await withPage(browser, {}, async (page) => {
    await openSignIn(page, env, STYLED_CLIENT);
    for (const [selector, property, expected] of STYLED_COLOURS) {
      const actual = await computedStyle(page, selector, property);
      assert(actual === expected, `styled ${selector} ${property} is ${actual}, expected ${expected}`);
    }
    await screenshot(page, 'signin-custom-desktop.png');
  });
  return withPage(browser, {}, async (page) => {
    await openSignIn(page, env, PLAIN_CLIENT);
    // White button text is also the default look, so only the background colours must differ.
    for (const [selector, property, styled] of STYLED_COLOURS.filter(([, p]) => p === 'background-color')) {
      const actual = await computedStyle(page, selector, property);
      assert(actual !== styled, `plain client's ${selector} ${property} is the styled ${actual}`);
    }
    await screenshot(page, 'signin-default-desktop.png');
    return `styled: ${STYLED_COLOURS.length} colours as configured; plain: background ${await computedStyle(page, '.background-customizable', 'background-color')}`;
  });
}

/** Problems of the page at a 360 px viewport: horizontal overflow, inputs without a label. */
function mobileProblems(page) {
  return page.evaluate((maxWidth) => {
    const problems = [];
    const width = document.documentElement.scrollWidth;
    if (width > maxWidth) problems.push(`scrollWidth ${width} > ${maxWidth}`);
    const buttonTypes = new Set(['hidden', 'submit', 'button', 'reset', 'image']);
    const visible = (el) => el.getClientRects().length > 0 && getComputedStyle(el).visibility !== 'hidden';
    for (const input of document.querySelectorAll('input, select, textarea')) {
      if (buttonTypes.has(input.type) || !visible(input)) continue;
      const label = input.id && document.querySelector(`label[for="${CSS.escape(input.id)}"]`);
      if (!label || !label.textContent.trim()) problems.push(`input ${input.name || input.outerHTML} has no <label for>`);
    }
    return problems;
  }, MOBILE.width);
}

/** Check 6: sign-in (both looks) and sign-up at 360x740. */
async function mobileLayout(browser, env) {
  const mobile = { viewport: MOBILE, isMobile: true, hasTouch: true, deviceScaleFactor: 1 };
  const pages = [
    ['sign-in (plain)', PLAIN_CLIENT, null],
    ['sign-in (styled)', STYLED_CLIENT, null],
    ['sign-up', PLAIN_CLIENT, 'a[href*="/signup?"]'],
  ];
  const problems = [];
  let inputs = 0;
  for (const [label, clientId, link] of pages) {
    await withPage(browser, mobile, async (page) => {
      await openSignIn(page, env, clientId);
      if (link) {
        await page.click(link);
        await expectPath(page, '/signup');
      }
      inputs += await page.locator('input:visible:not([type="submit"])').count();
      problems.push(...(await mobileProblems(page)).map((p) => `${label}: ${p}`));
    });
  }
  assert(problems.length === 0, problems.join('; '));
  return `${pages.length} pages fit in 360 px, ${inputs} visible inputs all labelled`;
}

/** Check 7: from the top of the sign-in page, Tab reaches username and then password. */
async function keyboardOrder(browser, env) {
  return withPage(browser, {}, async (page) => {
    await openSignIn(page, env, PLAIN_CLIENT);
    // The username has focus at load; start from the heading, the top of the form.
    await page.locator('h1').click();
    const order = [];
    for (let i = 0; i < 8; i += 1) {
      await page.keyboard.press('Tab');
      order.push(await page.evaluate(() => {
        const el = document.activeElement;
        return el.id ? `#${el.id}` : `${el.tagName.toLowerCase()}${el.name ? `[name=${el.name}]` : ''}`;
      }));
    }
    const username = order.indexOf('#signInFormUsername');
    const password = order.indexOf('#signInFormPassword');
    assert(username >= 0, `Tab never reached the username: ${order.join(' → ')}`);
    assert(password === username + 1, `password is not the next Tab stop after username: ${order.join(' → ')}`);
    return `Tab stops: ${order.slice(0, password + 2).join(' → ')}`;
  });
}

/** Check: every HTML page the server sent carries the security headers. */
function securityHeaders(env) {
  const pages = traffic.documents.filter((r) => r.url().startsWith(env.origin) && r.status() === 200);
  assert(pages.length > 0, 'no server page was recorded');
  const problems = [];
  for (const response of pages) {
    const h = response.headers();
    const where = new URL(response.url()).pathname;
    const csp = h['content-security-policy'] ?? '';
    if (!csp) problems.push(`${where}: no CSP`);
    if (csp.includes('unsafe-inline')) problems.push(`${where}: CSP allows 'unsafe-inline'`);
    if (h['x-frame-options'] !== 'DENY') problems.push(`${where}: X-Frame-Options ${h['x-frame-options']}`);
    if (h['referrer-policy'] !== 'same-origin') problems.push(`${where}: Referrer-Policy ${h['referrer-policy']}`);
    if (!/\bno-store\b/.test(h['cache-control'] ?? '')) problems.push(`${where}: Cache-Control ${h['cache-control']}`);
  }
  assert(problems.length === 0, [...new Set(problems)].join('; '));
  return `${pages.length} pages`;
}

/** Check: no page logged an error (a CSP violation, a failed script or style, ...). */
function noConsoleErrors() {
  const errors = traffic.consoleErrors;
  assert(errors.length === 0, `${errors.length} logged: ${[...new Set(errors)].join(' || ')}`);
  return 'none logged';
}

/** Check 8: the pages only ever talked to the server and the (routed) app callback. */
function onlyLocalRequests(env) {
  const allowed = new Set([new URL(env.origin).host, 'localhost:3000']);
  const foreign = traffic.requests.filter((raw) => {
    const url = new URL(raw);
    if (url.protocol === 'data:' || url.protocol === 'about:' || url.protocol === 'blob:') return false;
    return !allowed.has(url.host);
  });
  assert(foreign.length === 0, `requests to other hosts: ${[...new Set(foreign)].join(', ')}`);
  return `${traffic.requests.length} requests, all to ${[...allowed].join(' or ')}`;
}

// ---------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------

async function runChecks(browser, env) {
  const id = randomToken();
  const user = {
    username: `walt${id}`,
    email: `walt${id}@example.com`,
    password: `Walt${randomToken()}Pw9`,
    state: randomToken(),
  };
  const mfa = {};

  await withPage(browser, {}, async (page) => {
    await check('sign-up: live password rules, form submits, code arrives by SMTP', () => signUp(page, env, user));
    await check('confirmation: a wrong code shows .errorMessage-customizable', () => wrongConfirmationCode(page, user));
    await check('confirmation: the right code lands on the callback; ID token checked', () =>
      rightConfirmationCode(page, env, user));
  });
  await withPage(browser, {}, (page) =>
    check('forgot password: reset code by SMTP, notice, sign-in with the new password', () =>
      forgotPassword(page, env, user)));
  await withPage(browser, {}, (page) =>
    check('TOTP set-up: QR and secret shown, a valid code lands on the callback', () => totpSetup(page, env, mfa)));
  await withPage(browser, {}, (page) =>
    check('TOTP challenge: a fresh context signs in with the next-step code', () => totpChallenge(page, env, mfa)));
  await check('customized client: styled colours apply, plain client keeps the defaults', () =>
    customizedClient(browser, env));
  await check('mobile 360x740: no horizontal scroll, every visible input has a <label for>', () =>
    mobileLayout(browser, env));
  await check('keyboard: Tab reaches username, then password', () => keyboardOrder(browser, env));
  await guidanceChecks({ check, assert, withPage, openSignIn, expectPath, screenshot, PLAIN_CLIENT, STYLED_CLIENT })(
    browser, env);
  await check('security headers on every page (CSP without unsafe-inline, DENY, Referrer-Policy same-origin, no-store)', () =>
    securityHeaders(env));
  await check('no console errors or CSP violations on any page', noConsoleErrors);
  await check('no request left for another host', () => onlyLocalRequests(env));
}

async function main() {
  const started = Date.now();
  const dir = await mkdtemp(path.join(tmpdir(), 'gatehouse-browser-'));
  tempDir = dir;
  let browser;
  try {
    const [smtpPort, httpPort] = [await freePort(), await freePort()];
    const mailFile = path.join(dir, 'mail.jsonl');
    await startSmtpSink(smtpPort, mailFile);
    const origin = await startGatehouse(dir, httpPort, smtpPort);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu'] });
    await runChecks(browser, { origin, mailbox: new Mailbox(mailFile) });
  } catch (err) {
    await check('set-up', () => { throw err; });
  } finally {
    await browser?.close().catch(() => {});
    await Promise.all(children.map(stopProcess));
    await rm(dir, { recursive: true, force: true });
  }
  console.log(`(${((Date.now() - started) / 1000).toFixed(1)} s)`);
  console.log(summary());
  return results.every(Boolean) && results.length > 0 ? 0 : 1;
}

/** Last resort when the run is cut short: no process or temp dir of ours survives it. */
function emergencyCleanup() {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  if (tempDir) rmSync(tempDir, { recursive: true, force: true });
}

process.on('exit', emergencyCleanup);
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(130));
setTimeout(() => {
  console.log(`FAIL  whole run: still running after ${RUN_TIMEOUT_MS / 1000} s`);
  results.push(false);
  console.log(summary());
  process.exit(1);
}, RUN_TIMEOUT_MS).unref();

process.exitCode = await main();
