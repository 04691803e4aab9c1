// Local stand-ins for the social identity providers Gatehouse federates to, so that its
// connectors run their real HTTP code paths without ever calling Facebook, Amazon or Apple:
// one node:http server on 127.0.0.1 that answers, under path prefixes, like
//
//   - Facebook Login + Graph API   /vNN.N/dialog/oauth, /vNN.N/oauth/access_token, /vNN.N/me
//   - Login with Amazon            /ap/oa, /auth/o2/token, /user/profile
//   - Sign in with Apple           /auth/authorize, /auth/token, /auth/keys (issuer …/apple)
//   - "Rogue", an OpenID Provider  /rogue/authorize, /rogue/token, /rogue/jwks, /rogue/userinfo
//     that misbehaves on demand (wrong iss/aud/nonce, expired, bad signature, key rotation,
//     errors, a malformed or slow token answer, userinfo for another sub, a PKCE mismatch).
//
// Each follows its provider's documented API (parameters checked, answers and error shapes);
// what each checks and answers is written out in README.md ("standins.mjs"). The users are fixed
// (see USERS). Every request is appended to `log` for the test to inspect. No dependency beyond
// node: JWTs are made and checked with node:crypto.
//
//   const s = await startStandins({ redirectUris: ['http://127.0.0.1:8080/pool/oauth2/idpresponse'],
//     apple: { publicKey } });
//   s.facebook.nextDialog('cancel'); s.rogue.setMode('wrong_iss'); s.log; await s.close();
//
// CLI: `node standins.mjs [--port N] [--apple-public-key FILE.pem] [--redirect-uri URI ...]`
// prints `READY http://127.0.0.1:<port>` and logs every request to stderr.

import {
  createHash, createHmac, createPublicKey, generateKeyPairSync, randomBytes, randomUUID, sign as cryptoSign,
  timingSafeEqual, verify as cryptoVerify,
} from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';

/** The one user each provider knows. */
export const USERS = {
  facebook: {
    id: '10150000001',
    email: 'fay@example.com',
    first_name: 'Fay',
    last_name: 'Book',
    name: 'Fay Book',
    short_name: 'Fay',
    name_format: '{first} {last}',
  },
  amazon: {
    user_id: 'amzn1.account.AEXAMPLE',
    name: 'Amy Zon',
    email: 'amy@example.com',
    postal_code: '98101',
  },
  apple: {
    sub: '001234.apple-user.0001',
    email: 'apple@example.com',
    firstName: 'Apple',
    lastName: 'Seed',
  },
  rogue: {
    sub: 'rogue-user-0001',
    email: 'rogue@example.com',
    email_verified: true,
    otherSub: 'rogue-user-9999',
  },
};

export const DEFAULT_CLIENTS = {
  facebook: { clientId: 'fb-app', clientSecret: 'fb-secret' },
  amazon: { clientId: 'amzn-client', clientSecret: 'amzn-secret' },
  apple: { clientId: 'com.example.web', teamId: 'TEAMID1234', keyId: 'KEYID12345' },
  rogue: { clientId: 'rogue-client', clientSecret: 'rogue-secret' },
};

export const ROGUE_MODES = [
  'good', 'wrong_iss', 'wrong_aud', 'wrong_nonce', 'expired', 'bad_signature', 'rotated_key',
  'token_error', 'malformed', 'userinfo_other_sub', 'slow', 'pkce_mismatch',
];

/** How long the `slow` token answer waits (Gatehouse's upstream timeout is 10 s). */
export const SLOW_MS = 12_000;
/** Apple: a client secret may not expire more than 15777000 s (6 months) from now. */
export const APPLE_MAX_SECRET_LIFETIME = 15_777_000;
const APPLE_AUDIENCE = 'https://appleid.apple.com';
const CODE_TTL_MS = { facebook: 600_000, amazon: 300_000, apple: 300_000, rogue: 120_000 };

// ---------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------

const token = (prefix = '', bytes = 24) => `${prefix}${randomBytes(bytes).toString('base64url')}`;
const now = () => Math.floor(Date.now() / 1000);
const b64url = (buf) => Buffer.from(buf).toString('base64url');
const s256 = (verifier) => createHash('sha256').update(verifier).digest('base64url');
const esc = (v) => String(v).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function safeEqual(a, b) {
  const x = Buffer.from(String(a ?? ''));
  const y = Buffer.from(String(b ?? ''));
  return x.length === y.length && timingSafeEqual(x, y);
}

function rsaKey(prefix) {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const kid = `${prefix}-${randomUUID().slice(0, 8)}`;
  const pub = createPublicKey(privateKey).export({ format: 'jwk' });
  return { kid, privateKey, jwk: { kty: 'RSA', kid, use: 'sig', alg: 'RS256', n: pub.n, e: pub.e } };
}

function signRs256(claims, { privateKey, kid }) {
  const header = b64url(JSON.stringify({ alg: 'RS256', kid, typ: 'JWT' }));
  const payload = b64url(JSON.stringify(claims));
  const signature = cryptoSign('sha256', Buffer.from(`${header}.${payload}`), privateKey);
  return `${header}.${payload}.${b64url(signature)}`;
}

/** OIDC at_hash / c_hash for RS256: left half of SHA-256, base64url. */
const halfHash = (value) => b64url(createHash('sha256').update(value).digest().subarray(0, 16));

function decodeJws(jwt) {
  const parts = String(jwt ?? '').split('.');
  if (parts.length !== 3) throw new Error(`not a compact JWS (${parts.length} parts)`);
  const json = (s, what) => {
    try {
      return JSON.parse(Buffer.from(s, 'base64url').toString('utf8'));
    } catch {
      throw new Error(`the ${what} is not base64url JSON`);
    }
  };
  return { header: json(parts[0], 'header'), claims: json(parts[1], 'payload'), input: `${parts[0]}.${parts[1]}`, signature: Buffer.from(parts[2], 'base64url') };
}

/**
 * Checks an Apple client secret as Apple's /auth/token does: an ES256 JWT whose header has
 * `kid` = the key id and whose claims are iss = team id, sub = client id, aud =
 * https://appleid.apple.com, iat (not in the future) and exp (in the future, at most 15777000 s
 * ahead). Returns { ok, reason?, header?, claims? }.
 */
export function verifyAppleClientSecret(secret, { publicKey, teamId, keyId, clientId }, at = now()) {
  let jws;
  try {
    jws = decodeJws(secret);
  } catch (err) {
    return { ok: false, reason: `client_secret: ${err.message}` };
  }
  const { header, claims } = jws;
  const out = { header, claims };
  const fail = (reason) => ({ ok: false, reason, ...out });
  if (header.alg !== 'ES256') return fail(`header alg is ${JSON.stringify(header.alg)}, not "ES256"`);
  if (header.kid !== keyId) return fail(`header kid is ${JSON.stringify(header.kid)}, not the key id ${JSON.stringify(keyId)}`);
  if (!publicKey) return fail('no public key configured for the Apple stand-in');
  const ok = cryptoVerify('sha256', Buffer.from(jws.input), { key: publicKey, dsaEncoding: 'ieee-p1363' }, jws.signature);
  if (!ok) {
    const der = cryptoVerify('sha256', Buffer.from(jws.input), { key: publicKey, dsaEncoding: 'der' }, jws.signature);
    return fail(der
      ? 'the signature is DER-encoded; a JWS ES256 signature is the 64-byte r||s (IEEE P1363) form'
      : 'the ES256 signature does not verify with the configured public key');
  }
  if (claims.iss !== teamId) return fail(`iss is ${JSON.stringify(claims.iss)}, not the team id ${JSON.stringify(teamId)}`);
  if (claims.sub !== clientId) return fail(`sub is ${JSON.stringify(claims.sub)}, not the client id ${JSON.stringify(clientId)}`);
  if (claims.aud !== APPLE_AUDIENCE) return fail(`aud is ${JSON.stringify(claims.aud)}, not "${APPLE_AUDIENCE}"`);
  if (!Number.isInteger(claims.iat)) return fail(`iat is ${JSON.stringify(claims.iat)}, not a NumericDate`);
  if (claims.iat > at + 60) return fail(`iat ${claims.iat} is in the future (now ${at})`);
  if (!Number.isInteger(claims.exp)) return fail(`exp is ${JSON.stringify(claims.exp)}, not a NumericDate`);
  if (claims.exp <= at) return fail(`exp ${claims.exp} is not in the future (now ${at})`);
  if (claims.exp - at > APPLE_MAX_SECRET_LIFETIME) return fail(`exp is ${claims.exp - at} s ahead, more than ${APPLE_MAX_SECRET_LIFETIME} s (6 months)`);
  return { ok: true, ...out };
}

async function readBody(req, limit = 64 * 1024) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > limit) throw new Error('request body too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** `Authorization: Basic` credentials (RFC 6749 §2.3.1: each part form-urlencoded). */
function basicCredentials(header) {
  const m = /^basic\s+(\S+)$/i.exec(header ?? '');
  if (!m) return undefined;
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  const i = decoded.indexOf(':');
  if (i < 0) return undefined;
  const dec = (s) => {
    try {
      return decodeURIComponent(s.replace(/\+/g, ' '));
    } catch {
      return s;
    }
  };
  return { id: dec(decoded.slice(0, i)), secret: dec(decoded.slice(i + 1)) };
}

function bearerToken(header) {
  const m = /^(?:bearer|oauth)\s+(\S+)$/i.exec(header ?? '');
  return m ? m[1] : undefined;
}

function send(res, status, body, headers = {}) {
  if (res.headersSent || res.destroyed) return;
  const data = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, {
    'content-type': typeof body === 'string' ? 'text/html; charset=utf-8' : 'application/json;charset=UTF-8',
    'cache-control': 'no-store',
    pragma: 'no-cache',
    'content-length': Buffer.byteLength(data),
    ...headers,
  });
  res.end(data);
}

const json = (res, status, body, headers) => send(res, status, body, headers);

function redirect(res, location) {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(302, { location, 'content-length': 0, 'cache-control': 'no-store' });
  res.end();
}

function page(res, status, title, text) {
  send(res, status, `<!DOCTYPE html><html><head><meta charset="utf-8"><title>${esc(title)}</title></head><body><h1>${esc(title)}</h1><p class="error">${esc(text)}</p></body></html>`);
}

/** `base?params` keeping any query `base` already has. */
function withQuery(base, params, fragment = '') {
  const url = new URL(base);
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null) url.searchParams.append(k, v);
  return `${url.href}${fragment}`;
}

/** A store of single-use codes with an expiry. */
class Codes {
  constructor(ttlMs) {
    this.ttlMs = ttlMs;
    this.map = new Map();
  }

  issue(data) {
    const code = token('', 24);
    this.map.set(code, { ...data, expiresAt: Date.now() + this.ttlMs, used: false });
    return code;
  }

  /** { grant } or { problem: 'unknown' | 'used' | 'expired', grant? } — marks the code used. */
  take(code) {
    const grant = code ? this.map.get(code) : undefined;
    if (!grant) return { problem: 'unknown' };
    if (grant.used) return { problem: 'used', grant };
    grant.used = true;
    if (grant.expiresAt < Date.now()) return { problem: 'expired', grant };
    return { grant };
  }
}

// ---------------------------------------------------------------------------
// The server
// ---------------------------------------------------------------------------

/**
 * Starts the four stand-ins on one port.
 *
 * @param {object} [o]
 * @param {number} [o.port=0]  0 picks a free port.
 * @param {string[]} [o.redirectUris]  the redirect URIs every provider accepts (exact match);
 *   when omitted, any http(s) URL on a loopback host is accepted.
 * @param {object} [o.facebook]  { clientId, clientSecret }
 * @param {object} [o.amazon]    { clientId, clientSecret }
 * @param {object} [o.apple]     { clientId, teamId, keyId, publicKey (KeyObject or PEM) }
 * @param {object} [o.rogue]     { clientId, clientSecret }
 * @param {boolean} [o.debug]    every request to stderr (also STANDINS_DEBUG=1)
 * @returns {Promise<object>} { port, origin, issuers: { apple, rogue }, log, facebook, amazon,
 *   apple, rogue, close() } — see README.md.
 */
export async function startStandins({
  port = 0,
  redirectUris,
  facebook: fbOptions = {},
  amazon: amznOptions = {},
  apple: appleOptions = {},
  rogue: rogueOptions = {},
  debug = process.env.STANDINS_DEBUG === '1',
} = {}) {
  const fbClient = { ...DEFAULT_CLIENTS.facebook, ...fbOptions };
  const amznClient = { ...DEFAULT_CLIENTS.amazon, ...amznOptions };
  const appleClient = { ...DEFAULT_CLIENTS.apple, ...appleOptions };
  const rogueClient = { ...DEFAULT_CLIENTS.rogue, ...rogueOptions };
  if (appleClient.publicKey && !(typeof appleClient.publicKey === 'object' && appleClient.publicKey.type === 'public')) {
    appleClient.publicKey = createPublicKey(appleClient.publicKey);
  }
  const allowedRedirects = redirectUris ? new Set([redirectUris].flat()) : undefined;
  const redirectAllowed = (uri) => {
    if (!uri) return false;
    if (allowedRedirects) return allowedRedirects.has(uri);
    try {
      const u = new URL(uri);
      return /^https?:$/.test(u.protocol) && /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/.test(u.hostname);
    } catch {
      return false;
    }
  };

  /** One entry per request: { at, method, path, route, query, form, auth, status, ms, … }. */
  const log = [];
  const timers = new Set();
  const sockets = new Set();
  const server = http.createServer();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  const actualPort = await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve(server.address().port);
    });
  });
  const origin = `http://127.0.0.1:${actualPort}`;
  const issuers = { apple: `${origin}/apple`, rogue: `${origin}/rogue` };

  // ----- Facebook ----------------------------------------------------------
  const fb = {
    client: fbClient,
    user: USERS.facebook,
    codes: new Codes(CODE_TTL_MS.facebook),
    tokens: new Map(),
    nextDialogOutcome: undefined,
    refuseNext: false,
  };
  // Fields of the Graph API User node (a field not here is "nonexisting" and an error, as on
  // Facebook); permission-gated ones the user did not grant are left out of the answer.
  const FB_USER_FIELDS = new Set([
    'id', 'about', 'age_range', 'birthday', 'email', 'favorite_athletes', 'favorite_teams', 'first_name', 'gender',
    'hometown', 'inspirational_people', 'install_type', 'installed', 'is_guest_user', 'languages', 'last_name', 'link',
    'location', 'meeting_for', 'middle_name', 'name', 'name_format', 'payment_pricepoints', 'picture', 'quotes',
    'short_name', 'significant_other', 'sports', 'supports_donate_button', 'token_for_business', 'video_upload_limits',
  ]);
  const fbError = (res, status, message, code = 100, extra = {}) => json(res, status, {
    error: { message, type: 'OAuthException', code, ...extra, fbtrace_id: token('A', 9) },
  }, { 'www-authenticate': `OAuth "Facebook Platform" "invalid_request" "${message.replace(/"/g, "'")}"` });

  function fbDialog(req, res, q, entry) {
    entry.scope = q.get('scope') ?? undefined;
    if (q.get('client_id') !== fb.client.clientId) return page(res, 400, 'Facebook', 'Invalid App ID: The provided app ID does not look like a valid app ID.');
    const redirectUri = q.get('redirect_uri');
    if (!redirectAllowed(redirectUri)) return page(res, 400, 'Facebook', "URL blocked: This redirect failed because the redirect URI is not white-listed in the app's client OAuth settings.");
    const responseType = q.get('response_type') ?? 'code';
    const state = q.get('state') ?? undefined;
    if (responseType !== 'code') {
      return redirect(res, withQuery(redirectUri, { error: 'invalid_request', error_code: 100, error_description: `Unsupported response_type ${responseType} for this stand-in`, state }, '#_=_'));
    }
    const challenge = q.get('code_challenge') ?? undefined;
    if (challenge && (q.get('code_challenge_method') ?? 'plain') !== 'S256') {
      return redirect(res, withQuery(redirectUri, { error: 'invalid_request', error_code: 100, error_description: 'code_challenge_method must be S256', state }, '#_=_'));
    }
    const outcome = fb.nextDialogOutcome;
    fb.nextDialogOutcome = undefined;
    entry.outcome = outcome ?? 'approve';
    if (outcome === 'cancel') {
      return redirect(res, withQuery(redirectUri, {
        error: 'access_denied', error_code: 200, error_description: 'Permissions error', error_reason: 'user_denied', state,
      }, '#_=_'));
    }
    // Facebook scopes are comma-separated; the login dialog grants what was asked for that exists.
    const granted = new Set(['public_profile', ...(q.get('scope') ?? '').split(',').map((s) => s.trim()).filter(Boolean)]);
    const code = fb.codes.issue({ redirectUri, granted: [...granted], challenge });
    return redirect(res, withQuery(redirectUri, { code, state }, '#_=_'));
  }

  function fbAccessToken(req, res, params, entry) {
    entry.params = Object.fromEntries(params);
    const clientId = params.get('client_id');
    entry.clientAuth = params.has('client_secret') ? 'params' : req.headers.authorization ? `${req.headers.authorization.split(' ')[0]} header` : 'none';
    // Facebook documents client_id and client_secret as parameters only.
    if (!clientId) return fbError(res, 400, 'Missing client_id parameter.');
    if (clientId !== fb.client.clientId) return fbError(res, 400, 'Error validating application. Invalid application ID.');
    if (!params.get('redirect_uri')) return fbError(res, 400, 'Missing redirect_uri parameter.');
    if (!params.get('client_secret')) return fbError(res, 400, 'Missing client_secret parameter.');
    if (!safeEqual(params.get('client_secret'), fb.client.clientSecret)) return fbError(res, 400, 'Error validating client secret.');
    const code = params.get('code');
    if (!code) return fbError(res, 400, 'Missing authorization code');
    const { grant, problem } = fb.codes.take(code);
    if (problem === 'unknown') return fbError(res, 400, 'Invalid verification code format.', 100);
    if (problem === 'used') return fbError(res, 400, 'This authorization code has been used.', 100, { error_subcode: 36009 });
    if (problem === 'expired') return fbError(res, 400, 'This authorization code has expired.', 100, { error_subcode: 36007 });
    if (fb.refuseNext) {
      fb.refuseNext = false;
      entry.refused = true;
      return fbError(res, 400, 'This authorization code has expired.', 100, { error_subcode: 36007 });
    }
    if (params.get('redirect_uri') !== grant.redirectUri) {
      return fbError(res, 400, 'Error validating verification code. Please make sure your redirect_uri is identical to the one you used in the OAuth dialog request', 100);
    }
    if (grant.challenge) {
      const verifier = params.get('code_verifier');
      entry.pkce = verifier ? (s256(verifier) === grant.challenge ? 'verified' : 'mismatch') : 'missing';
      if (entry.pkce !== 'verified') return fbError(res, 400, 'Invalid code verifier.', 100);
    }
    const accessToken = token('EAAB', 48);
    fb.tokens.set(accessToken, { granted: grant.granted, expiresAt: Date.now() + 5_183_944_000 });
    return json(res, 200, { access_token: accessToken, token_type: 'bearer', expires_in: 5_183_944 });
  }

  function fbMe(req, res, q, entry) {
    const fromQuery = q.get('access_token');
    const fromHeader = bearerToken(req.headers.authorization);
    entry.tokenIn = fromHeader ? 'authorization' : fromQuery ? 'query' : 'none';
    entry.fields = q.get('fields') ?? undefined;
    const accessToken = fromHeader ?? fromQuery;
    if (!accessToken) return fbError(res, 400, 'An active access token must be used to query information about the current user.', 2500);
    const grant = fb.tokens.get(accessToken);
    if (!grant) return fbError(res, 400, 'Invalid OAuth access token - Cannot parse access token', 190);
    if (grant.expiresAt < Date.now()) return fbError(res, 400, 'Error validating access token: Session has expired.', 190, { error_subcode: 463 });
    const proof = q.get('appsecret_proof');
    if (proof !== null) {
      const expected = createHmac('sha256', fb.client.clientSecret).update(accessToken).digest('hex');
      entry.appsecretProof = safeEqual(proof, expected) ? 'verified' : 'mismatch';
      if (entry.appsecretProof !== 'verified') return fbError(res, 400, 'Invalid appsecret_proof provided in the API argument', 100);
    }
    // Without `fields` the Graph API answers id and name; `id` always comes back.
    const requested = (q.get('fields') ?? 'id,name').split(',').map((f) => f.trim()).filter(Boolean);
    const out = { };
    for (const spec of requested) {
      const name = spec.split(/[.{]/)[0];
      if (!FB_USER_FIELDS.has(name)) return fbError(res, 400, `(#100) Tried accessing nonexisting field (${name}) on node type (User)`, 100);
      if (name === 'email' && !grant.granted.includes('email')) continue;
      if (name === 'picture') {
        out.picture = { data: { height: 50, is_silhouette: true, url: `${origin}/facebook/static/silhouette.png`, width: 50 } };
      } else if (fb.user[name] !== undefined) {
        out[name] = fb.user[name];
      }
    }
    out.id = fb.user.id;
    entry.answered = Object.keys(out);
    return json(res, 200, out);
  }

  // ----- Login with Amazon -------------------------------------------------
  const amzn = {
    client: amznClient,
    user: USERS.amazon,
    codes: new Codes(CODE_TTL_MS.amazon),
    tokens: new Map(),
    nextAuthorizeOutcome: undefined,
  };
  const LWA_SCOPES = new Set(['profile', 'profile:user_id', 'postal_code']);
  const lwaError = (res, status, error, description) => json(res, status, { error, error_description: description });

  function amznAuthorize(req, res, q, entry) {
    if (q.get('client_id') !== amzn.client.clientId) return page(res, 400, 'Amazon', 'An unknown client_id was provided (invalid_client).');
    const redirectUri = q.get('redirect_uri');
    if (!redirectAllowed(redirectUri)) return page(res, 400, 'Amazon', 'An unknown redirect_uri was provided (invalid_request).');
    const state = q.get('state') ?? undefined;
    const back = (params) => redirect(res, withQuery(redirectUri, { ...params, state }));
    if (q.get('response_type') !== 'code') return back({ error: 'unsupported_response_type', error_description: 'The authorization server does not support this response_type.' });
    const scopes = (q.get('scope') ?? '').split(' ').filter(Boolean);
    if (scopes.length === 0 || scopes.some((s) => !LWA_SCOPES.has(s))) {
      return back({ error: 'invalid_scope', error_description: `An unknown scope was requested: ${q.get('scope') ?? '(none)'}` });
    }
    const challenge = q.get('code_challenge') ?? undefined;
    const method = q.get('code_challenge_method') ?? undefined;
    if (challenge && method !== 'S256') return back({ error: 'invalid_request', error_description: 'code_challenge_method must be S256' });
    const outcome = amzn.nextAuthorizeOutcome;
    amzn.nextAuthorizeOutcome = undefined;
    entry.outcome = outcome ?? 'approve';
    if (outcome === 'cancel') return back({ error: 'access_denied', error_description: 'The user denied the request.' });
    const code = amzn.codes.issue({ redirectUri, scopes, challenge });
    return back({ code, scope: scopes.join(' ') });
  }

  async function amznToken(req, res, form, entry) {
    entry.form = Object.fromEntries(form);
    const basic = basicCredentials(req.headers.authorization);
    entry.clientAuth = basic ? 'basic' : form.has('client_secret') ? 'body' : 'none';
    const clientId = basic?.id ?? form.get('client_id');
    const clientSecret = basic?.secret ?? form.get('client_secret');
    if (form.get('grant_type') !== 'authorization_code') return lwaError(res, 400, 'unsupported_grant_type', `The grant_type ${form.get('grant_type') ?? '(none)'} is not supported.`);
    if (clientId !== amzn.client.clientId) return lwaError(res, 401, 'invalid_client', 'The client identifier is unknown.');
    if (!clientSecret || !safeEqual(clientSecret, amzn.client.clientSecret)) return lwaError(res, 401, 'invalid_client', 'Client authentication failed.');
    if (!form.get('code')) return lwaError(res, 400, 'invalid_request', 'The request is missing a required parameter : code');
    const { grant, problem } = amzn.codes.take(form.get('code'));
    if (problem) return lwaError(res, 400, 'invalid_grant', `The authorization code is ${problem === 'unknown' ? 'invalid' : problem === 'used' ? 'already used' : 'expired'}.`);
    if (form.get('redirect_uri') !== grant.redirectUri) return lwaError(res, 400, 'invalid_grant', 'The redirect_uri does not match the one in the authorization request.');
    if (grant.challenge) {
      const verifier = form.get('code_verifier');
      entry.pkce = verifier ? (s256(verifier) === grant.challenge ? 'verified' : 'mismatch') : 'missing';
      if (entry.pkce !== 'verified') return lwaError(res, 400, 'invalid_grant', `Code verifier ${entry.pkce === 'missing' ? 'is missing' : 'does not match the code challenge'}.`);
    } else {
      entry.pkce = 'not used';
    }
    const accessToken = token('Atza|', 48);
    amzn.tokens.set(accessToken, { scopes: grant.scopes, expiresAt: Date.now() + 3_600_000 });
    return json(res, 200, { access_token: accessToken, refresh_token: token('Atzr|', 48), token_type: 'bearer', expires_in: 3600 });
  }

  function amznProfile(req, res, q, entry) {
    const header = bearerToken(req.headers.authorization);
    const accessToken = header ?? req.headers['x-amz-access-token'] ?? q.get('access_token');
    entry.tokenIn = header ? 'authorization' : req.headers['x-amz-access-token'] ? 'x-amz-access-token' : q.get('access_token') ? 'query' : 'none';
    if (!accessToken) return lwaError(res, 400, 'invalid_request', 'The request is missing a required parameter : access_token');
    const grant = amzn.tokens.get(accessToken);
    if (!grant || grant.expiresAt < Date.now()) {
      return json(res, 401, { error: 'invalid_token', error_description: 'The access token provided is expired, revoked, malformed, or invalid for other reasons.' }, { 'www-authenticate': 'Bearer error="invalid_token"' });
    }
    // What the profile answers depends on the scopes granted (LWA "Customer Profile").
    const out = { user_id: amzn.user.user_id };
    if (grant.scopes.includes('profile')) Object.assign(out, { name: amzn.user.name, email: amzn.user.email });
    if (grant.scopes.includes('postal_code')) out.postal_code = amzn.user.postal_code;
    entry.answered = Object.keys(out);
    return json(res, 200, out);
  }

  // ----- Sign in with Apple ------------------------------------------------
  const apple = {
    client: appleClient,
    user: USERS.apple,
    key: rsaKey('apple'),
    codes: new Codes(CODE_TTL_MS.apple),
    tokens: new Map(),
    /** Client ids this user has authorized (Apple sends `user` only the first time). */
    authorized: new Set(),
    nextAuthorizeOutcome: undefined,
  };

  function appleIdToken({ nonce, accessToken, code }) {
    const iat = now();
    const claims = {
      iss: issuers.apple,
      aud: apple.client.clientId,
      exp: iat + 600,
      iat,
      sub: apple.user.sub,
      ...(accessToken ? { at_hash: halfHash(accessToken) } : {}),
      ...(code ? { c_hash: halfHash(code) } : {}),
      email: apple.user.email,
      // Apple sends these two as strings; `appleBooleanClaims` sends JSON booleans instead.
      email_verified: apple.client.booleanClaims ? true : 'true',
      is_private_email: apple.client.booleanClaims ? false : 'false',
      auth_time: iat,
      nonce_supported: true,
      ...(nonce ? { nonce } : {}),
    };
    return signRs256(claims, apple.key);
  }

  function appleAuthorize(req, res, q, entry) {
    if (q.get('client_id') !== apple.client.clientId) return page(res, 400, 'Sign in with Apple', 'invalid_client');
    const redirectUri = q.get('redirect_uri');
    if (!redirectAllowed(redirectUri)) return page(res, 400, 'Sign in with Apple', 'invalid_request: Invalid web redirect url.');
    const responseType = (q.get('response_type') ?? '').split(' ').filter(Boolean).sort().join(' ');
    if (responseType !== 'code' && responseType !== 'code id_token') return page(res, 400, 'Sign in with Apple', 'unsupported_response_type');
    const scopes = (q.get('scope') ?? '').split(' ').filter(Boolean);
    if (scopes.some((s) => s !== 'name' && s !== 'email')) return page(res, 400, 'Sign in with Apple', 'invalid_scope');
    const responseMode = q.get('response_mode') ?? (responseType === 'code' ? 'query' : 'fragment');
    if (scopes.length > 0 && responseMode !== 'form_post') {
      return page(res, 400, 'Sign in with Apple', 'invalid_request: response_mode must be form_post when name or email scope is requested.');
    }
    if (!['query', 'fragment', 'form_post'].includes(responseMode)) return page(res, 400, 'Sign in with Apple', 'invalid_request: unsupported response_mode');
    const state = q.get('state') ?? undefined;
    const nonce = q.get('nonce') ?? undefined;
    const outcome = apple.nextAuthorizeOutcome;
    apple.nextAuthorizeOutcome = undefined;
    let fields;
    if (outcome === 'cancel') {
      entry.outcome = 'cancel';
      fields = { error: 'user_cancelled_authorize', state };
    } else {
      const first = !apple.authorized.has(apple.client.clientId);
      apple.authorized.add(apple.client.clientId);
      const code = apple.codes.issue({ redirectUri, nonce, scopes });
      fields = { state, code };
      if (responseType === 'code id_token') fields.id_token = appleIdToken({ nonce, code });
      // The user's name and email come once, on the first authorization, and only as asked.
      if (first && scopes.length > 0) {
        const user = {};
        if (scopes.includes('name')) user.name = { firstName: apple.user.firstName, lastName: apple.user.lastName };
        if (scopes.includes('email')) user.email = apple.user.email;
        fields.user = JSON.stringify(user);
      }
      entry.outcome = 'approve';
      entry.sentUser = Boolean(fields.user);
    }
    if (responseMode === 'query') return redirect(res, withQuery(redirectUri, fields));
    if (responseMode === 'fragment') {
      const frag = new URLSearchParams(Object.entries(fields).filter(([, v]) => v !== undefined)).toString();
      return redirect(res, `${redirectUri}#${frag}`);
    }
    const inputs = Object.entries(fields).filter(([, v]) => v !== undefined)
      .map(([k, v]) => `<input type="hidden" name="${esc(k)}" value="${esc(v)}">`).join('\n      ');
    return send(res, 200, `<!DOCTYPE html>
<html>
  <head><meta charset="utf-8"><title>Sign in with Apple</title></head>
  <body>
    <form id="apple-response" method="post" action="${esc(redirectUri)}">
      ${inputs}
      <noscript><button type="submit">Continue</button></noscript>
    </form>
    <script>document.getElementById('apple-response').submit();</script>
  </body>
</html>
`);
  }

  function appleToken(req, res, form, entry) {
    entry.form = Object.fromEntries([...form].map(([k, v]) => [k, k === 'client_secret' ? `${v.slice(0, 16)}…` : v]));
    const appleErr = (error, description) => json(res, 400, description ? { error, error_description: description } : { error });
    if (req.headers.authorization) {
      entry.reason = 'client authentication in the Authorization header (Apple takes client_secret_post only)';
      return appleErr('invalid_client');
    }
    const grantType = form.get('grant_type');
    if (grantType !== 'authorization_code' && grantType !== 'refresh_token') return appleErr('unsupported_grant_type');
    if (form.get('client_id') !== apple.client.clientId) {
      entry.reason = `client_id ${JSON.stringify(form.get('client_id'))} is unknown`;
      return appleErr('invalid_client');
    }
    const check = verifyAppleClientSecret(form.get('client_secret'), {
      publicKey: apple.client.publicKey, teamId: apple.client.teamId, keyId: apple.client.keyId, clientId: apple.client.clientId,
    });
    entry.clientSecret = check;
    if (!check.ok) {
      entry.reason = check.reason;
      return appleErr('invalid_client');
    }
    if (grantType === 'refresh_token') {
      const known = apple.tokens.get(form.get('refresh_token'));
      if (!known) return appleErr('invalid_grant', 'The refresh token is invalid or has been revoked.');
      const accessToken = token('a', 32);
      return json(res, 200, { access_token: accessToken, token_type: 'Bearer', expires_in: 3600, id_token: appleIdToken({ accessToken }) });
    }
    if (!form.get('code')) return appleErr('invalid_request', 'code is required.');
    const { grant, problem } = apple.codes.take(form.get('code'));
    if (problem) {
      entry.reason = `code ${problem}`;
      return appleErr('invalid_grant', 'The code has expired or has been revoked.');
    }
    if (form.get('redirect_uri') !== grant.redirectUri) {
      entry.reason = 'redirect_uri does not match the authorization request';
      return appleErr('invalid_grant', 'Invalid redirect_uri.');
    }
    const accessToken = token('a', 32);
    const refreshToken = token('r', 32);
    apple.tokens.set(refreshToken, { nonce: grant.nonce });
    return json(res, 200, {
      access_token: accessToken,
      token_type: 'Bearer',
      expires_in: 3600,
      refresh_token: refreshToken,
      id_token: appleIdToken({ nonce: grant.nonce, accessToken }),
    });
  }

  // ----- Rogue OpenID Provider ---------------------------------------------
  const rogue = {
    client: rogueClient,
    user: USERS.rogue,
    keys: [rsaKey('rogue')],
    codes: new Codes(CODE_TTL_MS.rogue),
    tokens: new Map(),
    mode: 'good',
    jwksFetches: 0,
  };
  const rogueSigner = () => rogue.keys[rogue.keys.length - 1];
  const rogueErr = (res, status, error, description, headers) => json(res, status, { error, error_description: description }, headers);

  function setRogueMode(mode) {
    if (!ROGUE_MODES.includes(mode)) throw new Error(`unknown rogue mode ${JSON.stringify(mode)}; one of ${ROGUE_MODES.join(', ')}`);
    rogue.mode = mode;
  }

  function rogueAuthorize(req, res, q, entry) {
    if (q.get('client_id') !== rogue.client.clientId) return page(res, 400, 'rogue', 'invalid_client: unknown client_id');
    const redirectUri = q.get('redirect_uri');
    if (!redirectAllowed(redirectUri)) return page(res, 400, 'rogue', 'invalid_request: redirect_uri is not registered');
    const state = q.get('state') ?? undefined;
    const back = (params) => redirect(res, withQuery(redirectUri, { ...params, state }));
    if (q.get('response_type') !== 'code') return back({ error: 'unsupported_response_type', error_description: 'only code' });
    const scopes = (q.get('scope') ?? '').split(' ').filter(Boolean);
    if (!scopes.includes('openid')) return back({ error: 'invalid_scope', error_description: 'openid is required' });
    const challenge = q.get('code_challenge') ?? undefined;
    if (challenge && q.get('code_challenge_method') !== 'S256') return back({ error: 'invalid_request', error_description: 'code_challenge_method must be S256' });
    const code = rogue.codes.issue({ redirectUri, nonce: q.get('nonce') ?? undefined, challenge, scopes });
    return back({ code });
  }

  function rogueIdToken(mode, { nonce }) {
    const iat = now();
    const claims = {
      iss: issuers.rogue,
      aud: rogue.client.clientId,
      sub: rogue.user.sub,
      iat,
      exp: iat + 600,
      auth_time: iat,
      email: rogue.user.email,
      ...(nonce ? { nonce } : {}),
    };
    let signer = rogueSigner();
    switch (mode) {
      case 'wrong_iss': claims.iss = `${origin}/not-rogue`; break;
      case 'wrong_aud': claims.aud = 'someone-else'; break;
      case 'wrong_nonce': claims.nonce = token('n', 16); break;
      case 'expired': Object.assign(claims, { iat: iat - 7200, auth_time: iat - 7200, exp: iat - 3600 }); break;
      case 'bad_signature': {
        // Signed by a key that is not published, under the kid of one that is.
        const stranger = rsaKey('stranger');
        signer = { privateKey: stranger.privateKey, kid: rogueSigner().kid };
        break;
      }
      case 'rotated_key':
        // A new key, in the JWKS from now on; the old one stays published.
        rogue.keys.push(rsaKey('rogue-rotated'));
        signer = rogueSigner();
        break;
      default:
    }
    return { idToken: signRs256(claims, signer), claims, kid: signer.kid };
  }

  async function rogueToken(req, res, form, entry) {
    // The mode is for the next token answer, whatever the request is.
    const mode = rogue.mode;
    rogue.mode = 'good';
    entry.mode = mode;
    entry.form = Object.fromEntries([...form].map(([k, v]) => [k, k === 'client_secret' ? '…' : v]));
    entry.clientAuth = req.headers.authorization ? `${req.headers.authorization.split(' ')[0]} header` : form.has('client_secret') ? 'client_secret_post' : 'none';
    if (req.headers.authorization) {
      return rogueErr(res, 401, 'invalid_client', 'this client is registered for client_secret_post; the Authorization header is not accepted', { 'www-authenticate': 'Basic realm="rogue"' });
    }
    if (form.get('client_id') !== rogue.client.clientId || !safeEqual(form.get('client_secret'), rogue.client.clientSecret)) {
      return rogueErr(res, 401, 'invalid_client', 'client authentication failed');
    }
    if (form.get('grant_type') !== 'authorization_code') return rogueErr(res, 400, 'unsupported_grant_type', `grant_type ${form.get('grant_type')}`);
    const { grant, problem } = rogue.codes.take(form.get('code'));
    if (problem) return rogueErr(res, 400, 'invalid_grant', `the code is ${problem}`);
    if (form.get('redirect_uri') !== grant.redirectUri) return rogueErr(res, 400, 'invalid_grant', 'redirect_uri mismatch');
    if (grant.challenge) {
      const verifier = form.get('code_verifier');
      entry.pkce = verifier ? (s256(verifier) === grant.challenge ? 'verified' : 'mismatch') : 'missing';
      if (entry.pkce !== 'verified') return rogueErr(res, 400, 'invalid_grant', `PKCE verification failed (code_verifier ${entry.pkce})`);
    } else {
      entry.pkce = 'not used';
    }
    switch (mode) {
      case 'token_error': return rogueErr(res, 400, 'invalid_grant', 'rogue refuses this code');
      case 'pkce_mismatch': return rogueErr(res, 400, 'invalid_grant', 'PKCE verification failed: code_verifier does not match code_challenge');
      case 'malformed': return send(res, 200, 'not json', { 'content-type': 'application/json' });
      default:
    }
    const accessToken = token('rogue-at-', 24);
    rogue.tokens.set(accessToken, { otherSub: mode === 'userinfo_other_sub', expiresAt: Date.now() + 3_600_000 });
    const { idToken, kid } = rogueIdToken(mode, grant);
    entry.idTokenKid = kid;
    const body = { access_token: accessToken, token_type: 'Bearer', expires_in: 3600, id_token: idToken, scope: grant.scopes.join(' ') };
    if (mode === 'slow') {
      entry.delayedMs = SLOW_MS;
      await new Promise((resolve) => {
        const timer = setTimeout(() => {
          timers.delete(timer);
          resolve();
        }, SLOW_MS);
        timers.add(timer);
        res.once('close', () => {
          if (!res.writableEnded) entry.clientGaveUpAfterMs = Date.now() - entry.at;
        });
      });
      if (res.destroyed || req.socket.destroyed) {
        entry.note = 'the client had gone before the answer';
        return undefined;
      }
    }
    return json(res, 200, body);
  }

  function rogueUserinfo(req, res, form, q, entry) {
    const header = bearerToken(req.headers.authorization);
    const accessToken = header ?? form?.get('access_token') ?? q.get('access_token');
    entry.tokenIn = header ? 'authorization' : form?.get('access_token') ? 'form' : q.get('access_token') ? 'query' : 'none';
    const grant = accessToken ? rogue.tokens.get(accessToken) : undefined;
    if (!grant || grant.expiresAt < Date.now()) {
      return json(res, 401, { error: 'invalid_token', error_description: 'unknown or expired access token' }, { 'www-authenticate': 'Bearer error="invalid_token"' });
    }
    const sub = grant.otherSub ? rogue.user.otherSub : rogue.user.sub;
    entry.sub = sub;
    return json(res, 200, { sub, email: rogue.user.email, email_verified: rogue.user.email_verified });
  }

  const discovery = (issuer, { authorization, token: tokenEndpoint, jwks, userinfo, authMethods }) => ({
    issuer,
    authorization_endpoint: authorization,
    token_endpoint: tokenEndpoint,
    jwks_uri: jwks,
    ...(userinfo ? { userinfo_endpoint: userinfo } : {}),
    response_types_supported: ['code'],
    subject_types_supported: ['public', 'pairwise'],
    id_token_signing_alg_values_supported: ['RS256'],
    scopes_supported: issuer === issuers.apple ? ['openid', 'email', 'name'] : ['openid', 'email'],
    token_endpoint_auth_methods_supported: authMethods,
    code_challenge_methods_supported: ['S256'],
  });

  // ----- routing -----------------------------------------------------------
  const bodyOf = async (req) => {
    if (req.method !== 'POST') return undefined;
    const raw = await readBody(req);
    const type = String(req.headers['content-type'] ?? '');
    if (/application\/json/i.test(type)) {
      try {
        return new URLSearchParams(Object.entries(JSON.parse(raw)).map(([k, v]) => [k, String(v)]));
      } catch {
        return new URLSearchParams();
      }
    }
    return new URLSearchParams(raw);
  };

  async function handle(req, res, entry) {
    const url = new URL(req.url, origin);
    const q = url.searchParams;
    const p = url.pathname;
    const form = await bodyOf(req);
    const methods = (...allowed) => {
      if (allowed.includes(req.method)) return true;
      json(res, 405, { error: 'method_not_allowed', error_description: `${req.method} is not allowed here` }, { allow: allowed.join(', ') });
      return false;
    };
    let m;
    // Facebook (Graph API version in the path, optional as on graph.facebook.com).
    if ((m = /^(?:\/(v\d+\.\d+))?\/dialog\/oauth$/.exec(p))) {
      Object.assign(entry, { provider: 'facebook', route: 'facebook.dialog', version: m[1] });
      if (methods('GET')) fbDialog(req, res, q, entry);
    } else if ((m = /^(?:\/(v\d+\.\d+))?\/oauth\/access_token$/.exec(p))) {
      Object.assign(entry, { provider: 'facebook', route: 'facebook.token', version: m[1] });
      // Facebook takes the parameters in the query (documented) or a form body.
      if (methods('GET', 'POST')) fbAccessToken(req, res, new URLSearchParams([...q, ...(form ?? [])]), entry);
    } else if ((m = /^(?:\/(v\d+\.\d+))?\/me$/.exec(p))) {
      Object.assign(entry, { provider: 'facebook', route: 'facebook.me', version: m[1] });
      if (methods('GET')) fbMe(req, res, q, entry);
    } else if (p === '/facebook/_next') {
      Object.assign(entry, { provider: 'facebook', route: 'facebook.control' });
      if (!methods('POST')) return;
      const outcome = form.get('outcome');
      if (outcome === 'cancel') fb.nextDialogOutcome = 'cancel';
      else if (outcome === 'refuse_code') fb.refuseNext = true;
      else return json(res, 400, { error: 'outcome is cancel or refuse_code' });
      json(res, 200, { ok: true, outcome });
    // Login with Amazon.
    } else if (p === '/ap/oa') {
      Object.assign(entry, { provider: 'amazon', route: 'amazon.authorize' });
      if (methods('GET')) amznAuthorize(req, res, q, entry);
    } else if (p === '/auth/o2/token') {
      Object.assign(entry, { provider: 'amazon', route: 'amazon.token' });
      if (methods('POST')) await amznToken(req, res, form, entry);
    } else if (p === '/user/profile') {
      Object.assign(entry, { provider: 'amazon', route: 'amazon.profile' });
      if (methods('GET')) amznProfile(req, res, q, entry);
    // Sign in with Apple.
    } else if (p === '/auth/authorize') {
      Object.assign(entry, { provider: 'apple', route: 'apple.authorize' });
      if (methods('GET')) appleAuthorize(req, res, q, entry);
    } else if (p === '/auth/token') {
      Object.assign(entry, { provider: 'apple', route: 'apple.token' });
      if (methods('POST')) appleToken(req, res, form, entry);
    } else if (p === '/auth/keys') {
      Object.assign(entry, { provider: 'apple', route: 'apple.keys' });
      if (methods('GET')) json(res, 200, { keys: [apple.key.jwk] });
    } else if (p === '/apple/.well-known/openid-configuration') {
      Object.assign(entry, { provider: 'apple', route: 'apple.discovery' });
      if (methods('GET')) {
        json(res, 200, discovery(issuers.apple, {
          authorization: `${origin}/auth/authorize`, token: `${origin}/auth/token`, jwks: `${origin}/auth/keys`, authMethods: ['client_secret_post'],
        }));
      }
    } else if (p === '/apple/_next') {
      Object.assign(entry, { provider: 'apple', route: 'apple.control' });
      if (!methods('POST')) return;
      const outcome = form.get('outcome');
      if (outcome === 'cancel') apple.nextAuthorizeOutcome = 'cancel';
      else if (outcome === 'forget_user') apple.authorized.clear();
      else return json(res, 400, { error: 'outcome is cancel or forget_user' });
      json(res, 200, { ok: true, outcome });
    // Rogue.
    } else if (p === '/rogue/authorize') {
      Object.assign(entry, { provider: 'rogue', route: 'rogue.authorize' });
      if (methods('GET')) rogueAuthorize(req, res, q, entry);
    } else if (p === '/rogue/token') {
      Object.assign(entry, { provider: 'rogue', route: 'rogue.token' });
      if (methods('POST')) await rogueToken(req, res, form, entry);
    } else if (p === '/rogue/jwks') {
      Object.assign(entry, { provider: 'rogue', route: 'rogue.jwks' });
      if (methods('GET')) {
        rogue.jwksFetches += 1;
        entry.kids = rogue.keys.map((k) => k.kid);
        json(res, 200, { keys: rogue.keys.map((k) => k.jwk) });
      }
    } else if (p === '/rogue/userinfo') {
      Object.assign(entry, { provider: 'rogue', route: 'rogue.userinfo' });
      if (methods('GET', 'POST')) rogueUserinfo(req, res, form, q, entry);
    } else if (p === '/rogue/.well-known/openid-configuration') {
      Object.assign(entry, { provider: 'rogue', route: 'rogue.discovery' });
      if (methods('GET')) {
        json(res, 200, discovery(issuers.rogue, {
          authorization: `${origin}/rogue/authorize`, token: `${origin}/rogue/token`, jwks: `${origin}/rogue/jwks`, userinfo: `${origin}/rogue/userinfo`, authMethods: ['client_secret_post'],
        }));
      }
    } else if (p === '/rogue/_mode') {
      Object.assign(entry, { provider: 'rogue', route: 'rogue.mode' });
      if (!methods('POST')) return;
      try {
        setRogueMode(form.get('mode'));
        json(res, 200, { mode: rogue.mode });
      } catch (err) {
        json(res, 400, { error: 'invalid_request', error_description: err.message });
      }
    } else {
      entry.route = 'unknown';
      json(res, 404, { error: 'not_found', error_description: `no stand-in at ${p}` });
    }
  }

  server.on('request', (req, res) => {
    const url = new URL(req.url, origin);
    const entry = {
      at: Date.now(),
      method: req.method,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      auth: req.headers.authorization ? req.headers.authorization.split(' ')[0] : undefined,
    };
    log.push(entry);
    res.on('finish', () => {
      entry.status = res.statusCode;
      entry.ms = Date.now() - entry.at;
      if (res.statusCode === 302) entry.location = res.getHeader('location');
      if (debug) process.stderr.write(`[standins] ${entry.method} ${entry.path} -> ${entry.status} (${entry.route}${entry.mode ? ` mode=${entry.mode}` : ''}${entry.reason ? `: ${entry.reason}` : ''})\n`);
    });
    handle(req, res, entry).catch((err) => {
      entry.error = err.message;
      if (debug) process.stderr.write(`[standins] ${req.method} ${url.pathname} crashed: ${err.stack}\n`);
      json(res, 500, { error: 'server_error', error_description: err.message });
    });
  });

  let closed;
  const close = () => {
    closed ??= new Promise((resolve) => {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      server.close(() => resolve());
      server.closeAllConnections?.();
      for (const socket of sockets) socket.destroy();
    });
    return closed;
  };

  return {
    port: actualPort,
    origin,
    issuers,
    log,
    close,
    facebook: {
      client: fbClient,
      user: USERS.facebook,
      /** The next dialog: 'approve' (default) or 'cancel' (error=access_denied, user_denied). */
      nextDialog(outcome) {
        fb.nextDialogOutcome = outcome === 'approve' ? undefined : outcome;
      },
      /** The next access_token exchange with a valid code is refused (400 OAuthException). */
      refuseNextCode() {
        fb.refuseNext = true;
      },
    },
    amazon: {
      client: amznClient,
      user: USERS.amazon,
      nextAuthorize(outcome) {
        amzn.nextAuthorizeOutcome = outcome === 'approve' ? undefined : outcome;
      },
    },
    apple: {
      client: appleClient,
      user: USERS.apple,
      issuer: issuers.apple,
      jwks: () => ({ keys: [apple.key.jwk] }),
      /** The next authorization: 'approve' (default) or 'cancel' (error=user_cancelled_authorize). */
      nextAuthorize(outcome) {
        apple.nextAuthorizeOutcome = outcome === 'approve' ? undefined : outcome;
      },
      /** As if the user revoked the app in their Apple ID settings: `user` comes again. */
      forgetUser() {
        apple.authorized.clear();
      },
    },
    rogue: {
      client: rogueClient,
      user: USERS.rogue,
      issuer: issuers.rogue,
      modes: ROGUE_MODES,
      /** The misbehaviour of the next token answer (then back to 'good'). */
      setMode: setRogueMode,
      get mode() {
        return rogue.mode;
      },
      get jwksFetches() {
        return rogue.jwksFetches;
      },
      kids: () => rogue.keys.map((k) => k.kid),
    },
  };
}

async function cli() {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '0' },
      'apple-public-key': { type: 'string' },
      'redirect-uri': { type: 'string', multiple: true },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log('usage: node standins.mjs [--port N] [--apple-public-key FILE.pem] [--redirect-uri URI ...]');
    return;
  }
  const standins = await startStandins({
    port: Number(values.port),
    redirectUris: values['redirect-uri'],
    apple: values['apple-public-key'] ? { publicKey: readFileSync(values['apple-public-key'], 'utf8') } : {},
    debug: true,
  });
  console.log(`READY ${standins.origin}`);
  const stop = async () => {
    await standins.close();
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
