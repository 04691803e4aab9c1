// A small scripted "browser" for the federation tests: plain HTTP/1.1, a cookie jar with the
// rules a real browser applies (host-only/Domain, Path, expiry, Secure, SameSite with redirect
// chains), manual redirects, and HTML form/link parsing. No JavaScript, no subresources.
//
// Every request goes to loopback: the host `localhost` is connected to at 127.0.0.1 (the Host
// header stays `localhost:<port>`), so a machine whose `localhost` resolves to ::1 first behaves
// the same. Any other non-loopback host is refused.

import { constants as cryptoConstants, createPublicKey, verify as cryptoVerify } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';

export const DEFAULT_TIMEOUT_MS = 15_000;
const MAX_BODY = 4 * 1024 * 1024;

export class BrowserError extends Error {
  constructor(message, details = {}) {
    super(message, details.cause ? { cause: details.cause } : undefined);
    this.name = 'BrowserError';
    this.details = details;
  }
}

// ---------------------------------------------------------------------------
// URLs, sites
// ---------------------------------------------------------------------------

function isLoopbackHost(hostname) {
  const h = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h.endsWith('.localhost') || /^127(\.\d{1,3}){3}$/.test(h) || h === '::1';
}

/** Schemeful site: scheme + registrable domain (IPs and single labels are their own site). */
export function siteOf(url) {
  const u = new URL(url);
  const host = u.hostname.toLowerCase();
  let registrable = host;
  if (!isIP(host.replace(/^\[|\]$/g, '')) && host.includes('.')) {
    registrable = host.split('.').slice(-2).join('.');
  }
  return `${u.protocol}//${registrable}`;
}

/** Secure context for cookies: https, or a loopback host (as Chrome and Firefox treat localhost). */
function potentiallyTrustworthy(url) {
  return url.protocol === 'https:' || isLoopbackHost(url.hostname);
}

// ---------------------------------------------------------------------------
// Cookies (RFC 6265bis, the parts that matter here)
// ---------------------------------------------------------------------------

function defaultPath(url) {
  const p = url.pathname;
  if (!p.startsWith('/') || p.lastIndexOf('/') === 0) return '/';
  return p.slice(0, p.lastIndexOf('/'));
}

function pathMatches(requestPath, cookiePath) {
  if (requestPath === cookiePath) return true;
  if (!requestPath.startsWith(cookiePath)) return false;
  return cookiePath.endsWith('/') || requestPath[cookiePath.length] === '/';
}

function domainMatches(host, domain) {
  if (host === domain) return true;
  return !isIP(host) && host.endsWith(`.${domain}`);
}

/** Parses one Set-Cookie header value; returns undefined for an unusable line. */
export function parseSetCookie(line, url, now = Date.now()) {
  const parts = line.split(';');
  const pair = parts.shift();
  const eq = pair.indexOf('=');
  if (eq < 0) return undefined;
  const name = pair.slice(0, eq).trim();
  const value = pair.slice(eq + 1).trim();
  if (!name) return undefined;
  const cookie = {
    name,
    value,
    domain: url.hostname.toLowerCase(),
    hostOnly: true,
    path: defaultPath(url),
    secure: false,
    httpOnly: false,
    sameSite: 'lax-default',
    expires: undefined, // ms epoch; undefined = session cookie
    raw: line,
  };
  let maxAgeSeen = false;
  for (const part of parts) {
    const i = part.indexOf('=');
    const key = (i < 0 ? part : part.slice(0, i)).trim().toLowerCase();
    const val = i < 0 ? '' : part.slice(i + 1).trim();
    switch (key) {
      case 'domain': {
        const d = val.replace(/^\./, '').toLowerCase();
        if (!d) break;
        if (!domainMatches(cookie.domain, d)) return { rejected: `Domain=${val} does not match ${cookie.domain}`, cookie };
        cookie.domain = d;
        // A Domain attribute makes the cookie go to subdomains too, except for an IP address.
        cookie.hostOnly = isIP(d) !== 0;
        break;
      }
      case 'path':
        cookie.path = val.startsWith('/') ? val : defaultPath(url);
        break;
      case 'max-age': {
        if (!/^-?\d+$/.test(val)) break;
        maxAgeSeen = true;
        const seconds = Number(val);
        cookie.expires = seconds <= 0 ? 0 : now + seconds * 1000;
        break;
      }
      case 'expires': {
        if (maxAgeSeen) break;
        const t = Date.parse(val);
        if (!Number.isNaN(t)) cookie.expires = t;
        break;
      }
      case 'secure':
        cookie.secure = true;
        break;
      case 'httponly':
        cookie.httpOnly = true;
        break;
      case 'samesite': {
        const v = val.toLowerCase();
        cookie.sameSite = v === 'strict' || v === 'lax' || v === 'none' ? v : 'lax-default';
        break;
      }
      default:
    }
  }
  if (cookie.secure && !potentiallyTrustworthy(url)) return { rejected: 'Secure cookie set from an insecure origin', cookie };
  if (cookie.sameSite === 'none' && !cookie.secure) return { rejected: 'SameSite=None without Secure (browsers reject it)', cookie };
  if (name.startsWith('__Secure-') && !cookie.secure) return { rejected: '__Secure- prefix without Secure', cookie };
  if (name.startsWith('__Host-') && (!cookie.secure || !cookie.hostOnly || cookie.path !== '/')) {
    return { rejected: '__Host- prefix needs Secure, no Domain and Path=/', cookie };
  }
  return { cookie };
}

export class CookieJar {
  constructor() {
    this.cookies = [];
    /** Set-Cookie lines a browser would have refused, with the reason. */
    this.rejected = [];
  }

  clone() {
    const jar = new CookieJar();
    jar.cookies = this.cookies.map((c) => ({ ...c }));
    return jar;
  }

  store(url, setCookieLines, now = Date.now()) {
    for (const line of setCookieLines) {
      const parsed = parseSetCookie(line, url, now);
      if (!parsed) continue;
      if (parsed.rejected) {
        this.rejected.push({ url: url.href, line, reason: parsed.rejected });
        continue;
      }
      const c = parsed.cookie;
      const same = (o) => o.name === c.name && o.domain === c.domain && o.path === c.path;
      this.cookies = this.cookies.filter((o) => !same(o));
      if (c.expires === undefined || c.expires > now) this.cookies.push(c);
    }
  }

  /**
   * Cookies to send to `url`. `context`: { sameSite: boolean (the whole navigation and its
   * redirect chain are same-site with url), topLevel: boolean, method }.
   */
  matching(url, { sameSite = true, topLevel = true, method = 'GET' } = {}, now = Date.now()) {
    const host = url.hostname.toLowerCase();
    this.cookies = this.cookies.filter((c) => c.expires === undefined || c.expires > now);
    const safe = method === 'GET' || method === 'HEAD';
    return this.cookies
      .filter((c) => (c.hostOnly ? c.domain === host : domainMatches(host, c.domain)))
      .filter((c) => pathMatches(url.pathname || '/', c.path))
      .filter((c) => !c.secure || potentiallyTrustworthy(url))
      .filter((c) => {
        if (c.sameSite === 'strict') return sameSite;
        if (c.sameSite === 'lax' || c.sameSite === 'lax-default') return sameSite || (topLevel && safe);
        return true;
      })
      .sort((a, b) => b.path.length - a.path.length);
  }

  header(url, context) {
    const list = this.matching(url, context);
    return list.length ? list.map((c) => `${c.name}=${c.value}`).join('; ') : undefined;
  }

  clearHost(hostname) {
    const h = hostname.toLowerCase();
    this.cookies = this.cookies.filter((c) => !(c.domain === h || domainMatches(h, c.domain)));
  }

  list(hostname) {
    const h = hostname?.toLowerCase();
    return this.cookies.filter((c) => !h || c.domain === h || domainMatches(h, c.domain));
  }
}

// ---------------------------------------------------------------------------
// HTTP
// ---------------------------------------------------------------------------

function rawRequest(url, { method, headers, body, timeoutMs }) {
  return new Promise((resolve, reject) => {
    const mod = url.protocol === 'https:' ? https : http;
    const connectHost = url.hostname === 'localhost' ? '127.0.0.1' : url.hostname.replace(/^\[|\]$/g, '');
    const req = mod.request(
      {
        host: connectHost,
        port: url.port || (url.protocol === 'https:' ? 443 : 80),
        path: `${url.pathname}${url.search}`,
        method,
        headers: { host: url.host, ...headers },
        agent: false,
        servername: url.protocol === 'https:' ? url.hostname : undefined,
      },
      (res) => {
        const chunks = [];
        let size = 0;
        res.on('data', (chunk) => {
          size += chunk.length;
          if (size <= MAX_BODY) chunks.push(chunk);
        });
        res.on('end', () => {
          clearTimeout(timer);
          resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') });
        });
        res.on('error', (err) => {
          clearTimeout(timer);
          reject(err);
        });
      },
    );
    const timer = setTimeout(() => {
      req.destroy(new Error(`timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    req.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    if (body !== undefined) req.write(body);
    req.end();
  });
}

/**
 * One HTTP exchange outside any browser (an application's back channel): returns
 * { url, status, headers, location, body, json }.
 */
export async function httpRequest(url, { method = 'GET', headers = {}, form, json, timeoutMs = DEFAULT_TIMEOUT_MS } = {}) {
  url = new URL(url);
  if (!isLoopbackHost(url.hostname)) throw new BrowserError(`refusing a non-loopback host: ${url.href}`);
  const h = { 'user-agent': 'gatehouse-federation-e2e', ...headers };
  let body;
  if (form !== undefined) {
    body = (form instanceof URLSearchParams ? form : new URLSearchParams(form)).toString();
    h['content-type'] = 'application/x-www-form-urlencoded';
  } else if (json !== undefined) {
    body = JSON.stringify(json);
    h['content-type'] = 'application/json';
  }
  if (body !== undefined) h['content-length'] = Buffer.byteLength(body);
  let res;
  try {
    res = await rawRequest(url, { method, headers: h, body, timeoutMs });
  } catch (cause) {
    throw new BrowserError(`${method} ${url.href} failed: ${cause.message}`, { cause });
  }
  let parsed;
  try {
    parsed = JSON.parse(res.body);
  } catch {
    parsed = undefined;
  }
  return {
    method,
    url,
    status: res.status,
    headers: res.headers,
    location: res.headers.location,
    body: res.body,
    json: parsed,
  };
}

export function describeResponse(res, maxBody = 600) {
  if (!res) return '(no response)';
  const body = (res.body ?? '').replace(/\s+/g, ' ').trim();
  const shortBody = body.length > maxBody ? `${body.slice(0, maxBody)}… [${body.length} chars]` : body;
  return `${res.method ?? 'GET'} ${res.url?.href ?? res.url} -> ${res.status}${res.location ? ` Location: ${res.location}` : ''}${shortBody ? ` body: ${shortBody}` : ''}`;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

export class Browser {
  /**
   * @param {object} [options]
   * @param {string} [options.name]
   * @param {number} [options.timeoutMs]
   * @param {(url: URL) => boolean} [options.stopAt]  URLs never requested: navigation stops there
   *   (e.g. the application's redirect_uri).
   * @param {(url: URL, browser: Browser) => void} [options.beforeRequest]  called before every
   *   request (e.g. to snapshot the cookie jar at some point of a redirect chain).
   */
  constructor({ name = 'browser', timeoutMs = DEFAULT_TIMEOUT_MS, stopAt = () => false, beforeRequest } = {}) {
    this.name = name;
    this.timeoutMs = timeoutMs;
    this.stopAt = stopAt;
    this.beforeRequest = beforeRequest;
    this.jar = new CookieJar();
    /** Every exchange made: { method, url, status, location } */
    this.history = [];
  }

  /** A second browser with a copy of this one's cookies (a snapshot). */
  clone(name = `${this.name}-clone`) {
    const b = new Browser({ name, timeoutMs: this.timeoutMs, stopAt: this.stopAt });
    b.jar = this.jar.clone();
    return b;
  }

  /**
   * One exchange, no redirect following.
   * @param {object} [o]
   * @param {string} [o.method]
   * @param {URLSearchParams|object} [o.form]  urlencoded body (POST)
   * @param {URL|string|null} [o.initiator]  the page that started this navigation (null: the user
   *   typed it); decides SameSite and the Referer/Origin headers
   * @param {URL[]} [o.chain]  earlier URLs of this redirect chain
   */
  async request(url, { method = 'GET', form, initiator = null, chain = [], headers = {} } = {}) {
    url = new URL(url);
    if (!isLoopbackHost(url.hostname)) throw new BrowserError(`${this.name}: refusing a non-loopback host: ${url.href}`);
    this.beforeRequest?.(url, this);
    const target = siteOf(url);
    const sites = [...(initiator ? [siteOf(initiator)] : []), ...chain.map((u) => siteOf(u))];
    const sameSite = sites.every((s) => s === target);
    const h = {
      accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8',
      'accept-language': 'en',
      'user-agent': 'gatehouse-federation-e2e-browser',
      ...headers,
    };
    const cookie = this.jar.header(url, { sameSite, topLevel: true, method });
    if (cookie) h.cookie = cookie;
    if (initiator) {
      const ref = new URL(initiator);
      // strict-origin-when-cross-origin, the browsers' default policy.
      h.referer = ref.origin === url.origin ? ref.href.replace(/#.*$/, '') : `${ref.origin}/`;
      if (method !== 'GET' && method !== 'HEAD') h.origin = ref.origin;
    }
    let body;
    if (form !== undefined) {
      body = (form instanceof URLSearchParams ? form : new URLSearchParams(form)).toString();
      h['content-type'] = 'application/x-www-form-urlencoded';
      h['content-length'] = Buffer.byteLength(body);
    }
    let res;
    try {
      res = await rawRequest(url, { method, headers: h, body, timeoutMs: this.timeoutMs });
    } catch (cause) {
      throw new BrowserError(`${this.name}: ${method} ${url.href} failed: ${cause.message}`, { cause, url: url.href });
    }
    const setCookies = [res.headers['set-cookie'] ?? []].flat();
    this.jar.store(url, setCookies);
    const out = {
      method,
      url,
      status: res.status,
      headers: res.headers,
      location: res.headers.location,
      body: res.body,
      setCookies,
    };
    this.history.push({ method, url: url.href, status: res.status, location: res.headers.location });
    if (process.env.BROWSER_TRACE === '1') {
      const sent = cookie ? cookie.split('; ').map((c) => c.split('=')[0]).join(',') : '-';
      const set = setCookies.map((c) => c.split(';')[0].split('=')[0] + (c.split(';').slice(1).map((a) => a.trim().toLowerCase()).find((a) => a.startsWith('samesite')) ? `(${c.split(';').slice(1).map((a) => a.trim()).find((a) => /^samesite/i.test(a))})` : '')).join(',') || '-';
      process.stderr.write(`[${this.name}] ${method} ${url.href} -> ${res.status}${res.headers.location ? ` ${res.headers.location}` : ''} | sent: ${sent} | set: ${set}${sameSite ? '' : ' | cross-site'}\n`);
    }
    return out;
  }

  /**
   * Navigates to `url` (or submits a form there) and follows redirects like a browser (303 and
   * 301/302 after POST become GET). Stops before requesting a URL for which `stopAt` (this
   * browser's, or the one given) is true.
   * Returns { page, stoppedAt, hops } — page: the last response (a non-redirect, or the redirect
   * whose Location was not followed); stoppedAt: the URL not requested, if any; hops: every
   * response on the way.
   */
  async navigate(url, { method = 'GET', form, initiator = null, stopAt = this.stopAt, maxHops = 25 } = {}) {
    let current = new URL(url);
    if (stopAt(current)) return { page: undefined, stoppedAt: current, hops: [] };
    const hops = [];
    const chain = [];
    let res = await this.request(current, { method, form, initiator, chain });
    hops.push(res);
    for (let n = 0; REDIRECTS.has(res.status) && res.location; n += 1) {
      const next = new URL(res.location, res.url);
      if (stopAt(next)) return { page: res, stoppedAt: next, hops };
      if (n >= maxHops) throw new BrowserError(`${this.name}: more than ${maxHops} redirects`, { response: res });
      chain.push(res.url);
      const keepMethod = res.status === 307 || res.status === 308;
      res = await this.request(next, {
        method: keepMethod ? method : 'GET',
        form: keepMethod ? form : undefined,
        initiator,
        chain,
      });
      hops.push(res);
    }
    return { page: res, stoppedAt: undefined, hops };
  }

  /** Follows a link found on `page` (a navigation initiated by that page). */
  follow(page, href, options = {}) {
    return this.navigate(new URL(href, baseUrl(page)), { ...options, initiator: page.url });
  }

  /**
   * Submits `form` (from parseForms) with `values` overriding/adding fields; `submitter` is the
   * { name, value } of the button pressed, if it has a name.
   */
  submit(page, form, values = {}, { submitter, ...options } = {}) {
    const data = formData(form, values, submitter);
    if (form.method === 'get') {
      const action = new URL(form.action);
      action.search = data.toString();
      return this.navigate(action, { ...options, initiator: page.url });
    }
    return this.navigate(form.action, { ...options, method: 'POST', form: data, initiator: page.url });
  }
}

// ---------------------------------------------------------------------------
// HTML
// ---------------------------------------------------------------------------

const NAMED_ENTITIES = {
  amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0', copy: '©', reg: '®',
  hellip: '…', mdash: '—', ndash: '–', lsquo: '‘', rsquo: '’', ldquo: '“', rdquo: '”',
  laquo: '«', raquo: '»', middot: '·', times: '×', bull: '•', euro: '€',
};

export function decodeEntities(text) {
  if (!text || !text.includes('&')) return text ?? '';
  return text.replace(/&(#[xX][0-9a-fA-F]+|#[0-9]+|[a-zA-Z][a-zA-Z0-9]*);?/g, (whole, ref) => {
    if (ref[0] === '#') {
      const code = ref[1] === 'x' || ref[1] === 'X' ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
      try {
        return Number.isFinite(code) && code > 0 ? String.fromCodePoint(code) : whole;
      } catch {
        return whole;
      }
    }
    const v = NAMED_ENTITIES[ref] ?? NAMED_ENTITIES[ref.toLowerCase()];
    return v ?? whole;
  });
}

const ATTRS = `((?:[^>"']|"[^"]*"|'[^']*')*)`;

export function parseAttributes(source) {
  const attributes = {};
  const re = /([^\s"'<>/=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?/g;
  for (const m of source.matchAll(re)) {
    const name = m[1].toLowerCase();
    if (name in attributes) continue;
    attributes[name] = decodeEntities(m[2] ?? m[3] ?? m[4] ?? '');
  }
  return attributes;
}

/** HTML without comments, scripts, styles and templates (their text is not markup). */
function stripNonMarkup(html) {
  return html
    .replace(/<!--[\s\S]*?-->/g, '')
    .replace(/<(script|style|template)\b[^>]*>[\s\S]*?<\/\1\s*>/gi, '');
}

export function textOf(fragment) {
  return decodeEntities(fragment.replace(/<[^>]*>/g, ' ')).replace(/\s+/g, ' ').trim();
}

function baseUrl(page) {
  const m = /<base\b((?:[^>"']|"[^"]*"|'[^']*')*)>/i.exec(stripNonMarkup(page.body ?? ''));
  const href = m && parseAttributes(m[1]).href;
  return href ? new URL(href, page.url) : page.url;
}

/**
 * Every <form> of the page: { action: URL, method, attrs, fields: [{ name, type, value, checked }],
 * buttons: [{ name, value, type, text }], text }.
 */
export function parseForms(page) {
  const html = stripNonMarkup(page.body ?? '');
  const base = baseUrl(page);
  const forms = [];
  const formRe = new RegExp(`<form\\b${ATTRS}>([\\s\\S]*?)(?:</form\\s*>|(?=<form\\b)|$)`, 'gi');
  for (const m of html.matchAll(formRe)) {
    const attrs = parseAttributes(m[1]);
    const inner = m[2];
    const fields = [];
    const buttons = [];
    const controlRe = new RegExp(`<(input|button|select|textarea)\\b${ATTRS}>`, 'gi');
    for (const c of inner.matchAll(controlRe)) {
      const tag = c[1].toLowerCase();
      const a = parseAttributes(c[2]);
      if ('disabled' in a) continue;
      const rest = inner.slice(c.index + c[0].length);
      if (tag === 'input') {
        const type = (a.type || 'text').toLowerCase();
        if (type === 'submit' || type === 'image') {
          buttons.push({ name: a.name, value: a.value ?? '', type, text: a.value ?? '' });
        } else if (type !== 'button' && type !== 'reset' && type !== 'file') {
          fields.push({ name: a.name, type, value: a.value ?? (type === 'checkbox' || type === 'radio' ? 'on' : ''), checked: 'checked' in a, attrs: a });
        }
      } else if (tag === 'button') {
        const end = rest.search(/<\/button\s*>/i);
        const type = (a.type || 'submit').toLowerCase();
        if (type === 'submit') buttons.push({ name: a.name, value: a.value ?? '', type, text: textOf(end < 0 ? '' : rest.slice(0, end)) });
      } else if (tag === 'select') {
        const end = rest.search(/<\/select\s*>/i);
        const options = [...(end < 0 ? '' : rest.slice(0, end)).matchAll(new RegExp(`<option\\b${ATTRS}>([^<]*)`, 'gi'))]
          .map((o) => ({ ...parseAttributes(o[1]), text: textOf(o[2]) }));
        const chosen = options.find((o) => 'selected' in o) ?? options[0];
        fields.push({ name: a.name, type: 'select', value: chosen ? (chosen.value ?? chosen.text) : '', checked: true, attrs: a, options });
      } else {
        const end = rest.search(/<\/textarea\s*>/i);
        fields.push({ name: a.name, type: 'textarea', value: decodeEntities(end < 0 ? '' : rest.slice(0, end)).replace(/^\r?\n/, ''), checked: true, attrs: a });
      }
    }
    forms.push({
      action: new URL(attrs.action || page.url.href, base),
      method: (attrs.method || 'get').toLowerCase(),
      attrs,
      fields: fields.filter((f) => f.name),
      buttons,
      text: textOf(inner),
    });
  }
  return forms;
}

/** The urlencoded data a browser would submit for `form`, with `values` filled in. */
export function formData(form, values = {}, submitter) {
  const data = new URLSearchParams();
  const given = new Set(Object.keys(values));
  for (const f of form.fields) {
    if (given.has(f.name)) continue;
    if ((f.type === 'checkbox' || f.type === 'radio') && !f.checked) continue;
    data.append(f.name, f.value);
  }
  for (const [k, v] of Object.entries(values)) {
    if (v === undefined || v === null) continue;
    for (const one of [v].flat()) data.append(k, String(one));
  }
  if (submitter?.name) data.append(submitter.name, submitter.value ?? '');
  return data;
}

/** Every <a href> of the page: { href: URL, text, attrs }. */
export function parseLinks(page) {
  const html = stripNonMarkup(page.body ?? '');
  const base = baseUrl(page);
  const links = [];
  for (const m of html.matchAll(new RegExp(`<a\\b${ATTRS}>([\\s\\S]*?)</a\\s*>`, 'gi'))) {
    const attrs = parseAttributes(m[1]);
    if (!attrs.href) continue;
    let href;
    try {
      href = new URL(attrs.href, base);
    } catch {
      continue;
    }
    links.push({ href, text: textOf(m[2]), attrs });
  }
  return links;
}

export function pageTitle(page) {
  const m = /<title\b[^>]*>([\s\S]*?)<\/title\s*>/i.exec(page.body ?? '');
  return m ? textOf(m[1]) : '';
}

// ---------------------------------------------------------------------------
// JWTs (no library: base64url + node:crypto)
// ---------------------------------------------------------------------------

export function decodeJwt(token) {
  const parts = String(token).split('.');
  if (parts.length !== 3) throw new Error(`not a JWS compact token (${parts.length} parts)`);
  const json = (s) => JSON.parse(Buffer.from(s, 'base64url').toString('utf8'));
  return { header: json(parts[0]), payload: json(parts[1]), signingInput: `${parts[0]}.${parts[1]}`, signature: Buffer.from(parts[2], 'base64url') };
}

const ALGS = {
  RS256: { hash: 'sha256' },
  RS384: { hash: 'sha384' },
  RS512: { hash: 'sha512' },
  PS256: { hash: 'sha256', pss: true },
  PS384: { hash: 'sha384', pss: true },
  PS512: { hash: 'sha512', pss: true },
};

/**
 * Verifies an RS/PS-signed JWT against a JWKS ({ keys: [...] }); returns { header, payload } or
 * throws. Only the signature and `alg` are checked here; claims are the caller's business.
 */
export function verifyJwt(token, jwks, { algorithms = ['RS256'] } = {}) {
  const { header, payload, signingInput, signature } = decodeJwt(token);
  if (!algorithms.includes(header.alg)) throw new Error(`alg ${header.alg} is not one of ${algorithms.join(', ')}`);
  const spec = ALGS[header.alg];
  if (!spec) throw new Error(`alg ${header.alg} is not supported by this verifier`);
  const candidates = (jwks?.keys ?? []).filter((k) => k.kty === 'RSA' && (!header.kid || k.kid === header.kid) && (!k.use || k.use === 'sig'));
  if (candidates.length === 0) throw new Error(`no RSA key with kid ${header.kid} in the JWKS`);
  for (const jwk of candidates) {
    const key = createPublicKey({ key: { kty: jwk.kty, n: jwk.n, e: jwk.e }, format: 'jwk' });
    const ok = cryptoVerify(
      spec.hash,
      Buffer.from(signingInput),
      spec.pss ? { key, padding: cryptoConstants.RSA_PKCS1_PSS_PADDING, saltLength: cryptoConstants.RSA_PSS_SALTLEN_DIGEST } : key,
      signature,
    );
    if (ok) return { header, payload };
  }
  throw new Error('signature does not verify');
}
