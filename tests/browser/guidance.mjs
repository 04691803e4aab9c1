// Checks that the hosted pages guide a person, at 1280 and 390 px: the first input has focus when
// a page opens, the focus ring has at least 3:1 contrast against what surrounds it (WCAG 2.2,
// 1.4.11 and 2.4.13), a bad submit marks each wrong input with aria-invalid and aria-describedby
// and moves focus to the first one, and typed values (never passwords) are kept. See README.md.

const VIEWPORTS = [
  ['1280 px', { viewport: { width: 1280, height: 800 } }, 'desktop'],
  ['390 px', { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 1 }, 'mobile'],
];

/** `rgb(…)` / `rgba(…)` as numbers; anything else (`transparent`) is fully transparent. */
function parseColour(text) {
  const match = /rgba?\(([^)]*)\)/.exec(text ?? '');
  if (!match) return { r: 0, g: 0, b: 0, a: 0 };
  const [r, g, b, a = 1] = match[1].split(/[\s,/]+/).filter(Boolean).map(Number);
  return { r, g, b, a };
}

/** `top` painted over the opaque `bottom`. */
function over(top, bottom) {
  const mix = (t, b) => t * top.a + b * (1 - top.a);
  return { r: mix(top.r, bottom.r), g: mix(top.g, bottom.g), b: mix(top.b, bottom.b), a: 1 };
}

/** Relative luminance (WCAG 2.2, "relative luminance"). */
function luminance({ r, g, b }) {
  const linear = (c) => {
    const s = c / 255;
    return s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b);
}

export function contrast(a, b) {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}

/**
 * The focused input's ring colour (outline, else box-shadow), the first opaque background behind
 * the input and the page's (body's) background, as computed by the browser.
 */
async function ringColours(page, selector) {
  await page.focus(selector);
  return page.locator(selector).evaluate((input) => {
    const style = getComputedStyle(input);
    const transparent = (c) => c === 'transparent' || /rgba\([^)]*,\s*0\)$/.test(c);
    let ring = null;
    if (style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0) ring = style.outlineColor;
    else if (style.boxShadow && style.boxShadow !== 'none') ring = /rgba?\([^)]*\)/.exec(style.boxShadow)?.[0] ?? null;
    let backdrop = 'rgb(255, 255, 255)';
    for (let el = input.parentElement; el; el = el.parentElement) {
      const bg = getComputedStyle(el).backgroundColor;
      if (!transparent(bg)) {
        backdrop = bg;
        break;
      }
    }
    const bodyBg = [document.body, document.documentElement]
      .map((el) => getComputedStyle(el).backgroundColor)
      .find((bg) => !transparent(bg)) ?? 'rgb(255, 255, 255)';
    return { focused: document.activeElement === input, ring, backdrop, body: bodyBg };
  });
}

/** What a bad submit left on each input: invalid flag, its description's text, its value. */
function inputStates(page, ids) {
  return page.evaluate((ids) => ids.map((id) => {
    const input = document.getElementById(id);
    if (!input) return { id, missing: true };
    const described = (input.getAttribute('aria-describedby') ?? '').split(/\s+/).filter(Boolean);
    const texts = described.map((d) => document.getElementById(d)?.textContent.trim() ?? null);
    return {
      id,
      invalid: input.getAttribute('aria-invalid'),
      errorText: texts.find((t, i) => described[i].endsWith('-error')) ?? null,
      dangling: described.filter((d, i) => texts[i] === null),
      value: input.value,
    };
  }), ids);
}

function activeId(page) {
  return page.evaluate(() => document.activeElement?.id ?? null);
}

export function guidanceChecks({ check, assert, withPage, openSignIn, expectPath, screenshot, PLAIN_CLIENT, STYLED_CLIENT }) {
  async function openSignUp(page, env) {
    await openSignIn(page, env, PLAIN_CLIENT);
    await page.click('a[href*="/signup?"]');
    await expectPath(page, '/signup');
  }

  /** The first input has focus at load: sign-in (both looks) and sign-up. Saves the screenshots. */
  async function focusAtLoad(browser, env, options, look) {
    const seen = [];
    for (const [label, clientId, file] of [
      ['sign-in', PLAIN_CLIENT, 'signin-default-mobile.png'],
      ['styled sign-in', STYLED_CLIENT, 'signin-custom-mobile.png'],
    ]) {
      await withPage(browser, options, async (page) => {
        await openSignIn(page, env, clientId);
        const id = await activeId(page);
        assert(id === 'signInFormUsername', `${label}: focus at load is on #${id}`);
        // The desktop sign-in screenshots come from the customized-client check.
        if (look === 'mobile') await screenshot(page, file);
        seen.push(`${label} #${id}`);
      });
    }
    await withPage(browser, options, async (page) => {
      await openSignUp(page, env);
      const id = await activeId(page);
      assert(id === 'field-username', `sign-up: focus at load is on #${id}`);
      if (look === 'mobile') await screenshot(page, 'signup-mobile.png');
      seen.push(`sign-up #${id}`);
    });
    return seen.join(', ');
  }

  /** The ring of the focused input against its backdrop and the page, default and styled look. */
  async function focusRing(browser, env, options) {
    const found = [];
    for (const [label, clientId] of [['plain', PLAIN_CLIENT], ['styled', STYLED_CLIENT]]) {
      await withPage(browser, options, async (page) => {
        await openSignIn(page, env, clientId);
        for (const selector of ['#signInFormUsername', '#signInFormPassword']) {
          const c = await ringColours(page, selector);
          assert(c.focused, `${label} ${selector} did not take focus`);
          assert(c.ring, `${label} ${selector}: no outline or box-shadow when focused`);
          const backdrop = over(parseColour(c.backdrop), { r: 255, g: 255, b: 255, a: 1 });
          const body = over(parseColour(c.body), { r: 255, g: 255, b: 255, a: 1 });
          const ring = over(parseColour(c.ring), backdrop);
          const [againstBackdrop, againstBody] = [contrast(ring, backdrop), contrast(ring, body)];
          assert(againstBackdrop >= 3, `${label} ${selector}: ring ${c.ring} on ${c.backdrop} is ${againstBackdrop.toFixed(2)}:1`);
          assert(againstBody >= 3, `${label} ${selector}: ring ${c.ring} on the body's ${c.body} is ${againstBody.toFixed(2)}:1`);
          found.push(`${label} ${againstBackdrop.toFixed(1)}:1`);
        }
      });
    }
    return [...new Set(found)].join(', ');
  }

  /** Sign-up with four problems at once: each input marked and described; values kept. */
  async function signUpErrors(browser, env, options, look) {
    return withPage(browser, options, async (page) => {
      await openSignUp(page, env);
      await page.fill('#field-username', 'walt@example.com');
      await page.fill('#field-email', 'not-an-email');
      await page.fill('#password', 'short');
      await page.click('input[name="signUpButton"]');
      await page.locator('#loginErrorMessage').waitFor({ state: 'visible' });
      await expectPath(page, '/signup');
      const ids = ['field-username', 'field-email', 'field-given_name', 'password'];
      const states = await inputStates(page, ids);
      const problems = [];
      for (const s of states) {
        if (s.missing) problems.push(`#${s.id} missing`);
        else if (s.invalid !== 'true') problems.push(`#${s.id} aria-invalid=${s.invalid}`);
        else if (!s.errorText) problems.push(`#${s.id} not described by a non-empty -error element`);
        if (s.dangling?.length) problems.push(`#${s.id} described by missing ${s.dangling.join(' ')}`);
      }
      const value = (id) => states.find((s) => s.id === id)?.value;
      if (value('field-username') !== 'walt@example.com') problems.push(`username not kept: "${value('field-username')}"`);
      if (value('field-email') !== 'not-an-email') problems.push(`email not kept: "${value('field-email')}"`);
      if (value('password') !== '') problems.push('the password came back');
      const focus = await activeId(page);
      if (focus !== 'field-username') problems.push(`focus after the error is on #${focus}`);
      assert(problems.length === 0, problems.join('; '));
      await screenshot(page, `signup-errors-${look}.png`);
      return `${ids.length} inputs marked, each described by its message; focus on #${focus}`;
    });
  }

  /** Empty sign-in names each missing input; a typed username is kept and focus moves on. */
  async function signInErrors(browser, env, options) {
    return withPage(browser, options, async (page) => {
      await openSignIn(page, env, PLAIN_CLIENT);
      await page.click('input[name="signInSubmitButton"]');
      await page.locator('#signInFormUsername-error').waitFor({ state: 'visible' });
      let [user, pass] = await inputStates(page, ['signInFormUsername', 'signInFormPassword']);
      assert(user.invalid === 'true' && user.errorText === 'Enter your username.', `username: ${JSON.stringify(user)}`);
      assert(pass.invalid === 'true' && pass.errorText === 'Enter your password.', `password: ${JSON.stringify(pass)}`);
      await page.fill('#signInFormUsername', 'somebody');
      await page.click('input[name="signInSubmitButton"]');
      await page.locator('#signInFormPassword-error').waitFor({ state: 'visible' });
      [user, pass] = await inputStates(page, ['signInFormUsername', 'signInFormPassword']);
      assert(user.value === 'somebody' && user.invalid === null, `username after the second try: ${JSON.stringify(user)}`);
      assert(pass.invalid === 'true', `password after the second try: ${JSON.stringify(pass)}`);
      const focus = await activeId(page);
      assert(focus === 'signInFormPassword', `focus after the second try is on #${focus}`);
      return `"${pass.errorText}" with the username kept; focus on #${focus}`;
    });
  }

  return async function runGuidance(browser, env) {
    for (const [size, options, look] of VIEWPORTS) {
      await check(`${size}: the first input has focus when sign-in and sign-up open`, () =>
        focusAtLoad(browser, env, options, look));
      await check(`${size}: the focus ring has at least 3:1 against its backdrop and the page (plain and styled)`, () =>
        focusRing(browser, env, options));
      await check(`${size}: a bad sign-up marks every wrong input (aria-invalid, aria-describedby) and keeps values`, () =>
        signUpErrors(browser, env, options, look));
      await check(`${size}: an empty sign-in names each missing input; the username is kept`, () =>
        signInErrors(browser, env, options));
    }
  };
}
