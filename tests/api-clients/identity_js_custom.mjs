// amazon-cognito-identity-js's custom authentication against Gatehouse's CUSTOM_AUTH
// (docs/triggers.md, "Custom authentication challenges"): `initiateAuth`, answered through the
// library's `customChallenge` callback and `sendCustomChallengeAnswer`. (Its `authenticateUser`
// with the CUSTOM_AUTH flow type expects SRP's PASSWORD_VERIFIER first, which Gatehouse does not
// run inside CUSTOM_AUTH.) Run by tests/it/triggers_challenge.rs
// with a pool whose hooks ask the three questions of tests/hooks/challenge.py.
import { AuthenticationDetails, CognitoUser, CognitoUserPool } from 'amazon-cognito-identity-js';
import { ENDPOINT, POOL_ID, PUBLIC_CLIENT, check, errorCode, expect, finish } from './common.mjs';

const pool = new CognitoUserPool({ UserPoolId: POOL_ID, ClientId: PUBLIC_CLIENT, endpoint: ENDPOINT });
const ANSWERS = { 1: '5', 2: 'blue', 3: '8' };

/** Signs in with `initiateAuth`, answering each question with `answer(round)`; resolves the
 * session, rejects the library's error. */
function signIn(answer) {
  const user = new CognitoUser({ Username: 'carol', Pool: pool });
  user.setAuthenticationFlowType('CUSTOM_AUTH');
  const rounds = [];
  return new Promise((resolve, reject) => {
    const callbacks = {
      onSuccess: (session) => resolve({ session, rounds }),
      onFailure: reject,
      customChallenge(params) {
        expect(params.USERNAME === 'carol' && !('answer' in params), params);
        rounds.push(params.round);
        user.sendCustomChallengeAnswer(answer(params.round), callbacks, { app: 'identity-js' });
      },
    };
    const details = new AuthenticationDetails({ Username: 'carol', ClientMetadata: { app: 'identity-js' } });
    user.initiateAuth(details, callbacks);
  });
}

await check('initiateAuth with three right answers', async () => {
  const { session, rounds } = await signIn((round) => ANSWERS[round]);
  expect(session.isValid(), 'a valid session');
  expect(rounds.join(',') === '1,2,3', rounds);
  const claims = JSON.parse(Buffer.from(session.getIdToken().getJwtToken().split('.')[1], 'base64url'));
  expect(claims['cognito:username'] === 'carol', claims);
});

await check('a wrong answer ends in NotAuthorizedException', async () => {
  try {
    await signIn((round) => (round === '2' ? 'green' : ANSWERS[round]));
  } catch (e) {
    expect(errorCode(e) === 'NotAuthorizedException', `${errorCode(e)}: ${e.message}`);
    return;
  }
  throw new Error('signed in with a wrong answer');
});

finish();
