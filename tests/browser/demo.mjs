#!/usr/bin/env node
// The demo app in headless Chromium, from the link `gatehouse serve` prints to the success page.
//
// The server runs already (started without --config); the Rust test that starts it passes what
// the banner printed: DEMO_URL (the "Sign in" link), DEMO_USERNAME and DEMO_PASSWORD. Prints one
// PASS/FAIL line per check, then `N passed, M failed`; exit code 0 only when every check passed.
// See README.md.

import { chromium } from 'playwright-core';

const { DEMO_URL, DEMO_USERNAME, DEMO_PASSWORD } = process.env;
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const STEP_TIMEOUT_MS = 15_000;

const results = [];

async function check(name, fn) {
  try {
    const detail = await fn();
    results.push(true);
    console.log(`PASS  ${name}${detail ? ` (${detail})` : ''}`);
  } catch (err) {
    results.push(false);
    const text = err instanceof Error ? err.message : String(err);
    console.log(`FAIL  ${name}: ${text.split('\n').map((l) => l.trim()).filter(Boolean).slice(0, 4).join(' | ')}`);
  }
}

function assert(condition, message) {
  if (!condition) throw new Error(message);
}

/** The ID token's claims as the success page's table shows them. */
async function claimsTable(page) {
  const rows = await page.locator('table.claims tbody tr').all();
  const claims = {};
  for (const row of rows) {
    claims[(await row.locator('th').innerText()).trim()] = (await row.locator('td').innerText()).trim();
  }
  return claims;
}

async function signIn(page) {
  const form = page.locator('form:has(input[name="password"])');
  await form.locator('input[name="username"]').fill(DEMO_USERNAME);
  await form.locator('input[name="password"]').fill(DEMO_PASSWORD);
  await form.locator('[type="submit"]').first().click();
  await page.waitForURL(/\/demo\/callback\?/);
}

async function runChecks(page, problems) {
  const origin = new URL(DEMO_URL).origin;

  await check('the printed link opens the sign-in page', async () => {
    await page.goto(DEMO_URL);
    assert(/\/oauth2\/authorize|\/login\?/.test(page.url()), `landed on ${page.url()}`);
    await page.locator('input[name="password"]').waitFor();
    return new URL(page.url()).pathname;
  });

  let firstAccessToken = '';
  await check('signing in lands on the success page with the ID token claims', async () => {
    await signIn(page);
    const heading = await page.locator('h1').innerText();
    assert(heading.includes(`you are signed in as ${DEMO_USERNAME}`), `heading: ${heading}`);
    const claims = await claimsTable(page);
    assert(claims['cognito:username'] === DEMO_USERNAME, `cognito:username ${claims['cognito:username']}`);
    assert(claims.email === 'demo@example.com', `email ${claims.email}`);
    assert(claims.token_use === 'id', `token_use ${claims.token_use}`);
    assert(claims.iss?.startsWith(origin), `iss ${claims.iss}`);
    assert(claims.nonce, 'no nonce claim');
    const userInfo = JSON.parse(await page.locator('#userinfo').innerText());
    assert(userInfo.username === DEMO_USERNAME, `userInfo ${JSON.stringify(userInfo)}`);
    assert(!(await page.locator('#id-token').isVisible()), 'the raw tokens are folded');
    firstAccessToken = await page.locator('#access-token').textContent();
    return `${Object.keys(claims).length} claims`;
  });

  await check('refresh shows new tokens', async () => {
    await page.getByRole('button', { name: 'Refresh the tokens' }).click();
    await page.locator('[role="status"]').waitFor();
    const status = await page.locator('[role="status"]').innerText();
    assert(status.includes('New tokens'), `notice: ${status}`);
    const accessToken = await page.locator('#access-token').textContent();
    assert(accessToken && accessToken !== firstAccessToken, 'the access token did not change');
    const claims = await claimsTable(page);
    assert(claims['cognito:username'] === DEMO_USERNAME, 'claims after refresh');
  });

  await check('sign in again goes straight back through the hosted session', async () => {
    await page.getByRole('link', { name: 'Sign in again' }).click();
    await page.waitForURL(/\/demo\/callback\?/);
    const heading = await page.locator('h1').innerText();
    assert(heading.includes(`signed in as ${DEMO_USERNAME}`), `heading: ${heading}`);
  });

  await check('sign out ends the session and comes back to the demo', async () => {
    const visited = [];
    const record = (frame) => {
      if (frame === page.mainFrame()) visited.push(frame.url());
    };
    page.on('framenavigated', record);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.locator('input[name="password"]').waitFor();
    page.off('framenavigated', record);
    assert(/\/login\?/.test(page.url()), `after sign-out: ${page.url()}`);
    return `${visited.length} pages`;
  });

  await check('the pages logged no errors and broke no CSP rule', async () => {
    assert(problems.length === 0, problems.join(' | '));
  });
}

async function main() {
  if (!DEMO_URL || !DEMO_USERNAME || !DEMO_PASSWORD) {
    console.log('FAIL  set-up: DEMO_URL, DEMO_USERNAME and DEMO_PASSWORD are required');
    return 1;
  }
  let browser;
  try {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu'] });
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    context.setDefaultTimeout(STEP_TIMEOUT_MS);
    const page = await context.newPage();
    const problems = [];
    page.on('console', (message) => {
      const source = message.location()?.url ?? '';
      // The browser asks for /favicon.ico by itself; the server has none.
      if (message.type() !== 'error' || source.endsWith('/favicon.ico')) return;
      problems.push(`${new URL(page.url()).pathname}: ${message.text()} ${source}`);
    });
    page.on('pageerror', (err) => problems.push(err.message));
    await runChecks(page, problems);
  } catch (err) {
    await check('set-up', () => {
      throw err;
    });
  } finally {
    await browser?.close().catch(() => {});
  }
  const passed = results.filter(Boolean).length;
  console.log(`${passed} passed, ${results.length - passed} failed`);
  return results.length > 0 && results.every(Boolean) ? 0 : 1;
}

process.exit(await main());
