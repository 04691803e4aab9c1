#!/usr/bin/env node
// A real, certified OpenID Provider (the `oidc-provider` package) for Gatehouse's
// federation tests, on plain HTTP at 127.0.0.1 with the issuer http://localhost:<port>.
//
//   import { startUpstream } from './upstream.mjs';
//   const up = await startUpstream({ port: 0, clientId, clientSecret, redirectUris, accounts });
//   ... up.issuer, up.log ...
//   await up.close();
//
// CLI: node upstream.mjs --port N --client-id X --client-secret Y --redirect-uri URI
//      [--redirect-uri URI2 ...] [--accounts FILE.json] [--full-id-token]
//   prints `READY <issuer>` once listening and runs until killed (SIGINT/SIGTERM).
//
// What it offers (see README.md): one confidential client, response type `code`, PKCE S256
// accepted (required only for public clients), the built-in development login and consent
// pages (`devInteractions`: any password is accepted for a known login), scopes
// `openid email profile`, RS256 ID tokens signed with a key generated at start, userinfo at
// `/me` (GET or POST with a Bearer token).

import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

// oidc-provider prints a console warning on any runtime older than Node 22 LTS ("Unsupported
// runtime"), and two more for its development-only adapter and devInteractions. It runs fine on
// Node 20; the warnings are not errors.
import Provider, { errors as oidcErrors } from 'oidc-provider';

import { parseForms, parseLinks } from './browser.mjs';

const CLAIMS_BY_SCOPE = {
  openid: ['sub'],
  email: ['email', 'email_verified'],
  profile: ['given_name', 'family_name', 'name'],
};

/** The two demo accounts the e2e test uses; also the CLI's default. */
export const DEMO_ACCOUNTS = {
  ann: {
    sub: 'ann-0001',
    email: 'ann@example.org',
    email_verified: true,
    given_name: 'Ann',
    family_name: 'Upstream',
    name: 'Ann Upstream',
  },
  bob: {
    sub: 'bob-0002',
    email: 'bob@example.org',
    email_verified: false,
    given_name: 'Bob',
    name: 'Bob',
  },
};

const SECRET_METHODS = ['client_secret_basic', 'client_secret_post'];

function rsaSigningJwk() {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { ...privateKey.export({ format: 'jwk' }), kid: `up-${randomUUID().slice(0, 8)}`, alg: 'RS256', use: 'sig' };
}

function listen(server, port) {
  return new Promise((resolve, reject) => {
    const onError = (err) => reject(err);
    server.once('error', onError);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', onError);
      resolve(server.address().port);
    });
  });
}

function basicAuthorization(clientId, clientSecret) {
  // RFC 6749 §2.3.1: each part is form-urlencoded before the base64 of "id:secret".
  const enc = (s) => encodeURIComponent(s).replace(/%20/g, '+');
  return `Basic ${Buffer.from(`${enc(clientId)}:${enc(clientSecret)}`).toString('base64')}`;
}

async function readRequestBody(req, limit = 56 * 1024) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > limit) throw new Error('request entity too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Starts the upstream OpenID Provider.
 *
 * @param {object} options
 * @param {number} [options.port=0]            0 picks a free port; the issuer uses the real one.
 * @param {string} options.clientId
 * @param {string} options.clientSecret
 * @param {string|string[]} options.redirectUris
 * @param {Record<string, object>} [options.accounts]  login (accountId) → claims; `sub` defaults to the login.
 * @param {string[]} [options.tokenAuthMethods]  client authentication accepted at /token, default
 *   both `client_secret_basic` and `client_secret_post` (see README.md: oidc-provider itself takes
 *   exactly one method per client, so `post` is accepted by translating it to `basic`).
 * @param {boolean} [options.conformIdTokenClaims=true]  oidc-provider's default: in the code flow
 *   the ID token carries `sub` (and protocol claims) only, the profile/email claims come from
 *   userinfo. `false` puts them in the ID token too.
 * @param {boolean} [options.debug]  log every request to stderr.
 * @returns {Promise<{ issuer: string, port: number, provider: Provider, log: object[], close: () => Promise<void> }>}
 */
export async function startUpstream({
  port = 0,
  clientId,
  clientSecret,
  redirectUris,
  accounts = DEMO_ACCOUNTS,
  tokenAuthMethods = SECRET_METHODS,
  conformIdTokenClaims = true,
  debug = process.env.UPSTREAM_DEBUG === '1',
} = {}) {
  if (!clientId || !clientSecret) throw new Error('startUpstream: clientId and clientSecret are required');
  const redirects = [redirectUris].flat().filter(Boolean);
  if (redirects.length === 0) throw new Error('startUpstream: at least one redirect URI is required');
  const methods = [tokenAuthMethods].flat();
  if (methods.length === 0 || methods.some((m) => !SECRET_METHODS.includes(m))) {
    throw new Error(`startUpstream: tokenAuthMethods must be a subset of ${SECRET_METHODS.join(', ')}`);
  }

  const server = http.createServer();
  const sockets = new Set();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  const actualPort = await listen(server, port);
  const issuer = `http://localhost:${actualPort}`;

  // oidc-provider's `sub` is the session's accountId, and the dev login form sends what was typed
  // in `login` as that accountId. Accounts are therefore kept by `sub`, and a login name typed
  // on the form is translated to its `sub` before oidc-provider reads the form (see below).
  const bySub = new Map();
  const loginToSub = new Map();
  for (const [login, claims] of Object.entries(accounts)) {
    const sub = claims.sub ?? login;
    bySub.set(sub, { ...claims, sub });
    loginToSub.set(login, sub);
  }
  const findAccount = async (_ctx, id) => {
    const claims = bySub.get(id);
    if (!claims) return undefined;
    return {
      accountId: id,
      async claims() {
        return { ...claims };
      },
    };
  };

  const registeredMethod = methods.includes('client_secret_basic') ? 'client_secret_basic' : methods[0];
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: clientId,
        client_secret: clientSecret,
        redirect_uris: redirects,
        response_types: ['code'],
        grant_types: ['authorization_code'],
        token_endpoint_auth_method: registeredMethod,
        id_token_signed_response_alg: 'RS256',
      },
    ],
    findAccount,
    claims: CLAIMS_BY_SCOPE,
    scopes: ['openid', 'email', 'profile'],
    responseTypes: ['code'],
    // What discovery advertises in token_endpoint_auth_methods_supported.
    clientAuthMethods: methods,
    conformIdTokenClaims,
    // PKCE (S256 only) is accepted from anyone and required only from public clients.
    pkce: { required: (_ctx, client) => client.clientAuthMethod === 'none' },
    features: {
      devInteractions: { enabled: true },
    },
    // Only the cookie keys are set here. oidc-provider marks its cookies `Secure` only when the
    // request itself is secure (ctx.secure, i.e. https, or X-Forwarded-Proto with `proxy`), so
    // over plain http they are plain `HttpOnly; SameSite=Lax` cookies and no `proxy` is needed.
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    jwks: { keys: [rsaSigningJwk()] },
    ttl: {
      AccessToken: 3600,
      AuthorizationCode: 120,
      IdToken: 3600,
      Interaction: 3600,
      Session: 3600,
      Grant: 3600,
    },
    // The `iss` authorization response parameter (RFC 9207) is always sent by oidc-provider.
    async renderError(ctx, out) {
      const esc = (v) => String(v).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
      ctx.type = 'html';
      ctx.body = `<!DOCTYPE html><html><head><meta charset="utf-8"><title>upstream error</title></head><body><h1>upstream error</h1>${
        Object.entries(out).map(([k, v]) => `<p><b>${esc(k)}</b>: <span class="${esc(k)}">${esc(v)}</span></p>`).join('')}</body></html>`;
    },
  });

  /** One entry per request: { method, path, status, route, clientAuth?, params? } */
  const log = [];

  // Request log, and `client_secret_post` accepted for a client registered as
  // `client_secret_basic` (oidc-provider accepts only the one registered method).
  provider.use(async (ctx, next) => {
    const entry = { at: Date.now(), method: ctx.method, path: ctx.path };
    log.push(entry);
    if (ctx.path === '/token' && ctx.method === 'POST' && ctx.is('application/x-www-form-urlencoded')) {
      const raw = await readRequestBody(ctx.req);
      const form = new URLSearchParams(raw);
      const authorization = ctx.get('authorization');
      entry.grantType = form.get('grant_type') ?? undefined;
      entry.hasCodeVerifier = form.has('code_verifier');
      if (authorization) {
        entry.clientAuth = /^basic /i.test(authorization) ? 'client_secret_basic' : authorization.split(' ')[0];
      } else if (form.has('client_secret')) {
        entry.clientAuth = 'client_secret_post';
      } else if (form.has('client_assertion')) {
        entry.clientAuth = 'jwt';
      } else {
        entry.clientAuth = 'none';
      }
      if (
        entry.clientAuth === 'client_secret_post'
        && registeredMethod === 'client_secret_basic'
        && methods.includes('client_secret_post')
        && form.get('client_id') === clientId
      ) {
        const secret = form.get('client_secret');
        form.delete('client_secret');
        ctx.req.headers.authorization = basicAuthorization(clientId, secret);
      }
      // oidc-provider reads an already consumed body from req.body (and warns once about it).
      ctx.req.body = form.toString();
    } else if (/^\/interaction\/[^/]+$/.test(ctx.path) && ctx.method === 'POST' && ctx.is('application/x-www-form-urlencoded')) {
      const form = new URLSearchParams(await readRequestBody(ctx.req));
      if (form.get('prompt') === 'login') {
        const typed = form.get('login') ?? '';
        entry.login = typed;
        if (loginToSub.has(typed)) form.set('login', loginToSub.get(typed));
      }
      ctx.req.body = form.toString();
    } else if (ctx.path === '/auth' && ctx.method === 'GET') {
      entry.params = Object.fromEntries(new URLSearchParams(ctx.querystring));
    } else if (ctx.path === '/me') {
      entry.bearer = /^bearer /i.test(ctx.get('authorization'));
    }
    try {
      await next();
    } finally {
      entry.status = ctx.status;
      entry.route = ctx.oidc?.route;
      if (debug) {
        process.stderr.write(`[upstream] ${entry.method} ${entry.path} -> ${entry.status}${entry.clientAuth ? ` (${entry.clientAuth})` : ''}\n`);
      }
    }
  });

  for (const event of ['server_error', 'grant.error', 'authorization.error', 'userinfo.error', 'jwks.error', 'discovery.error']) {
    provider.on(event, (...args) => {
      const err = args.find((a) => a instanceof Error);
      const last = log[log.length - 1];
      if (last && err) last.error = `${event}: ${err.message}${err.error_description ? ` (${err.error_description})` : ''}`;
      if (debug && err) process.stderr.write(`[upstream] ${event}: ${err.message} ${err.error_description ?? ''}\n`);
    });
  }

  server.on('request', provider.callback());

  let closed;
  const close = () => {
    closed ??= new Promise((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections?.();
      for (const socket of sockets) socket.destroy();
    });
    return closed;
  };

  return { issuer, port: actualPort, provider, log, close, errors: oidcErrors };
}

/**
 * Drives oidc-provider's development interaction pages from `nav` (a Browser.navigate result)
 * on: the login page (a POST form with hidden `prompt=login` and the inputs `login` and
 * `password`; any password is accepted for a known login) and the consent page (a POST form
 * with hidden `prompt=consent` and a "Continue" button). Both pages also have a "[ Cancel ]"
 * link to GET /interaction/<uid>/abort, which ends the request with error=access_denied.
 *
 * @param {import('./browser.mjs').Browser} browser
 * @param {object} nav  { page, stoppedAt }
 * @param {object} o
 * @param {string} o.login  the account to sign in as
 * @param {string} [o.password]
 * @param {'accept'|'abort'} [o.consent='accept']  what to do on the consent page
 * @param {'submit'|'abort'} [o.onLogin='submit']  what to do on the login page
 * @returns {Promise<{ nav: object, steps: string[] }>} the navigation where the upstream let go
 *   (stopped at a stopAt URL, or a page that is not an interaction page), and what was done.
 */
export async function driveDevInteractions(browser, nav, { login, password = 'any-password', consent = 'accept', onLogin = 'submit', maxSteps = 8 } = {}) {
  const steps = [];
  for (let i = 0; i < maxSteps; i += 1) {
    if (nav.stoppedAt || !nav.page) return { nav, steps };
    const { page } = nav;
    if (page.status !== 200 || !/^\/interaction\/[^/]+$/.test(page.url.pathname)) return { nav, steps };
    const forms = parseForms(page);
    const promptOf = (f) => f.fields.find((x) => x.name === 'prompt')?.value;
    const loginForm = forms.find((f) => promptOf(f) === 'login');
    const consentForm = forms.find((f) => promptOf(f) === 'consent');
    const abortLink = parseLinks(page).find((l) => /\/interaction\/[^/]+\/abort$/.test(l.href.pathname));
    const abort = async (what) => {
      if (!abortLink) throw new Error(`no abort link on the upstream ${what} page`);
      steps.push(`abort(${what})`);
      return browser.follow(page, abortLink.href);
    };
    if (loginForm) {
      if (onLogin === 'abort') {
        nav = await abort('login');
      } else {
        if (!login) throw new Error('the upstream asks for a login and none was given');
        steps.push(`login(${login})`);
        nav = await browser.submit(page, loginForm, { login, password });
      }
    } else if (consentForm) {
      if (consent === 'abort') {
        nav = await abort('consent');
      } else {
        steps.push('consent');
        nav = await browser.submit(page, consentForm, {});
      }
    } else {
      return { nav, steps };
    }
  }
  throw new Error(`still on upstream interaction pages after ${maxSteps} steps: ${steps.join(', ')}`);
}

async function cli() {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '0' },
      'client-id': { type: 'string' },
      'client-secret': { type: 'string' },
      'redirect-uri': { type: 'string', multiple: true },
      accounts: { type: 'string' },
      'full-id-token': { type: 'boolean', default: false },
      debug: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  const usage = 'usage: node upstream.mjs --port N --client-id X --client-secret Y --redirect-uri URI [--redirect-uri URI ...] [--accounts FILE.json] [--full-id-token] [--debug]';
  if (values.help) {
    console.log(usage);
    return;
  }
  if (!values['client-id'] || !values['client-secret'] || !values['redirect-uri']?.length) {
    console.error(usage);
    process.exit(2);
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`bad --port ${values.port}`);
    process.exit(2);
  }
  const accounts = values.accounts ? JSON.parse(readFileSync(values.accounts, 'utf8')) : DEMO_ACCOUNTS;
  const upstream = await startUpstream({
    port,
    clientId: values['client-id'],
    clientSecret: values['client-secret'],
    redirectUris: values['redirect-uri'],
    accounts,
    conformIdTokenClaims: !values['full-id-token'],
    debug: values.debug || process.env.UPSTREAM_DEBUG === '1',
  });
  console.log(`READY ${upstream.issuer}`);
  const stop = async () => {
    await upstream.close();
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  cli().catch((err) => {
    console.error(err?.stack ?? err);
    process.exit(1);
  });
}
