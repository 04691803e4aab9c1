// amazon-cognito-identity-js against Gatehouse: SRP authenticateUser, newPasswordRequired,
// refreshSession, attributes and their verification, changePassword, globalSignOut, signUp and
// forgotPassword, with errors checked by `err.code`. See README.md.
import {
  AuthenticationDetails,
  CognitoRefreshToken,
  CognitoUser,
  CognitoUserAttribute,
  CognitoUserPool,
} from 'amazon-cognito-identity-js';
import {
  ENDPOINT, LEGACY_CLIENT, PASSWORD, POOL_ID, PUBLIC_CLIENT,
  check, codeFor, expect, expectError, finish, verifyAccessToken, verifyIdToken,
} from './common.mjs';

const NEW_PASSWORD = 'New-Horse-Battery-7';
const pool = new CognitoUserPool({ UserPoolId: POOL_ID, ClientId: PUBLIC_CLIENT, endpoint: ENDPOINT });
const legacyPool = new CognitoUserPool({ UserPoolId: POOL_ID, ClientId: LEGACY_CLIENT, endpoint: ENDPOINT });
const state = {};

const user = (Username, Pool = pool) => new CognitoUser({ Username, Pool });

/** authenticateUser as a promise; a challenge other than the one handled is a failure. */
function signIn(cognitoUser, Password, { onNewPassword } = {}) {
  return new Promise((resolve, reject) => {
    cognitoUser.authenticateUser(new AuthenticationDetails({ Username: cognitoUser.getUsername(), Password }), {
      onSuccess: resolve,
      onFailure: reject,
      newPasswordRequired(userAttributes, requiredAttributes) {
        if (!onNewPassword) return reject(new Error('unexpected NEW_PASSWORD_REQUIRED'));
        onNewPassword({ userAttributes, requiredAttributes, cognitoUser, resolve, reject });
      },
      mfaRequired: () => reject(new Error('unexpected SMS_MFA')),
      totpRequired: () => reject(new Error('unexpected SOFTWARE_TOKEN_MFA')),
      mfaSetup: () => reject(new Error('unexpected MFA_SETUP')),
      customChallenge: () => reject(new Error('unexpected CUSTOM_CHALLENGE')),
    });
  });
}

const call = (fn) => new Promise((resolve, reject) => fn((err, result) => (err ? reject(err) : resolve(result))));
/** The library's own transport, for a call with a token it has already forgotten. */
const request = (operation, params) => call((cb) => pool.client.request(operation, params, cb));

await check('authenticateUser (USER_SRP_AUTH)', async () => {
  const alice = user('alice');
  const session = await signIn(alice, PASSWORD);
  expect(session.isValid(), 'a valid session');
  const claims = await verifyIdToken(session.getIdToken().getJwtToken(), PUBLIC_CLIENT, 'alice');
  expect(claims.email === 'alice@example.com' && claims.email_verified === true, claims);
  const access = await verifyAccessToken(session.getAccessToken().getJwtToken());
  expect(access.scope === 'aws.cognito.signin.user.admin', access.scope);
  state.alice = alice;
  state.session = session;
});

await check('authenticateUser with the email alias', async () => {
  const session = await signIn(user('alice@example.com'), PASSWORD);
  await verifyIdToken(session.getIdToken().getJwtToken(), PUBLIC_CLIENT, 'alice');
});

await check('authenticateUser USER_PASSWORD_AUTH', async () => {
  const alice = user('alice');
  alice.setAuthenticationFlowType('USER_PASSWORD_AUTH');
  const session = await signIn(alice, PASSWORD);
  await verifyIdToken(session.getIdToken().getJwtToken(), PUBLIC_CLIENT, 'alice');
});

await check('authenticateUser errors', async () => {
  await expectError('NotAuthorizedException', signIn(user('alice'), 'Wrong-Horse-1'), 'Incorrect username or password.');
  await expectError('NotAuthorizedException', signIn(user('nobody'), PASSWORD));
  await expectError('UserNotFoundException', signIn(user('nobody', legacyPool), PASSWORD));
  await expectError('UserNotConfirmedException', signIn(user('uma'), PASSWORD));
  await expectError('PasswordResetRequiredException', signIn(user('rita'), PASSWORD));
});

await check('newPasswordRequired and completeNewPasswordChallenge', async () => {
  let seen;
  const session = await signIn(user('nina'), PASSWORD, {
    onNewPassword({ userAttributes, requiredAttributes, cognitoUser, resolve, reject }) {
      seen = { userAttributes, requiredAttributes };
      cognitoUser.completeNewPasswordChallenge(NEW_PASSWORD, {}, {
        onSuccess: resolve,
        onFailure: reject,
        newPasswordRequired: () => reject(new Error('NEW_PASSWORD_REQUIRED again')),
      });
    },
  });
  expect(seen.userAttributes && Array.isArray(seen.requiredAttributes), seen);
  await verifyIdToken(session.getIdToken().getJwtToken(), PUBLIC_CLIENT, 'nina');
  const again = await signIn(user('nina'), NEW_PASSWORD);
  await verifyIdToken(again.getIdToken().getJwtToken(), PUBLIC_CLIENT, 'nina');
});

await check('refreshSession (REFRESH_TOKEN_AUTH)', async () => {
  const refresh = new CognitoRefreshToken({ RefreshToken: state.session.getRefreshToken().getToken() });
  const session = await call((cb) => state.alice.refreshSession(refresh, cb));
  await verifyIdToken(session.getIdToken().getJwtToken(), PUBLIC_CLIENT, 'alice');
  state.session = session;
});

await check('getUserAttributes and updateAttributes', async () => {
  const before = await call((cb) => state.alice.getUserAttributes(cb));
  const map = Object.fromEntries(before.map((a) => [a.getName(), a.getValue()]));
  expect(map.email === 'alice@example.com' && map.name === 'Alice', map);
  await call((cb) => state.alice.updateAttributes([new CognitoUserAttribute({ Name: 'name', Value: 'Alice B' })], cb));
  const after = await call((cb) => state.alice.getUserAttributes(cb));
  expect(after.find((a) => a.getName() === 'name')?.getValue() === 'Alice B', after);
});

await check('a new email verified with verifyAttribute', async () => {
  await call((cb) => state.alice.updateAttributes([new CognitoUserAttribute({ Name: 'email', Value: 'alice@new.example' })], cb));
  const code = await codeFor('alice@new.example');
  const wrong = code === '000000' ? '111111' : '000000';
  const verify = (c) => new Promise((resolve, reject) => state.alice.verifyAttribute('email', c, { onSuccess: resolve, onFailure: reject }));
  await expectError('CodeMismatchException', verify(wrong));
  await verify(code);
  const attributes = await call((cb) => state.alice.getUserAttributes(cb));
  const map = Object.fromEntries(attributes.map((a) => [a.getName(), a.getValue()]));
  expect(map.email === 'alice@new.example' && map.email_verified === 'true', map);
});

await check('changePassword', async () => {
  await expectError('NotAuthorizedException', call((cb) => state.alice.changePassword('Wrong-Horse-1', NEW_PASSWORD, cb)));
  await expectError('InvalidPasswordException', call((cb) => state.alice.changePassword(PASSWORD, 'weak', cb)));
  await call((cb) => state.alice.changePassword(PASSWORD, NEW_PASSWORD, cb));
  await expectError('NotAuthorizedException', signIn(user('alice'), PASSWORD));
  const fresh = user('alice');
  state.session = await signIn(fresh, NEW_PASSWORD);
  state.alice = fresh;
});

await check('globalSignOut', async () => {
  const access = state.session.getAccessToken().getJwtToken();
  await request('GetUser', { AccessToken: access });
  await new Promise((resolve, reject) => state.alice.globalSignOut({ onSuccess: resolve, onFailure: reject }));
  await expectError('NotAuthorizedException', request('GetUser', { AccessToken: access }));
  const refresh = new CognitoRefreshToken({ RefreshToken: state.session.getRefreshToken().getToken() });
  await expectError('NotAuthorizedException', call((cb) => user('alice').refreshSession(refresh, cb)));
});

await check('signUp and confirmRegistration', async () => {
  const attributes = [new CognitoUserAttribute({ Name: 'email', Value: 'jess@example.com' })];
  const result = await call((cb) => pool.signUp('jess', PASSWORD, attributes, null, cb));
  expect(result.userConfirmed === false && result.userSub, result);
  expect(result.codeDeliveryDetails?.DeliveryMedium === 'EMAIL', result.codeDeliveryDetails);
  const jess = user('jess');
  await expectError('UserNotConfirmedException', signIn(jess, PASSWORD));
  const code = await codeFor('jess@example.com');
  const wrong = code === '000000' ? '111111' : '000000';
  await expectError('CodeMismatchException', call((cb) => jess.confirmRegistration(wrong, false, cb)));
  await call((cb) => jess.confirmRegistration(code, false, cb));
  const session = await signIn(user('jess'), PASSWORD);
  const claims = await verifyIdToken(session.getIdToken().getJwtToken(), PUBLIC_CLIENT, 'jess');
  expect(claims.email_verified === true, claims);
});

await check('signUp errors', async () => {
  const attributes = [new CognitoUserAttribute({ Name: 'email', Value: 'other@example.com' })];
  await expectError('UsernameExistsException', call((cb) => legacyPool.signUp('alice', PASSWORD, attributes, null, cb)));
  await expectError('InvalidPasswordException', call((cb) => pool.signUp('kim', 'short', attributes, null, cb)));
});

await check('forgotPassword and confirmPassword', async () => {
  const jess = user('jess');
  await new Promise((resolve, reject) => jess.forgotPassword({ onSuccess: resolve, onFailure: reject, inputVerificationCode: resolve }));
  const code = await codeFor('jess@example.com', 1);
  const confirm = (c, p) => new Promise((resolve, reject) => jess.confirmPassword(c, p, { onSuccess: resolve, onFailure: reject }));
  await expectError('CodeMismatchException', confirm(code === '000000' ? '111111' : '000000', NEW_PASSWORD));
  await confirm(code, NEW_PASSWORD);
  await signIn(user('jess'), NEW_PASSWORD);
});

await check('deleteUser', async () => {
  const jess = user('jess');
  await signIn(jess, NEW_PASSWORD);
  await call((cb) => jess.deleteUser(cb));
  await expectError('NotAuthorizedException', signIn(user('jess'), NEW_PASSWORD));
});

finish();
