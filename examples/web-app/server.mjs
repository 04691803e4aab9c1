// A server-side web app that signs users in with a Gatehouse user pool.
//
// Authorization code flow with PKCE (S256), state and nonce through openid-client;
// the ID token is also verified against the pool's JWKS with jose. Shows the ID
// token claims and the userInfo response, refreshes tokens, and signs out through
// the pool's /logout endpoint. Browser state lives in memory, keyed by a random
// cookie: restart the app and everybody is signed out.
//
// Configuration (environment; the defaults target the demo pool of `gatehouse serve`):
//   ISSUER         http://localhost:7070/local_DemoPool1
//   CLIENT_ID      democlient0000000000000000
//   CLIENT_SECRET  (unset: public client; set: client_secret_basic)
//   REDIRECT_URI   http://localhost:3000/callback   (a callback_url of the client)
//   LOGOUT_URI     http://localhost:3000/           (a logout_url of the client)
//   SCOPE          openid email profile
//   LISTEN_HOST    127.0.0.1
//   PORT           the port of REDIRECT_URI

import { createServer } from 'node:http';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import * as client from 'openid-client';
import * as jose from 'jose';

const env = process.env;
const ISSUER = new URL(env.ISSUER ?? 'http://localhost:7070/local_DemoPool1');
const CLIENT_ID = env.CLIENT_ID ?? 'democlient0000000000000000';
const CLIENT_SECRET = env.CLIENT_SECRET || undefined;
const REDIRECT_URI = new URL(env.REDIRECT_URI ?? 'http://localhost:3000/callback');
const LOGOUT_URI = env.LOGOUT_URI ?? 'http://localhost:3000/';
const SCOPE = env.SCOPE ?? 'openid email profile';
const HOST = env.LISTEN_HOST ?? '127.0.0.1';
const PORT = Number(env.PORT ?? (REDIRECT_URI.port || 3000));

const COOKIE = 'webapp_sid';
const SESSION_IDLE_MS = 8 * 60 * 60 * 1000;

// ---------------------------------------------------------------------------
// The pool: discovered once, on first use (the server may start after the app)
// ---------------------------------------------------------------------------

let discovered;

/** { config, jwks } for the pool; retried on the next request if discovery fails. */
function pool() {
  discovered ??= (async () => {
    const options = ISSUER.protocol === 'http:' ? { execute: [client.allowInsecureRequests] } : {};
    const auth = CLIENT_SECRET ? client.ClientSecretBasic(CLIENT_SECRET) : client.None();
    const config = await client.discovery(ISSUER, CLIENT_ID, undefined, auth, options);
    const jwks = jose.createRemoteJWKSet(new URL(config.serverMetadata().jwks_uri));
    return { config, jwks };
  })().catch((err) => {
    discovered = undefined;
    throw err;
  });
  return discovered;
}

/**
 * Verifies an ID token against the JWKS: RS256 signature, iss, aud, exp, and the
 * Cognito-style token_use=id; the nonce when the token comes from a sign-in.
 * (openid-client has already checked iss, aud, exp and nonce; this adds the signature.)
 */
async function verifyIdToken(idToken, expectedNonce) {
  const { config, jwks } = await pool();
  const { payload } = await jose.jwtVerify(idToken, jwks, {
    issuer: config.serverMetadata().issuer,
    audience: CLIENT_ID,
    algorithms: ['RS256'],
    requiredClaims: ['sub', 'exp', 'iat'],
  });
  if (payload.token_use !== 'id') throw new Error(`token_use is ${payload.token_use}, expected id`);
  if (expectedNonce !== undefined && payload.nonce !== expectedNonce) throw new Error('nonce mismatch');
  return payload;
}

// ---------------------------------------------------------------------------
// Browser sessions: an in-memory map keyed by a random HttpOnly cookie
// ---------------------------------------------------------------------------

const sessions = new Map();

function random() {
  return randomBytes(32).toString('base64url');
}

function readCookie(req, name) {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [key, ...rest] = part.trim().split('=');
    if (key === name) return rest.join('=');
  }
  return undefined;
}

/** The session of this browser, created (with a Set-Cookie) when it has none. */
function sessionOf(req, res) {
  const id = readCookie(req, COOKIE);
  let session = id && sessions.get(id);
  if (!session) {
    const fresh = random();
    session = { id: fresh, csrf: random() };
    sessions.set(fresh, session);
    const secure = REDIRECT_URI.protocol === 'https:' ? '; Secure' : '';
    res.setHeader('Set-Cookie', `${COOKIE}=${fresh}; Path=/; HttpOnly; SameSite=Lax${secure}`);
  }
  session.seen = Date.now();
  return session;
}

function endSession(session, res) {
  sessions.delete(session.id);
  res.setHeader('Set-Cookie', `${COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0`);
}

setInterval(() => {
  const cutoff = Date.now() - SESSION_IDLE_MS;
  for (const [id, session] of sessions) if (session.seen < cutoff) sessions.delete(id);
}, 60_000).unref();

// ---------------------------------------------------------------------------
// Pages
// ---------------------------------------------------------------------------

function escape(value) {
  return String(value).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function json(value) {
  const text = JSON.stringify(value, null, 2).replace(/[&<>]/g, (c) => `&#${c.charCodeAt(0)};`);
  return `<pre>${text}</pre>`;
}

function page(res, status, title, body) {
  res.writeHead(status, {
    'Content-Type': 'text/html; charset=utf-8',
    'Cache-Control': 'no-store',
    'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
  });
  res.end(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escape(title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:52rem;margin:2rem auto;padding:0 1rem}
pre{background:#f4f4f4;padding:.75rem;overflow:auto}form{display:inline}button{margin-right:.5rem}</style>
</head><body><h1>${escape(title)}</h1>
${body}
</body></html>`);
}

function redirect(res, location, status = 302) {
  res.writeHead(status, { Location: location, 'Cache-Control': 'no-store' });
  res.end();
}

function home(res, session) {
  const notice = session.notice ? `<p><strong>${escape(session.notice)}</strong></p>` : '';
  session.notice = undefined;
  if (!session.tokens) {
    return page(res, 200, 'Example web app', `${notice}
<p>Not signed in.</p>
<p><a href="/login">Sign in</a></p>
<p>Issuer: <code>${escape(ISSUER.href)}</code>, client: <code>${escape(CLIENT_ID)}</code></p>`);
  }
  const { tokens, idClaims, userInfo } = session;
  const csrf = `<input type="hidden" name="_csrf" value="${escape(session.csrf)}">`;
  const accessClaims = jose.decodeJwt(tokens.access_token);
  page(res, 200, `Signed in as ${idClaims['cognito:username'] ?? idClaims.sub}`, `${notice}
<form method="post" action="/refresh">${csrf}<button>Refresh</button></form>
<form method="post" action="/logout">${csrf}<button>Sign out</button></form>
<h2>ID token claims</h2>
<p>Verified against the pool's JWKS (RS256, iss, aud, exp, token_use${idClaims.nonce ? ', nonce' : ''}).</p>
${json(idClaims)}
<h2>userInfo</h2>
${json(userInfo)}
<h2>Access token claims</h2>
<p>Decoded only: the app sends this token to APIs, which verify it. It expires at
${escape(new Date(accessClaims.exp * 1000).toISOString())}.${tokens.refresh_token ? ' A refresh token is held.' : ''}</p>
${json(accessClaims)}`);
}

function problem(res, status, title, err) {
  const detail = err?.error
    ? `${err.error}${err.error_description ? `: ${err.error_description}` : ''}`
    : [err?.message ?? String(err), err?.cause?.message].filter(Boolean).join(': ');
  page(res, status, title, `<p>${escape(detail)}</p><p><a href="/">Back</a></p>`);
}

// ---------------------------------------------------------------------------
// Routes
// ---------------------------------------------------------------------------

/** GET /login: remember state, nonce and the PKCE verifier; send the browser to the pool. */
async function login(req, res, session) {
  const { config } = await pool();
  const pending = {
    codeVerifier: client.randomPKCECodeVerifier(),
    state: client.randomState(),
    nonce: client.randomNonce(),
  };
  session.pending = pending;
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT_URI.href,
    response_type: 'code',
    scope: SCOPE,
    state: pending.state,
    nonce: pending.nonce,
    code_challenge: await client.calculatePKCECodeChallenge(pending.codeVerifier),
    code_challenge_method: 'S256',
  });
  redirect(res, url.href);
}

/** GET /callback: check state, exchange the code (with the verifier), verify, fetch userInfo. */
async function callback(req, res, session) {
  const pending = session.pending;
  session.pending = undefined;
  if (!pending) return problem(res, 400, 'Sign-in failed', new Error('no sign-in in progress in this browser'));
  const { config } = await pool();
  // The URL the pool redirected to; its path must equal the registered callback.
  const current = new URL(req.url, REDIRECT_URI);
  let tokens;
  try {
    tokens = await client.authorizationCodeGrant(config, current, {
      pkceCodeVerifier: pending.codeVerifier,
      expectedState: pending.state,
      expectedNonce: pending.nonce,
      idTokenExpected: true,
    });
  } catch (err) {
    // error / error_description from the redirect, or a token endpoint error.
    return problem(res, 400, 'Sign-in failed', err);
  }
  const idClaims = await verifyIdToken(tokens.id_token, pending.nonce);
  const userInfo = await client.fetchUserInfo(config, tokens.access_token, idClaims.sub);
  Object.assign(session, { tokens: { ...tokens }, idClaims, userInfo });
  redirect(res, '/', 303);
}

/** POST /refresh: new access and ID tokens; without rotation the refresh token stays. */
async function refresh(req, res, session) {
  if (!session.tokens?.refresh_token) return redirect(res, '/', 303);
  const { config } = await pool();
  let tokens;
  try {
    tokens = await client.refreshTokenGrant(config, session.tokens.refresh_token);
  } catch (err) {
    if (err.error === 'invalid_grant') {
      // Expired, revoked or reused: the sign-in is over.
      Object.assign(session, { tokens: undefined, idClaims: undefined, userInfo: undefined });
      session.notice = `The session has ended (${err.error_description ?? err.error}). Sign in again.`;
      return redirect(res, '/', 303);
    }
    throw err;
  }
  const idClaims = await verifyIdToken(tokens.id_token);
  if (idClaims.sub !== session.idClaims.sub) throw new Error('the refreshed ID token names another user');
  const userInfo = await client.fetchUserInfo(config, tokens.access_token, idClaims.sub);
  session.tokens = { ...tokens, refresh_token: tokens.refresh_token ?? session.tokens.refresh_token };
  Object.assign(session, { idClaims, userInfo, notice: 'Tokens refreshed.' });
  redirect(res, '/', 303);
}

/** POST /logout: revoke the refresh token, forget the session, end the pool's session. */
async function logout(req, res, session) {
  const { config } = await pool();
  if (session.tokens?.refresh_token) {
    try {
      await client.tokenRevocation(config, session.tokens.refresh_token);
    } catch (err) {
      console.error(`revocation failed: ${err.error ?? err.message}`);
    }
  }
  endSession(session, res);
  // /logout?logout_uri=...&client_id=... (client_id is added by openid-client).
  redirect(res, client.buildEndSessionUrl(config, { logout_uri: LOGOUT_URI }).href, 303);
}

async function readForm(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > 16_384) throw new Error('form too large');
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

function sameToken(a, b) {
  const x = Buffer.from(String(a ?? ''));
  const y = Buffer.from(String(b ?? ''));
  return x.length === y.length && timingSafeEqual(x, y);
}

async function route(req, res) {
  const url = new URL(req.url, 'http://app.invalid');
  const callbackPath = REDIRECT_URI.pathname;
  if (req.method === 'GET' && url.pathname === '/favicon.ico') {
    res.writeHead(404).end();
    return;
  }
  const session = sessionOf(req, res);
  if (req.method === 'GET' && url.pathname === '/') return home(res, session);
  if (req.method === 'GET' && url.pathname === '/login') return login(req, res, session);
  if (req.method === 'GET' && url.pathname === callbackPath) return callback(req, res, session);
  if (req.method === 'POST' && (url.pathname === '/refresh' || url.pathname === '/logout')) {
    const form = await readForm(req);
    if (!sameToken(form.get('_csrf'), session.csrf)) {
      return problem(res, 403, 'Forbidden', new Error('the form has expired; reload the page'));
    }
    return url.pathname === '/refresh' ? refresh(req, res, session) : logout(req, res, session);
  }
  page(res, 404, 'Not found', '<p><a href="/">Home</a></p>');
}

const server = createServer((req, res) => {
  const started = Date.now();
  res.on('finish', () => {
    // Never log the query string: it carries the authorization code.
    console.log(`${req.method} ${req.url.split('?')[0]} ${res.statusCode} ${Date.now() - started}ms`);
  });
  route(req, res).catch((err) => {
    console.error(err);
    if (!res.headersSent) problem(res, 502, 'Something went wrong', err);
    else res.end();
  });
});

server.listen(PORT, HOST, () => {
  console.log(`Example web app on http://${HOST}:${PORT} (open ${new URL('/', REDIRECT_URI).href})`);
  console.log(`Issuer ${ISSUER.href}, client ${CLIENT_ID}${CLIENT_SECRET ? ' (confidential)' : ' (public)'}`);
});

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
