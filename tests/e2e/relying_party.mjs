#!/usr/bin/env node
// Relying-party end-to-end checks against a live Gatehouse user pool.
//
// Drives the pool the way a real application does: OpenID discovery, the
// authorization code flow with PKCE through the hosted sign-in page, refresh,
// revocation, code replay, a wrong password, the implicit flow and the
// client_credentials grant with introspection. Prints one `ok - ...` line per
// check and exits 0, or prints `not ok - ...` with the reason and exits 1 on
// the first failure. See README.md for the environment variables.

import { createHash } from 'node:crypto';
import * as client from 'openid-client';
import * as jose from 'jose';

const OVERALL_TIMEOUT_MS = 60_000;
const HTTP_TIMEOUT_MS = 15_000;
const MAX_REDIRECTS = 10;
const BODY_EXCERPT_CHARS = 2_000;
const ERROR_CLASS = 'errorMessage-customizable';

// ---------------------------------------------------------------------------
// Reporting
// ---------------------------------------------------------------------------

/** A failed expectation, with the HTTP details that explain it. */
class CheckFailure extends Error {
  constructor(message, details = {}) {
    super(message, details.cause ? { cause: details.cause } : undefined);
    this.name = 'CheckFailure';
    this.details = details;
  }
}

let passed = 0;
let currentCheck = 'startup';
let finished = false;

function finish(code, text) {
  if (finished) return;
  finished = true;
  process.exitCode = code;
  process.stdout.write(text, () => process.exit(code));
}

async function check(name, fn) {
  currentCheck = name;
  let detail;
  try {
    detail = await fn();
  } catch (err) {
    const lines = await describeError(err);
    finish(1, failureReport(name, lines));
    // Never continue past the first failure.
    await new Promise(() => {});
  }
  passed += 1;
  console.log(`ok - ${name}${detail ? ` (${detail})` : ''}`);
}

/** `not ok` line, the reasons as `  # ` comment lines, and the closing count. */
function failureReport(name, lines) {
  const comments = lines.flatMap((l) => String(l).split(/\r?\n/)).map((l) => `  # ${l}`);
  return [`not ok - ${name}`, ...comments, `relying_party: ${passed} passed, 1 failed`, ''].join('\n');
}

function excerpt(body) {
  if (body === undefined || body === null) return '';
  const text = typeof body === 'string' ? body : safeJson(body);
  return text.length > BODY_EXCERPT_CHARS ? `${text.slice(0, BODY_EXCERPT_CHARS)}... [${text.length} chars]` : text;
}

function safeJson(value) {
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
}

async function readResponseBody(response) {
  try {
    if (response.bodyUsed) return '(body already consumed)';
    return await response.text();
  } catch (err) {
    return `(body unreadable: ${err.message})`;
  }
}

/** Turns any error into readable lines: message, HTTP status, headers, body, causes. */
async function describeError(err, depth = 0) {
  if (depth > 4) return ['(cause chain truncated)'];
  const lines = [];
  if (err instanceof CheckFailure) {
    lines.push(err.message);
    const d = err.details;
    if (d.method || d.url) lines.push(`request: ${d.method ?? 'GET'} ${d.url ?? ''}`.trim());
    if (d.status !== undefined) lines.push(`HTTP status: ${d.status}`);
    if (d.location) lines.push(`Location: ${d.location}`);
    if (d.wwwAuthenticate) lines.push(`WWW-Authenticate: ${d.wwwAuthenticate}`);
    if (d.body !== undefined) lines.push(`body: ${excerpt(d.body)}`);
  } else if (err instanceof client.ResponseBodyError) {
    lines.push(`${err.name}: ${err.message}`);
    lines.push(`HTTP status: ${err.status}`);
    lines.push(`error: ${err.error}${err.error_description ? ` (${err.error_description})` : ''}`);
    lines.push(`body: ${excerpt(err.cause)}`);
    return lines;
  } else if (err instanceof client.WWWAuthenticateChallengeError) {
    lines.push(`${err.name}: ${err.message}`);
    lines.push(`HTTP status: ${err.status}`);
    lines.push(`WWW-Authenticate: ${err.response?.headers.get('www-authenticate')}`);
    if (err.response) lines.push(`body: ${excerpt(await readResponseBody(err.response))}`);
    return lines;
  } else if (err instanceof client.AuthorizationResponseError) {
    lines.push(`${err.name}: ${err.message}`);
    lines.push(`error: ${err.error}${err.error_description ? ` (${err.error_description})` : ''}`);
    return lines;
  } else if (err instanceof Error) {
    lines.push(`${err.name}${err.code ? ` [${err.code}]` : ''}: ${err.message}`);
  } else {
    lines.push(`thrown: ${safeJson(err)}`);
    return lines;
  }
  const cause = err.cause;
  if (cause instanceof Response) {
    lines.push(`HTTP status: ${cause.status} (${cause.url || 'response'})`);
    const wa = cause.headers.get('www-authenticate');
    if (wa) lines.push(`WWW-Authenticate: ${wa}`);
    lines.push(`body: ${excerpt(await readResponseBody(cause))}`);
  } else if (cause instanceof Error) {
    lines.push('caused by:');
    lines.push(...(await describeError(cause, depth + 1)).map((l) => `  ${l}`));
  } else if (cause !== undefined) {
    lines.push(`cause: ${excerpt(cause)}`);
  }
  return lines;
}

// ---------------------------------------------------------------------------
// Environment
// ---------------------------------------------------------------------------

const REQUIRED_ENV = [
  'GATEHOUSE_ISSUER',
  'E2E_PUBLIC_CLIENT_ID',
  'E2E_CONFIDENTIAL_CLIENT_ID',
  'E2E_CONFIDENTIAL_CLIENT_SECRET',
  'E2E_REDIRECT_URI',
  'E2E_USERNAME',
  'E2E_PASSWORD',
  'E2E_CUSTOM_SCOPE',
];

function loadEnvironment() {
  const missing = REQUIRED_ENV.filter((name) => !process.env[name]);
  if (missing.length > 0) {
    throw new CheckFailure(`missing environment variables: ${missing.join(', ')}`);
  }
  const env = process.env;
  let issuer;
  let redirectUri;
  try {
    issuer = new URL(env.GATEHOUSE_ISSUER);
  } catch {
    throw new CheckFailure(`GATEHOUSE_ISSUER is not a URL: ${env.GATEHOUSE_ISSUER}`);
  }
  try {
    redirectUri = new URL(env.E2E_REDIRECT_URI);
  } catch {
    throw new CheckFailure(`E2E_REDIRECT_URI is not a URL: ${env.E2E_REDIRECT_URI}`);
  }
  if (redirectUri.search || redirectUri.hash || redirectUri.href !== env.E2E_REDIRECT_URI) {
    // openid-client sends the callback URL stripped of query and fragment as
    // redirect_uri at the token endpoint; it must equal the registered value.
    throw new CheckFailure(
      `E2E_REDIRECT_URI must be a normalized URL without query or fragment (got ${env.E2E_REDIRECT_URI}, normalized ${redirectUri.href})`,
    );
  }
  if (issuer.protocol !== 'https:' && issuer.protocol !== 'http:') {
    throw new CheckFailure(`GATEHOUSE_ISSUER must be http(s): ${env.GATEHOUSE_ISSUER}`);
  }
  return {
    issuer,
    insecure: issuer.protocol === 'http:',
    publicClientId: env.E2E_PUBLIC_CLIENT_ID,
    confidentialClientId: env.E2E_CONFIDENTIAL_CLIENT_ID,
    confidentialClientSecret: env.E2E_CONFIDENTIAL_CLIENT_SECRET,
    redirectUri,
    username: env.E2E_USERNAME,
    password: env.E2E_PASSWORD,
    customScope: env.E2E_CUSTOM_SCOPE,
  };
}

// ---------------------------------------------------------------------------
// OpenID client helpers
// ---------------------------------------------------------------------------

async function discoverClient(env, clientId, clientAuth) {
  // `timeout` (seconds) applies to discovery and every later request of this configuration.
  const options = { timeout: HTTP_TIMEOUT_MS / 1000 };
  if (env.insecure) options.execute = [client.allowInsecureRequests];
  return client.discovery(env.issuer, clientId, undefined, clientAuth, options);
}

function checkDiscoveryMetadata(metadata) {
  const endpoints = [
    'authorization_endpoint',
    'token_endpoint',
    'userinfo_endpoint',
    'jwks_uri',
    'revocation_endpoint',
    'introspection_endpoint',
    'end_session_endpoint',
  ];
  const missing = endpoints.filter((name) => typeof metadata[name] !== 'string' || metadata[name] === '');
  if (missing.length > 0) {
    throw new CheckFailure(`discovery document lacks: ${missing.join(', ')}`, { body: metadata });
  }
  for (const name of endpoints) {
    try {
      new URL(metadata[name]);
    } catch {
      throw new CheckFailure(`discovery ${name} is not an absolute URL: ${metadata[name]}`, { body: metadata });
    }
  }
  if (!metadata.code_challenge_methods_supported?.includes('S256')) {
    throw new CheckFailure('code_challenge_methods_supported does not include S256', {
      body: metadata.code_challenge_methods_supported,
    });
  }
  if (!metadata.id_token_signing_alg_values_supported?.includes('RS256')) {
    throw new CheckFailure('id_token_signing_alg_values_supported does not include RS256', {
      body: metadata.id_token_signing_alg_values_supported,
    });
  }
}

function decodeJwtPayload(token, what) {
  try {
    return jose.decodeJwt(token);
  } catch (err) {
    throw new CheckFailure(`${what} is not a JWT: ${err.message}`, { body: token });
  }
}

/** OIDC Core 3.1.3.6 / 3.2.2.9: base64url of the left half of SHA-256(access_token). */
function computeAtHash(accessToken) {
  const digest = createHash('sha256').update(accessToken, 'ascii').digest();
  return digest.subarray(0, digest.length / 2).toString('base64url');
}

function expectAtHash(idClaims, accessToken) {
  const expected = computeAtHash(accessToken);
  if (idClaims.at_hash !== expected) {
    throw new CheckFailure(`ID token at_hash ${safeJson(idClaims.at_hash)} does not match the access token (expected ${expected})`);
  }
}

function expectClaim(claims, name, expected, what) {
  if (claims[name] !== expected) {
    throw new CheckFailure(`${what} claim ${name} is ${safeJson(claims[name])}, expected ${safeJson(expected)}`, {
      body: claims,
    });
  }
}

function scopeSet(scope) {
  return new Set(String(scope ?? '').split(' ').filter(Boolean));
}

/** Expects the token endpoint to answer an OAuth error (RFC 6749 5.2). */
async function expectTokenError(promise, expectedError) {
  let result;
  try {
    result = await promise;
  } catch (err) {
    if (err instanceof client.ResponseBodyError) {
      if (err.error !== expectedError) {
        throw new CheckFailure(`expected error "${expectedError}", got "${err.error}"`, {
          status: err.status,
          body: err.cause,
        });
      }
      if (err.status !== 400) {
        throw new CheckFailure(`expected HTTP 400 for ${expectedError}`, { status: err.status, body: err.cause });
      }
      return `HTTP ${err.status} ${err.error}`;
    }
    throw new CheckFailure(`expected an OAuth "${expectedError}" error response, the request failed otherwise`, {
      cause: err,
    });
  }
  throw new CheckFailure(`expected error "${expectedError}" but the token endpoint answered success`, {
    body: Object.keys(result ?? {}).join(', '),
  });
}

/** Expects userinfo to refuse the access token: 401 + WWW-Authenticate error="invalid_token". */
async function expectUserInfoRefused(config, accessToken) {
  let result;
  try {
    result = await client.fetchUserInfo(config, accessToken, client.skipSubjectCheck);
  } catch (err) {
    if (err instanceof client.WWWAuthenticateChallengeError) {
      const header = err.response?.headers.get('www-authenticate');
      if (err.status !== 401) {
        throw new CheckFailure('userinfo refused the token with an unexpected status (expected 401)', {
          status: err.status,
          wwwAuthenticate: header,
        });
      }
      const invalidToken = err.cause.some(
        (c) => c.scheme === 'bearer' && c.parameters?.error === 'invalid_token',
      );
      if (!invalidToken) {
        throw new CheckFailure('userinfo 401 challenge lacks error="invalid_token"', {
          status: err.status,
          wwwAuthenticate: header,
        });
      }
      return `HTTP 401, WWW-Authenticate: ${header}`;
    }
    throw new CheckFailure('userinfo did not answer 401 with a WWW-Authenticate invalid_token challenge', {
      cause: err,
    });
  }
  throw new CheckFailure('userinfo accepted a token that should have been revoked', { status: 200, body: result });
}

async function introspect(config, token) {
  const result = await client.tokenIntrospection(config, token);
  if (typeof result.active !== 'boolean') {
    throw new CheckFailure('introspection response has no boolean "active"', { body: result });
  }
  return result;
}

// ---------------------------------------------------------------------------
// Browser side: cookies, redirects, the hosted sign-in form
// ---------------------------------------------------------------------------

/** A minimal user agent: cookie jar per host, manual redirects, never visits the redirect_uri. */
class Browser {
  constructor(redirectUri) {
    this.redirectUri = redirectUri;
    this.jar = new Map(); // hostname -> Map(name -> value)
  }

  isRedirectUri(url) {
    return url.origin === this.redirectUri.origin && url.pathname === this.redirectUri.pathname;
  }

  cookieHeader(url) {
    const cookies = this.jar.get(url.hostname);
    if (!cookies || cookies.size === 0) return undefined;
    return [...cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }

  storeCookies(url, headers) {
    for (const setCookie of headers.getSetCookie()) {
      const pair = setCookie.split(';', 1)[0];
      const eq = pair.indexOf('=');
      if (eq <= 0) continue;
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      if (!this.jar.has(url.hostname)) this.jar.set(url.hostname, new Map());
      this.jar.get(url.hostname).set(name, value);
    }
  }

  /** One HTTP exchange without following redirects; returns status, headers, text body. */
  async request(url, { method = 'GET', form, referer } = {}) {
    url = new URL(url);
    if (this.isRedirectUri(url)) {
      throw new CheckFailure(`refusing to fetch the redirect_uri ${url.href}`);
    }
    const headers = new Headers({
      accept: 'text/html,application/xhtml+xml;q=0.9,*/*;q=0.8',
      'user-agent': 'gatehouse-e2e-relying-party',
    });
    const cookie = this.cookieHeader(url);
    if (cookie) headers.set('cookie', cookie);
    let body;
    if (form) {
      headers.set('content-type', 'application/x-www-form-urlencoded');
      body = form.toString();
    }
    if (referer) {
      headers.set('referer', referer.href);
      if (method !== 'GET') headers.set('origin', referer.origin);
    }
    let response;
    try {
      response = await fetch(url, {
        method,
        headers,
        body,
        redirect: 'manual',
        signal: AbortSignal.timeout(HTTP_TIMEOUT_MS),
      });
    } catch (err) {
      throw new CheckFailure(`${method} ${url.href} failed`, { cause: err });
    }
    this.storeCookies(url, response.headers);
    const text = await response.text();
    return {
      method,
      url,
      status: response.status,
      headers: response.headers,
      location: response.headers.get('location'),
      body: text,
    };
  }

  /**
   * Follows redirects (always with GET) from `response` until a page that is
   * not a redirect, or until the Location points at the redirect_uri.
   * Returns { callback: URL } or { page: response }.
   */
  async followRedirects(response) {
    let current = response;
    for (let hops = 0; ; hops += 1) {
      if (![301, 302, 303, 307, 308].includes(current.status)) return { page: current };
      if (!current.location) {
        throw new CheckFailure('redirect without a Location header', responseDetails(current));
      }
      const next = new URL(current.location, current.url);
      if (this.isRedirectUri(next)) return { callback: next, from: current };
      if (hops >= MAX_REDIRECTS) {
        throw new CheckFailure(`more than ${MAX_REDIRECTS} redirects`, responseDetails(current));
      }
      current = await this.request(next, { referer: current.url });
    }
  }
}

function responseDetails(res) {
  return { method: res.method, url: res.url.href, status: res.status, location: res.location ?? undefined, body: res.body };
}

const ENTITIES = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0' };

function decodeEntities(text) {
  return text.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (whole, ref) => {
    if (ref[0] === '#') {
      const code = ref[1] === 'x' || ref[1] === 'X' ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
      return Number.isFinite(code) ? String.fromCodePoint(code) : whole;
    }
    return ENTITIES[ref.toLowerCase()] ?? whole;
  });
}

function parseAttributes(source) {
  const attributes = {};
  const re = /([^\s"'<>\/=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?/g;
  for (const m of source.matchAll(re)) {
    const name = m[1].toLowerCase();
    if (name in attributes) continue;
    attributes[name] = decodeEntities(m[2] ?? m[3] ?? m[4] ?? '');
  }
  return attributes;
}

const TAG_ATTRS = `((?:[^>"']|"[^"]*"|'[^']*')*)`;

/** Finds the sign-in form: method, resolved action, hidden inputs, and which fields exist. */
function parseSignInForm(html, pageUrl) {
  const formRe = new RegExp(`<form\\b${TAG_ATTRS}>([\\s\\S]*?)</form\\s*>`, 'gi');
  const inputRe = new RegExp(`<input\\b${TAG_ATTRS}>`, 'gi');
  for (const formMatch of html.matchAll(formRe)) {
    const formAttrs = parseAttributes(formMatch[1]);
    const inputs = [...formMatch[2].matchAll(inputRe)].map((m) => parseAttributes(m[1]));
    const names = new Set(inputs.map((i) => i.name).filter(Boolean));
    if (!names.has('password')) continue;
    return {
      method: (formAttrs.method || 'get').toLowerCase(),
      action: new URL(formAttrs.action ?? '', pageUrl),
      hidden: inputs
        .filter((i) => (i.type ?? '').toLowerCase() === 'hidden' && i.name)
        .map((i) => [i.name, i.value ?? '']),
      names,
    };
  }
  return undefined;
}

/** Text of the first non-empty element carrying the error class, if any. */
function findErrorMessage(html) {
  const openTag = new RegExp(`<([a-z][a-z0-9]*)\\b${TAG_ATTRS}>`, 'gi');
  for (const m of html.matchAll(openTag)) {
    const classes = (parseAttributes(m[2]).class ?? '').split(/\s+/);
    if (!classes.includes(ERROR_CLASS)) continue;
    const start = m.index + m[0].length;
    const end = html.toLowerCase().indexOf(`</${m[1].toLowerCase()}`, start);
    const inner = html.slice(start, end === -1 ? undefined : end);
    const text = decodeEntities(inner.replace(/<[^>]*>/g, ' ')).replace(/\s+/g, ' ').trim();
    if (text) return text;
  }
  return undefined;
}

/** GET the authorization URL in a fresh browser and expect the hosted sign-in page. */
async function openSignInPage(browser, authorizationUrl) {
  const first = await browser.request(authorizationUrl);
  const outcome = await browser.followRedirects(first);
  if (outcome.callback) {
    throw new CheckFailure(
      'authorization request went straight back to the redirect_uri without a sign-in page',
      { location: outcome.callback.href, ...errorFromCallback(outcome.callback) },
    );
  }
  const page = outcome.page;
  if (page.status !== 200) {
    throw new CheckFailure('expected the hosted sign-in page (HTTP 200)', responseDetails(page));
  }
  const form = parseSignInForm(page.body, page.url);
  if (!form) {
    throw new CheckFailure('no <form> with a password input on the sign-in page', responseDetails(page));
  }
  if (form.method !== 'post') {
    throw new CheckFailure(`sign-in form method is "${form.method}", expected post`, responseDetails(page));
  }
  for (const required of ['username', 'password']) {
    if (!form.names.has(required)) {
      throw new CheckFailure(`sign-in form has no "${required}" input`, responseDetails(page));
    }
  }
  if (!form.hidden.some(([name, value]) => name === '_csrf' && value)) {
    throw new CheckFailure('sign-in form has no non-empty hidden _csrf input', responseDetails(page));
  }
  return { page, form };
}

/** POST the sign-in form (all hidden inputs + username + password). */
async function submitSignIn(browser, { page, form }, username, password) {
  const fields = new URLSearchParams(form.hidden);
  fields.set('username', username);
  fields.set('password', password);
  return browser.request(form.action, { method: 'POST', form: fields, referer: page.url });
}

function errorFromCallback(callbackUrl) {
  const params = new URLSearchParams(callbackUrl.search);
  for (const [k, v] of new URLSearchParams(callbackUrl.hash.slice(1))) params.append(k, v);
  if (!params.has('error')) return {};
  return { body: `error=${params.get('error')} error_description=${params.get('error_description') ?? ''}` };
}

/** Full interactive sign-in in a fresh cookie jar; returns the callback URL (with code or fragment). */
async function signInToCallback(env, authorizationUrl) {
  const browser = new Browser(env.redirectUri);
  const signIn = await openSignInPage(browser, authorizationUrl);
  const posted = await submitSignIn(browser, signIn, env.username, env.password);
  const outcome = await browser.followRedirects(posted);
  if (!outcome.callback) {
    const message = findErrorMessage(outcome.page.body);
    throw new CheckFailure(
      `sign-in did not redirect to the redirect_uri${message ? `; page says: ${message}` : ''}`,
      responseDetails(outcome.page),
    );
  }
  const error = errorFromCallback(outcome.callback);
  if (error.body) {
    throw new CheckFailure('authorization response carries an error', { location: outcome.callback.href, ...error });
  }
  return { callback: outcome.callback, signInPage: signIn.page.url };
}

async function startCodeFlow(env, config, scope) {
  const codeVerifier = client.randomPKCECodeVerifier();
  const checks = {
    pkceCodeVerifier: codeVerifier,
    expectedState: client.randomState(),
    expectedNonce: client.randomNonce(),
    idTokenExpected: true,
  };
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: env.redirectUri.href,
    response_type: 'code',
    scope,
    state: checks.expectedState,
    nonce: checks.expectedNonce,
    code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: 'S256',
  });
  return { url, checks };
}

function expectCodeCallback(callback) {
  if (!callback.searchParams.get('code')) {
    throw new CheckFailure('callback has no code query parameter', { location: callback.href });
  }
}

// ---------------------------------------------------------------------------
// Scenarios
// ---------------------------------------------------------------------------

async function scenarioDiscovery(ctx) {
  await check('discovery: openid-client loads the issuer metadata for both clients', async () => {
    ctx.publicConfig = await discoverClient(ctx.env, ctx.env.publicClientId, client.None());
    ctx.confidentialConfig = await discoverClient(
      ctx.env,
      ctx.env.confidentialClientId,
      client.ClientSecretBasic(ctx.env.confidentialClientSecret),
    );
    ctx.metadata = ctx.publicConfig.serverMetadata();
    return `issuer ${ctx.metadata.issuer}`;
  });
  await check('discovery: advertises authorization, token, userinfo, jwks, revocation, introspection, end_session endpoints, S256 and RS256', async () => {
    checkDiscoveryMetadata(ctx.metadata);
    ctx.jwks = jose.createRemoteJWKSet(new URL(ctx.metadata.jwks_uri), { timeoutDuration: HTTP_TIMEOUT_MS });
  });
}

async function scenarioPublicCodeFlow(ctx) {
  const { env, publicConfig, confidentialConfig } = ctx;
  const scope = 'openid email profile';
  let flow;
  let callback;
  let tokens;
  let idClaims;
  let refreshed;

  await check('public client: hosted sign-in redirects to the redirect_uri with a code', async () => {
    flow = await startCodeFlow(env, publicConfig, scope);
    const result = await signInToCallback(env, flow.url);
    callback = result.callback;
    expectCodeCallback(callback);
    return `sign-in page ${result.signInPage.pathname}`;
  });

  await check('public client: code exchanged with PKCE S256; ID token, nonce and state validated', async () => {
    tokens = await client.authorizationCodeGrant(publicConfig, callback, flow.checks);
    if (!tokens.refresh_token) throw new CheckFailure('code grant returned no refresh_token', { body: Object.keys(tokens) });
    if (tokens.token_type !== 'bearer') throw new CheckFailure(`token_type is ${tokens.token_type}, expected Bearer`);
    idClaims = tokens.claims();
    if (!idClaims) throw new CheckFailure('code grant returned no id_token');
  });

  await check('public client: ID token claims sub, cognito:username, token_use=id, auth_time, at_hash', async () => {
    if (typeof idClaims.sub !== 'string' || !idClaims.sub) throw new CheckFailure('ID token has no sub', { body: idClaims });
    expectClaim(idClaims, 'cognito:username', env.username, 'ID token');
    expectClaim(idClaims, 'token_use', 'id', 'ID token');
    if (typeof idClaims.auth_time !== 'number') throw new CheckFailure('ID token has no numeric auth_time', { body: idClaims });
    expectAtHash(idClaims, tokens.access_token);
    return `sub=${idClaims.sub}`;
  });

  await check('public client: access token is a JWT with token_use=access, client_id, username and the granted scope', async () => {
    const at = decodeJwtPayload(tokens.access_token, 'access token');
    expectClaim(at, 'token_use', 'access', 'access token');
    expectClaim(at, 'client_id', env.publicClientId, 'access token');
    expectClaim(at, 'username', env.username, 'access token');
    const granted = scopeSet(at.scope);
    const missing = [...scopeSet(scope)].filter((s) => !granted.has(s));
    if (missing.length) throw new CheckFailure(`access token scope lacks ${missing.join(' ')}`, { body: at });
  });

  await check('public client: userinfo returns the ID token subject', async () => {
    const info = await client.fetchUserInfo(publicConfig, tokens.access_token, idClaims.sub);
    return `claims: ${Object.keys(info).join(',')}`;
  });

  await check('public client: refresh_token grant returns an ID token with the same sub and auth_time', async () => {
    refreshed = await client.refreshTokenGrant(publicConfig, tokens.refresh_token);
    const claims = refreshed.claims();
    if (!claims) throw new CheckFailure('refresh response has no id_token', { body: Object.keys(refreshed) });
    expectClaim(claims, 'sub', idClaims.sub, 'refreshed ID token');
    expectClaim(claims, 'auth_time', idClaims.auth_time, 'refreshed ID token');
    expectClaim(claims, 'token_use', 'id', 'refreshed ID token');
    if (!refreshed.access_token) throw new CheckFailure('refresh response has no access_token');
  });

  await check('public client: refreshed access token accepted by userinfo', async () => {
    await client.fetchUserInfo(publicConfig, refreshed.access_token, idClaims.sub);
  });

  let activeBefore;
  await check('introspection (confidential client) answers for the refreshed access token before revocation', async () => {
    activeBefore = (await introspect(confidentialConfig, refreshed.access_token)).active;
    return `active=${activeBefore}`;
  });

  await check('public client: refresh token revoked at revocation_endpoint (RFC 7009)', async () => {
    await client.tokenRevocation(publicConfig, tokens.refresh_token);
  });

  await check('public client: userinfo refuses the refreshed access token after revocation (401 invalid_token)', async () =>
    expectUserInfoRefused(publicConfig, refreshed.access_token),
  );

  await check('public client: userinfo refuses the original access token after revocation (401 invalid_token)', async () =>
    expectUserInfoRefused(publicConfig, tokens.access_token),
  );

  await check('introspection reports the refreshed access token inactive after revocation', async () => {
    const result = await introspect(confidentialConfig, refreshed.access_token);
    if (result.active !== false) {
      throw new CheckFailure('introspection still reports the revoked family active', { body: result });
    }
    return activeBefore ? 'was active before revocation' : 'note: was already inactive for this client before revocation';
  });

  await check('public client: revoked refresh token refused (invalid_grant)', async () =>
    expectTokenError(client.refreshTokenGrant(publicConfig, tokens.refresh_token), 'invalid_grant'),
  );
}

async function scenarioCodeReplay(ctx) {
  const { env, publicConfig } = ctx;
  let flow;
  let callback;
  await check('replay: fresh sign-in yields a code that is redeemed once', async () => {
    flow = await startCodeFlow(env, publicConfig, 'openid');
    callback = (await signInToCallback(env, flow.url)).callback;
    expectCodeCallback(callback);
    await client.authorizationCodeGrant(publicConfig, callback, flow.checks);
  });
  await check('replay: the same code redeemed a second time fails with invalid_grant', async () =>
    expectTokenError(client.authorizationCodeGrant(publicConfig, callback, flow.checks), 'invalid_grant'),
  );
}

async function scenarioWrongPassword(ctx) {
  const { env, publicConfig } = ctx;
  await check('wrong password: sign-in page shown again (200) with errorMessage-customizable and no redirect', async () => {
    const flow = await startCodeFlow(env, publicConfig, 'openid');
    const browser = new Browser(env.redirectUri);
    const signIn = await openSignInPage(browser, flow.url);
    const wrong = `${env.password}-wrong-${client.randomState().slice(0, 8)}`;
    const res = await submitSignIn(browser, signIn, env.username, wrong);
    if (res.status !== 200) {
      throw new CheckFailure('wrong password did not answer 200', responseDetails(res));
    }
    if (res.location) {
      throw new CheckFailure('wrong password answer carries a Location header', responseDetails(res));
    }
    const message = findErrorMessage(res.body);
    if (!message) {
      throw new CheckFailure(`no non-empty element with class ${ERROR_CLASS}`, responseDetails(res));
    }
    if (!parseSignInForm(res.body, res.url)) {
      throw new CheckFailure('the error page does not show the sign-in form again', responseDetails(res));
    }
    return `message: ${message}`;
  });
}

// OIDC Core §11: relying parties such as oidc-agent always ask for offline_access.
async function scenarioOfflineAccess(ctx) {
  const { env, publicConfig, confidentialConfig, metadata } = ctx;
  let tokens;
  await check('offline_access: discovery lists it in scopes_supported', async () => {
    if (!metadata.scopes_supported?.includes('offline_access')) {
      throw new CheckFailure('scopes_supported lacks offline_access', { body: metadata.scopes_supported });
    }
  });
  await check('offline_access: a code flow asking for it is granted a refresh token and the scope', async () => {
    const flow = await startCodeFlow(env, publicConfig, 'openid offline_access email');
    const { callback } = await signInToCallback(env, flow.url);
    expectCodeCallback(callback);
    tokens = await client.authorizationCodeGrant(publicConfig, callback, flow.checks);
    if (!tokens.refresh_token) throw new CheckFailure('no refresh_token', { body: Object.keys(tokens) });
    const granted = scopeSet(decodeJwtPayload(tokens.access_token, 'access token').scope);
    if (!granted.has('offline_access') || !granted.has('openid')) {
      throw new CheckFailure(`access token scope is ${[...granted].join(' ')}`);
    }
    return `scope=${[...granted].join(' ')}`;
  });
  await check('offline_access: the refresh token works and keeps the scope', async () => {
    const refreshed = await client.refreshTokenGrant(publicConfig, tokens.refresh_token);
    const granted = scopeSet(decodeJwtPayload(refreshed.access_token, 'access token').scope);
    if (!granted.has('offline_access')) throw new CheckFailure(`refreshed scope is ${[...granted].join(' ')}`);
  });
  await check('offline_access: the implicit flow (no refresh token) drops it instead of refusing', async () => {
    const url = client.buildAuthorizationUrl(confidentialConfig, {
      redirect_uri: env.redirectUri.href,
      response_type: 'token',
      scope: 'openid offline_access',
      state: client.randomState(),
      nonce: client.randomNonce(),
    });
    const { callback } = await signInToCallback(env, url);
    const fragment = new URLSearchParams(callback.hash.slice(1));
    const at = fragment.get('access_token');
    if (!at) throw new CheckFailure('no access_token in the fragment', { location: callback.href });
    const granted = scopeSet(decodeJwtPayload(at, 'access token').scope);
    if (granted.has('offline_access')) throw new CheckFailure('implicit grant lists offline_access');
    return `scope=${[...granted].join(' ')}`;
  });
}

async function scenarioImplicit(ctx) {
  const { env, confidentialConfig, metadata } = ctx;
  const state = client.randomState();
  const nonce = client.randomNonce();
  let fragment;
  let idClaims;

  await check('implicit (confidential client): sign-in redirects with tokens in the fragment', async () => {
    const url = client.buildAuthorizationUrl(confidentialConfig, {
      redirect_uri: env.redirectUri.href,
      response_type: 'token',
      scope: 'openid email',
      state,
      nonce,
    });
    const { callback } = await signInToCallback(env, url);
    fragment = new URLSearchParams(callback.hash.slice(1));
    const problems = [];
    if (!fragment.get('access_token')) problems.push('no access_token');
    if (!fragment.get('id_token')) problems.push('no id_token');
    if ((fragment.get('token_type') ?? '').toLowerCase() !== 'bearer') problems.push(`token_type=${fragment.get('token_type')}`);
    if (!/^[1-9][0-9]*$/.test(fragment.get('expires_in') ?? '')) problems.push(`expires_in=${fragment.get('expires_in')}`);
    if (fragment.get('state') !== state) problems.push(`state=${fragment.get('state')} (sent ${state})`);
    if (fragment.has('refresh_token')) problems.push('refresh_token present (forbidden for implicit)');
    if (callback.searchParams.has('code')) problems.push('code in the query');
    if (problems.length) {
      throw new CheckFailure(`implicit response fragment: ${problems.join('; ')}`, { location: callback.href });
    }
  });

  await check('implicit: ID token verified with jose against the JWKS (RS256, issuer, audience, nonce, token_use)', async () => {
    let verified;
    try {
      verified = await jose.jwtVerify(fragment.get('id_token'), ctx.jwks, {
        issuer: metadata.issuer,
        audience: env.confidentialClientId,
        algorithms: ['RS256'],
        requiredClaims: ['sub', 'iat', 'exp', 'nonce'],
      });
    } catch (err) {
      throw new CheckFailure('ID token failed verification', { cause: err, body: safeDecode(fragment.get('id_token')) });
    }
    idClaims = verified.payload;
    expectClaim(idClaims, 'nonce', nonce, 'ID token');
    expectClaim(idClaims, 'token_use', 'id', 'ID token');
    expectClaim(idClaims, 'cognito:username', env.username, 'ID token');
  });

  await check('implicit: at_hash matches the access token', async () => {
    expectAtHash(idClaims, fragment.get('access_token'));
  });

  await check('implicit: access token is a JWT with token_use=access and the client_id', async () => {
    const at = decodeJwtPayload(fragment.get('access_token'), 'access token');
    expectClaim(at, 'token_use', 'access', 'access token');
    expectClaim(at, 'client_id', env.confidentialClientId, 'access token');
  });

  await check('implicit: userinfo accepts the access token and returns the ID token subject', async () => {
    const info = await client.fetchUserInfo(confidentialConfig, fragment.get('access_token'), idClaims.sub);
    return `claims: ${Object.keys(info).join(',')}`;
  });
}

function safeDecode(token) {
  try {
    return { header: jose.decodeProtectedHeader(token), payload: jose.decodeJwt(token) };
  } catch {
    return token;
  }
}

async function scenarioClientCredentials(ctx) {
  const { env, confidentialConfig, metadata } = ctx;
  let tokens;
  await check(`client_credentials: access token for scope ${env.customScope}, no refresh or ID token`, async () => {
    tokens = await client.clientCredentialsGrant(confidentialConfig, { scope: env.customScope });
    if (!tokens.access_token) throw new CheckFailure('no access_token', { body: Object.keys(tokens) });
    if (tokens.refresh_token) throw new CheckFailure('client_credentials returned a refresh_token');
    if (tokens.id_token) throw new CheckFailure('client_credentials returned an id_token');
    if (tokens.token_type !== 'bearer') throw new CheckFailure(`token_type is ${tokens.token_type}, expected Bearer`);
    if (!(tokens.expires_in > 0)) throw new CheckFailure(`expires_in is ${tokens.expires_in}`);
  });

  await check('client_credentials: access token JWT signed by the pool with token_use=access, client_id and the custom scope', async () => {
    let payload;
    try {
      ({ payload } = await jose.jwtVerify(tokens.access_token, ctx.jwks, {
        issuer: metadata.issuer,
        algorithms: ['RS256'],
      }));
    } catch (err) {
      throw new CheckFailure('access token failed verification against the JWKS', {
        cause: err,
        body: safeDecode(tokens.access_token),
      });
    }
    expectClaim(payload, 'token_use', 'access', 'access token');
    expectClaim(payload, 'client_id', env.confidentialClientId, 'access token');
    const granted = [...scopeSet(payload.scope)];
    if (granted.length !== 1 || granted[0] !== env.customScope) {
      throw new CheckFailure(`access token scope is ${safeJson(payload.scope)}, expected ${env.customScope}`, { body: payload });
    }
  });

  await check('client_credentials: introspection reports the token active for the client', async () => {
    const result = await introspect(confidentialConfig, tokens.access_token);
    if (result.active !== true) throw new CheckFailure('introspection says inactive', { body: result });
    expectClaim(result, 'client_id', env.confidentialClientId, 'introspection');
    return `scope=${result.scope ?? '(none)'}`;
  });
}

// ---------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------

async function main() {
  const timer = setTimeout(() => {
    finish(1, failureReport(currentCheck, [`overall timeout of ${OVERALL_TIMEOUT_MS / 1000} s exceeded while running this check`]));
  }, OVERALL_TIMEOUT_MS);
  timer.unref();

  const ctx = {};
  await check('environment: required variables present', async () => {
    ctx.env = loadEnvironment();
    return `issuer ${ctx.env.issuer.href}${ctx.env.insecure ? ', plain http allowed' : ''}`;
  });

  await scenarioDiscovery(ctx);
  await scenarioPublicCodeFlow(ctx);
  await scenarioCodeReplay(ctx);
  await scenarioWrongPassword(ctx);
  await scenarioImplicit(ctx);
  await scenarioOfflineAccess(ctx);
  await scenarioClientCredentials(ctx);

  clearTimeout(timer);
  finish(0, `relying_party: ${passed} passed, 0 failed\n`);
}

process.on('unhandledRejection', async (err) => {
  const lines = await describeError(err);
  finish(1, failureReport(currentCheck, ['unhandled rejection', ...lines]));
});

main().catch(async (err) => {
  const lines = await describeError(err);
  finish(1, failureReport(currentCheck, lines));
});
