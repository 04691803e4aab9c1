#!/usr/bin/env node
// Self-test of the social stand-ins (standins.mjs) alone, without Gatehouse: a client written
// here calls each provider the documented way and also the wrong ways, and checks the answers —
// including the paths Gatehouse never takes (bad secrets, a DER-encoded or long-lived Apple client
// secret, code replay, unknown Graph fields, each Rogue mode's token). One PASS/FAIL line per
// check, then `N passed, M failed`; exit 0 only when all pass.

import { createHash, generateKeyPairSync, randomBytes, sign as cryptoSign } from 'node:crypto';

import { decodeJwt, httpRequest, parseForms, verifyJwt } from './browser.mjs';
import { Reporter, expect, expectEqual } from './harness.mjs';
import { APPLE_MAX_SECRET_LIFETIME, ROGUE_MODES, startStandins } from './standins.mjs';

const REDIRECT = 'http://127.0.0.1:1/pool/oauth2/idpresponse';
const reporter = new Reporter({ checkTimeoutMs: 20_000 });
const check = reporter.check.bind(reporter);
const b64url = (x) => Buffer.from(x).toString('base64url');
const s256 = (v) => createHash('sha256').update(v).digest('base64url');
const now = () => Math.floor(Date.now() / 1000);
/** JSON with sorted keys, to compare objects whatever their key order. */
const canon = (v) => JSON.stringify(v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b))) : v);

const appleKeys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const otherEcKeys = generateKeyPairSync('ec', { namedCurve: 'P-256' });

/** An Apple client secret; `tweak` changes header/claims, `der` signs in DER form. */
function appleSecret({ header = {}, claims = {}, key = appleKeys.privateKey, der = false } = {}) {
  const t = now();
  const h = b64url(JSON.stringify({ alg: 'ES256', kid: 'KEYID12345', ...header }));
  const c = b64url(JSON.stringify({ iss: 'TEAMID1234', iat: t, exp: t + 300, aud: 'https://appleid.apple.com', sub: 'com.example.web', ...claims }));
  const sig = cryptoSign('sha256', Buffer.from(`${h}.${c}`), { key, dsaEncoding: der ? 'der' : 'ieee-p1363' });
  return `${h}.${c}.${b64url(sig)}`;
}

const s = await startStandins({ redirectUris: [REDIRECT], apple: { publicKey: appleKeys.publicKey } });
const o = s.origin;
const get = (path, params, headers) => httpRequest(`${o}${path}${params ? `?${new URLSearchParams(params)}` : ''}`, { headers });
const post = (path, form, headers) => httpRequest(`${o}${path}`, { method: 'POST', form, headers });
const back = (res) => {
  expectEqual(res.status, 302, `redirect status (${res.body.slice(0, 200)})`);
  const u = new URL(res.location);
  expectEqual(`${u.origin}${u.pathname}`, REDIRECT, 'redirected to');
  return u;
};

try {
  // ----- Facebook -----------------------------------------------------------
  const fbDialog = (extra = {}) => get('/v17.0/dialog/oauth', { client_id: 'fb-app', redirect_uri: REDIRECT, state: 'st', response_type: 'code', scope: 'public_profile,email', ...extra });
  const fbToken = (params) => get('/v17.0/oauth/access_token', { client_id: 'fb-app', redirect_uri: REDIRECT, client_secret: 'fb-secret', ...params });

  await check('fb.1', 'dialog: unknown app id or redirect URI → error page; approve → code, state, #_=_; scope recorded', async () => {
    expectEqual((await fbDialog({ client_id: 'nope' })).status, 400, 'unknown client_id');
    expectEqual((await fbDialog({ redirect_uri: 'http://127.0.0.1:1/elsewhere' })).status, 400, 'unregistered redirect_uri');
    const res = await fbDialog();
    const u = back(res);
    expect(u.searchParams.get('code'), 'no code');
    expectEqual(u.searchParams.get('state'), 'st', 'state');
    expectEqual(u.hash, '#_=_', 'fragment');
    expectEqual(s.log.filter((e) => e.route === 'facebook.dialog').at(-1).scope, 'public_profile,email', 'logged scope');
  });

  await check('fb.2', 'dialog cancel switch → error=access_denied, error_reason=user_denied, error_description=Permissions error, state', async () => {
    s.facebook.nextDialog('cancel');
    const q = back(await fbDialog()).searchParams;
    expectEqual(q.get('error'), 'access_denied', 'error');
    expectEqual(q.get('error_reason'), 'user_denied', 'error_reason');
    expectEqual(q.get('error_description'), 'Permissions error', 'error_description');
    expectEqual(q.get('state'), 'st', 'state');
    expect(!q.has('code'), 'a code');
    expect(back(await fbDialog()).searchParams.get('code'), 'the switch is for one dialog only');
  });

  let fbAccess;
  let fbAccessNoEmail;
  await check('fb.3', 'access_token: wrong secret / redirect_uri / code → 400 OAuthException; right → bearer; replay → 400; refuse switch', async () => {
    const c1 = back(await fbDialog()).searchParams.get('code');
    const bad = await fbToken({ code: c1, client_secret: 'wrong' });
    expectEqual(bad.status, 400, 'wrong secret status');
    expectEqual(bad.json?.error?.type, 'OAuthException', 'error type');
    expectEqual(bad.json?.error?.code, 100, 'error code');
    const c2 = back(await fbDialog()).searchParams.get('code');
    expectEqual((await fbToken({ code: c2, redirect_uri: `${REDIRECT}/x` })).status, 400, 'redirect_uri mismatch');
    expectEqual((await fbToken({ code: 'made-up' })).status, 400, 'unknown code');
    const c3 = back(await fbDialog()).searchParams.get('code');
    const ok = await fbToken({ code: c3 });
    expectEqual(ok.status, 200, `good exchange (${ok.body})`);
    expectEqual(ok.json.token_type, 'bearer', 'token_type');
    expect(ok.json.access_token && ok.json.expires_in > 0, 'access_token/expires_in');
    fbAccess = ok.json.access_token;
    const replay = await fbToken({ code: c3 });
    expectEqual(replay.status, 400, 'replayed code');
    expect(/used/.test(replay.json.error.message), `replay message: ${replay.json.error.message}`);
    s.facebook.refuseNextCode();
    const c4 = back(await fbDialog()).searchParams.get('code');
    expectEqual((await fbToken({ code: c4 })).status, 400, 'refused by the switch');
    const c5 = back(await fbDialog({ scope: 'public_profile' })).searchParams.get('code');
    const ok2 = await httpRequest(`${o}/v17.0/oauth/access_token`, { method: 'POST', form: { client_id: 'fb-app', redirect_uri: REDIRECT, client_secret: 'fb-secret', code: c5 } });
    expectEqual(ok2.status, 200, 'POST form exchange');
    fbAccessNoEmail = ok2.json.access_token;
  });

  await check('fb.4', '/me: requested fields (+ id) only; email only if granted; Bearer or access_token; unknown field, no or bad token → 400', async () => {
    const me = await get('/v17.0/me', { fields: 'id,email,first_name,last_name', access_token: fbAccess });
    expectEqual(canon(me.json), canon({ email: 'fay@example.com', first_name: 'Fay', last_name: 'Book', id: '10150000001' }), '/me answer');
    const bearer = await get('/v17.0/me', { fields: 'name' }, { authorization: `Bearer ${fbAccess}` });
    expectEqual(canon(bearer.json), canon({ name: 'Fay Book', id: '10150000001' }), 'Bearer /me answer');
    const noEmail = await get('/v17.0/me', { fields: 'id,email', access_token: fbAccessNoEmail });
    expectEqual(canon(noEmail.json), canon({ id: '10150000001' }), 'without the email permission');
    const unknown = await get('/v17.0/me', { fields: 'id,shoe_size', access_token: fbAccess });
    expectEqual(unknown.status, 400, 'unknown field');
    expectEqual((await get('/v17.0/me', { fields: 'id' })).json?.error?.code, 2500, 'no token');
    expectEqual((await get('/v17.0/me', { access_token: 'nope' })).json?.error?.code, 190, 'bad token');
  });

  // ----- Login with Amazon --------------------------------------------------
  await check('lwa.1', 'PKCE: missing or wrong code_verifier → invalid_grant; right → tokens; profile by Bearer; bad token → 401', async () => {
    const verifier = b64url(randomBytes(32));
    const auth = (extra = {}) => get('/ap/oa', { client_id: 'amzn-client', scope: 'profile', response_type: 'code', redirect_uri: REDIRECT, state: 'st', code_challenge: s256(verifier), code_challenge_method: 'S256', ...extra });
    const u = back(await auth());
    expectEqual(u.searchParams.get('scope'), 'profile', 'scope in the redirect');
    expectEqual(u.searchParams.get('state'), 'st', 'state');
    const token = (code, extra = {}) => post('/auth/o2/token', { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, client_id: 'amzn-client', client_secret: 'amzn-secret', ...extra });
    const none = await token(u.searchParams.get('code'));
    expectEqual(none.json?.error, 'invalid_grant', 'without code_verifier');
    const wrong = await token(back(await auth()).searchParams.get('code'), { code_verifier: 'x'.repeat(43) });
    expectEqual(wrong.json?.error, 'invalid_grant', 'wrong code_verifier');
    const badSecret = await token(back(await auth()).searchParams.get('code'), { code_verifier: verifier, client_secret: 'no' });
    expectEqual(badSecret.json?.error, 'invalid_client', 'wrong secret');
    const ok = await token(back(await auth()).searchParams.get('code'), { code_verifier: verifier });
    expectEqual(ok.status, 200, `exchange (${ok.body})`);
    expectEqual(ok.json.token_type, 'bearer', 'token_type');
    expectEqual(ok.json.expires_in, 3600, 'expires_in');
    expect(ok.json.refresh_token, 'no refresh_token');
    const profile = await get('/user/profile', undefined, { authorization: `Bearer ${ok.json.access_token}` });
    expectEqual(canon(profile.json), canon({ user_id: 'amzn1.account.AEXAMPLE', name: 'Amy Zon', email: 'amy@example.com' }), 'profile (scope profile)');
    expectEqual((await get('/user/profile', undefined, { authorization: 'Bearer nope' })).status, 401, 'bad token');
    const pc = await token(back(await auth({ scope: 'profile postal_code' })).searchParams.get('code'), { code_verifier: verifier });
    const withPostal = await get('/user/profile', undefined, { authorization: `Bearer ${pc.json.access_token}` });
    expectEqual(withPostal.json.postal_code, '98101', 'postal_code with the postal_code scope');
    expectEqual(back(await auth({ scope: 'openid' })).searchParams.get('error'), 'invalid_scope', 'unknown scope');
  });

  // ----- Sign in with Apple -------------------------------------------------
  const appleAuth = (extra = {}) => get('/auth/authorize', { response_type: 'code', response_mode: 'form_post', client_id: 'com.example.web', redirect_uri: REDIRECT, scope: 'name email', state: 'st', nonce: 'nn', ...extra });
  const appleForm = (res) => {
    expectEqual(res.status, 200, `authorize page (${res.body.slice(0, 200)})`);
    const form = parseForms({ body: res.body, url: new URL(`${o}/auth/authorize`) })[0];
    expect(form && form.method === 'post', 'no POST form');
    expectEqual(form.action.href, REDIRECT, 'form action');
    expect(/\.submit\(\)/.test(res.body), 'no auto-submit script');
    return Object.fromEntries(form.fields.map((f) => [f.name, f.value]));
  };
  const appleToken = (code, secret = appleSecret(), extra = {}) => post('/auth/token', { client_id: 'com.example.web', client_secret: secret, code, grant_type: 'authorization_code', redirect_uri: REDIRECT, ...extra });

  await check('apple.1', 'authorize: name/email without form_post → error page; form_post page with code, state and `user` the first time only', async () => {
    expectEqual((await appleAuth({ response_mode: 'query' })).status, 400, 'scope without form_post');
    expectEqual((await appleAuth({ client_id: 'x' })).status, 400, 'unknown client_id');
    s.apple.forgetUser();
    const first = appleForm(await appleAuth());
    expect(first.code, 'no code');
    expectEqual(first.state, 'st', 'state');
    expectEqual(first.user, JSON.stringify({ name: { firstName: 'Apple', lastName: 'Seed' }, email: 'apple@example.com' }), 'user');
    const second = appleForm(await appleAuth());
    expect(second.code && !('user' in second), 'user sent again');
  });

  await check('apple.2', 'token: client secret signed by another key, DER-encoded, wrong kid/iss/sub/aud, expired or > 6 months → invalid_client', async () => {
    const cases = {
      'another key': appleSecret({ key: otherEcKeys.privateKey }),
      DER: appleSecret({ der: true }),
      'wrong kid': appleSecret({ header: { kid: 'OTHER' } }),
      'wrong iss': appleSecret({ claims: { iss: 'OTHERTEAM' } }),
      'wrong sub': appleSecret({ claims: { sub: 'com.example.other' } }),
      'wrong aud': appleSecret({ claims: { aud: 'https://example.com' } }),
      expired: appleSecret({ claims: { iat: now() - 600, exp: now() - 60 } }),
      'too long': appleSecret({ claims: { exp: now() + APPLE_MAX_SECRET_LIFETIME + 3600 } }),
      'not a JWT': 'secret',
    };
    const reasons = [];
    for (const [what, secret] of Object.entries(cases)) {
      const code = appleForm(await appleAuth()).code;
      const res = await appleToken(code, secret);
      expectEqual(res.status, 400, `${what}: status`);
      expectEqual(JSON.stringify(res.json), '{"error":"invalid_client"}', `${what}: answer`);
      reasons.push(s.log.at(-1).reason);
    }
    expect(/DER/.test(reasons[1]), `the DER case is not explained: ${reasons[1]}`);
  });

  await check('apple.3', 'token: good secret → Bearer tokens; id_token RS256 by /auth/keys with iss, aud, sub, email_verified "true", nonce; replay → invalid_grant', async () => {
    const code = appleForm(await appleAuth()).code;
    const res = await appleToken(code);
    expectEqual(res.status, 200, `exchange (${res.body})`);
    expectEqual(res.json.token_type, 'Bearer', 'token_type');
    expect(res.json.refresh_token && res.json.access_token, 'tokens');
    const jwks = (await get('/auth/keys')).json;
    expect(jwks.keys[0].kid, 'no kid in JWKS');
    const { header, payload } = verifyJwt(res.json.id_token, jwks);
    expectEqual(header.kid, jwks.keys[0].kid, 'kid');
    expectEqual(payload.iss, `${o}/apple`, 'iss');
    expectEqual(payload.aud, 'com.example.web', 'aud');
    expectEqual(payload.sub, '001234.apple-user.0001', 'sub');
    expectEqual(payload.email, 'apple@example.com', 'email');
    expectEqual(payload.email_verified, 'true', 'email_verified');
    expectEqual(payload.nonce, 'nn', 'nonce');
    expect(payload.exp > now() && payload.iat <= now(), 'iat/exp');
    expectEqual((await appleToken(code)).json?.error, 'invalid_grant', 'replay');
    expectEqual((await appleToken(appleForm(await appleAuth()).code, appleSecret(), { redirect_uri: `${REDIRECT}/x` })).json?.error, 'invalid_grant', 'redirect_uri mismatch');
    expectEqual((await post('/auth/token', { client_id: 'com.example.web', code: 'x', grant_type: 'authorization_code', redirect_uri: REDIRECT }, { authorization: 'Basic eDp5' })).json?.error, 'invalid_client', 'Basic auth');
    s.apple.nextAuthorize('cancel');
    expectEqual(appleForm(await appleAuth()).error, 'user_cancelled_authorize', 'cancel switch');
  });

  // ----- Rogue --------------------------------------------------------------
  const verifier = b64url(randomBytes(32));
  const rogueCode = async (nonce = 'nonce-1') => back(await get('/rogue/authorize', {
    response_type: 'code', client_id: 'rogue-client', redirect_uri: REDIRECT, scope: 'openid email', state: 'st', nonce, code_challenge: s256(verifier), code_challenge_method: 'S256',
  })).searchParams.get('code');
  const rogueToken = async (extra = {}, headers) => post('/rogue/token', {
    grant_type: 'authorization_code', code: await rogueCode(), redirect_uri: REDIRECT, client_id: 'rogue-client', client_secret: 'rogue-secret', code_verifier: verifier, ...extra,
  }, headers);

  await check('rogue.1', 'good: client_secret_post + PKCE → id_token valid against /rogue/jwks; userinfo by POST access_token; Basic, wrong verifier → errors', async () => {
    const res = await rogueToken();
    expectEqual(res.status, 200, `exchange (${res.body})`);
    const jwks = (await get('/rogue/jwks')).json;
    const { payload } = verifyJwt(res.json.id_token, jwks);
    expectEqual(payload.iss, `${o}/rogue`, 'iss');
    expectEqual(payload.aud, 'rogue-client', 'aud');
    expectEqual(payload.nonce, 'nonce-1', 'nonce');
    const ui = await post('/rogue/userinfo', { access_token: res.json.access_token });
    expectEqual(ui.json?.sub, 'rogue-user-0001', 'userinfo sub');
    expectEqual((await rogueToken({ client_secret: undefined }, { authorization: 'Basic cm9ndWUtY2xpZW50OnJvZ3VlLXNlY3JldA==' })).json?.error, 'invalid_client', 'client_secret_basic refused');
    expectEqual((await rogueToken({ code_verifier: 'y'.repeat(43) })).json?.error, 'invalid_grant', 'wrong verifier');
  });

  await check('rogue.2', 'modes: each misbehaves once, then good again; POST /rogue/_mode sets a mode', async () => {
    const details = [];
    for (const mode of ROGUE_MODES.filter((m) => m !== 'good' && m !== 'slow')) {
      const kidsBefore = s.rogue.kids();
      s.rogue.setMode(mode);
      const res = await rogueToken();
      const jwks = (await get('/rogue/jwks')).json;
      const claimsOf = () => decodeJwt(res.json.id_token).payload;
      switch (mode) {
        case 'wrong_iss': expect(claimsOf().iss !== `${o}/rogue`, 'iss is right'); break;
        case 'wrong_aud': expect(claimsOf().aud !== 'rogue-client', 'aud is right'); break;
        case 'wrong_nonce': expect(claimsOf().nonce !== 'nonce-1', 'nonce is right'); break;
        case 'expired': expect(claimsOf().exp < now(), 'not expired'); break;
        case 'bad_signature': {
          const { header } = decodeJwt(res.json.id_token);
          expect(jwks.keys.some((k) => k.kid === header.kid), 'kid not in the JWKS');
          let verified = true;
          try { verifyJwt(res.json.id_token, jwks); } catch { verified = false; }
          expect(!verified, 'the signature verifies');
          break;
        }
        case 'rotated_key': {
          const { header } = decodeJwt(res.json.id_token);
          expect(!kidsBefore.includes(header.kid), 'the kid is not new');
          verifyJwt(res.json.id_token, jwks);
          break;
        }
        case 'token_error':
        case 'pkce_mismatch': expectEqual(res.status, 400, 'status'); expectEqual(res.json?.error, 'invalid_grant', 'error'); break;
        case 'malformed': expectEqual(res.status, 200, 'status'); expectEqual(res.body, 'not json', 'body'); break;
        case 'userinfo_other_sub': expectEqual((await post('/rogue/userinfo', { access_token: res.json.access_token })).json?.sub, 'rogue-user-9999', 'userinfo sub'); break;
        default: throw new Error(`no test for ${mode}`);
      }
      expectEqual(s.rogue.mode, 'good', `mode after ${mode}`);
      details.push(mode);
    }
    const set = await post('/rogue/_mode', { mode: 'token_error' });
    expectEqual(set.json?.mode, 'token_error', '/rogue/_mode');
    expectEqual((await rogueToken()).status, 400, 'mode set over HTTP');
    expectEqual((await post('/rogue/_mode', { mode: 'nonsense' })).status, 400, 'unknown mode');
    return details.join(', ');
  });

  await check('rogue.3', 'slow: no token answer within 2 s (the stand-in waits 12 s)', async () => {
    s.rogue.setMode('slow');
    const started = Date.now();
    try {
      await httpRequest(`${o}/rogue/token`, {
        method: 'POST',
        form: { grant_type: 'authorization_code', code: await rogueCode(), redirect_uri: REDIRECT, client_id: 'rogue-client', client_secret: 'rogue-secret', code_verifier: verifier },
        timeoutMs: 2000,
      });
    } catch (err) {
      expect(/timed out/.test(err.message), err.message);
      return `gave up after ${Date.now() - started} ms`;
    }
    throw new Error('the slow token endpoint answered within 2 s');
  });
} finally {
  await s.close();
  reporter.summary();
  process.exitCode = reporter.failed === 0 && reporter.passed > 0 ? 0 : 1;
}
