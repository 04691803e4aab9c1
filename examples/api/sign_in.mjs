// Sign a user in with SRP through amazon-cognito-identity-js and read their attributes
// (docs/api.md).
//
//   npm ci --prefix examples/api
//   GATEHOUSE_ENDPOINT=http://127.0.0.1:8080/ GATEHOUSE_POOL_ID=local_Example01 \
//   GATEHOUSE_CLIENT_ID=... node examples/api/sign_in.mjs alice 'Correct-Horse-9'
import { AuthenticationDetails, CognitoUser, CognitoUserPool } from 'amazon-cognito-identity-js';

const [Username, Password] = process.argv.slice(2);
const pool = new CognitoUserPool({
  UserPoolId: process.env.GATEHOUSE_POOL_ID ?? 'local_Example01', // the region comes from the id
  ClientId: process.env.GATEHOUSE_CLIENT_ID,
  endpoint: process.env.GATEHOUSE_ENDPOINT ?? 'http://127.0.0.1:8080/',
});
const user = new CognitoUser({ Username, Pool: pool });

const session = await new Promise((resolve, reject) =>
  user.authenticateUser(new AuthenticationDetails({ Username, Password }), {
    onSuccess: resolve,
    onFailure: reject,
    newPasswordRequired: () => reject(new Error('choose a new password first')),
  }),
);
const claims = session.getIdToken().decodePayload();
console.log('signed in as', claims['cognito:username'], claims.email);

const attributes = await new Promise((resolve, reject) =>
  user.getUserAttributes((err, result) => (err ? reject(err) : resolve(result))),
);
console.log(attributes.map((a) => `${a.getName()}=${a.getValue()}`).join(' '));
