// The AWS SDK for JavaScript v3 (@aws-sdk/client-cognito-identity-provider) against Gatehouse:
// admin actions signed with the admin key, public actions without credentials, ListUsers with
// its paginator, timestamps as Date, errors by `err.name` and class. See README.md.
import {
  AdminAddUserToGroupCommand,
  AdminCreateUserCommand,
  AdminGetUserCommand,
  AdminInitiateAuthCommand,
  AdminListGroupsForUserCommand,
  AdminSetUserPasswordCommand,
  CognitoIdentityProviderClient,
  DescribeUserPoolCommand,
  GetUserCommand,
  InitiateAuthCommand,
  ListUserPoolsCommand,
  ListUsersCommand,
  NotAuthorizedException,
  UserNotFoundException,
  paginateListUsers,
} from '@aws-sdk/client-cognito-identity-provider';
import {
  ADMIN_KEY, ADMIN_SECRET, ENDPOINT, PASSWORD, POOL_ID, PUBLIC_CLIENT, READ_KEY,
  check, expect, expectError, finish, verifyAccessToken, verifyIdToken,
} from './common.mjs';

const NEW_PASSWORD = 'New-Horse-Battery-7';
const signed = (accessKeyId = ADMIN_KEY, secretAccessKey = ADMIN_SECRET) =>
  new CognitoIdentityProviderClient({ endpoint: ENDPOINT, region: 'local', credentials: { accessKeyId, secretAccessKey }, maxAttempts: 1 });
const admin = signed();
// No credentials at all: the public actions need none.
const anonymous = new CognitoIdentityProviderClient({ endpoint: ENDPOINT, region: 'local', maxAttempts: 1 });
const state = {};

const signIn = (client, USERNAME, PASSWORD_) =>
  client.send(new InitiateAuthCommand({ ClientId: PUBLIC_CLIENT, AuthFlow: 'USER_PASSWORD_AUTH', AuthParameters: { USERNAME, PASSWORD: PASSWORD_ } }));

await check('DescribeUserPool and ListUserPools', async () => {
  const { UserPool } = await admin.send(new DescribeUserPoolCommand({ UserPoolId: POOL_ID }));
  expect(UserPool.Id === POOL_ID, UserPool);
  expect(UserPool.CreationDate instanceof Date && !Number.isNaN(UserPool.CreationDate.getTime()), `${UserPool.CreationDate}`);
  const { UserPools } = await admin.send(new ListUserPoolsCommand({ MaxResults: 60 }));
  expect(UserPools.some((p) => p.Id === POOL_ID), UserPools);
});

await check('AdminCreateUser and AdminGetUser', async () => {
  const { User } = await admin.send(new AdminCreateUserCommand({
    UserPoolId: POOL_ID,
    Username: 'v3user',
    TemporaryPassword: 'Temp-Passw0rd!',
    MessageAction: 'SUPPRESS',
    UserAttributes: [{ Name: 'email', Value: 'v3@example.com' }, { Name: 'email_verified', Value: 'true' }],
  }));
  expect(User.Username === 'v3user' && User.UserStatus === 'FORCE_CHANGE_PASSWORD', User);
  expect(User.UserCreateDate instanceof Date, `${User.UserCreateDate}`);
  const got = await admin.send(new AdminGetUserCommand({ UserPoolId: POOL_ID, Username: 'v3user' }));
  expect(got.UserAttributes.some((a) => a.Name === 'email' && a.Value === 'v3@example.com'), got);
  expect(got.UserLastModifiedDate instanceof Date, `${got.UserLastModifiedDate}`);
});

await check('AdminInitiateAuth NEW_PASSWORD_REQUIRED, then AdminSetUserPassword', async () => {
  const first = await admin.send(new AdminInitiateAuthCommand({
    UserPoolId: POOL_ID, ClientId: PUBLIC_CLIENT, AuthFlow: 'ADMIN_USER_PASSWORD_AUTH',
    AuthParameters: { USERNAME: 'v3user', PASSWORD: 'Temp-Passw0rd!' },
  }));
  expect(first.ChallengeName === 'NEW_PASSWORD_REQUIRED' && first.Session, first);
  await admin.send(new AdminSetUserPasswordCommand({ UserPoolId: POOL_ID, Username: 'v3user', Password: NEW_PASSWORD, Permanent: true }));
  const { AuthenticationResult } = await signIn(anonymous, 'v3user', NEW_PASSWORD);
  await verifyIdToken(AuthenticationResult.IdToken, PUBLIC_CLIENT, 'v3user');
});

await check('InitiateAuth without credentials, GetUser', async () => {
  const { AuthenticationResult } = await signIn(anonymous, 'alice', PASSWORD);
  const claims = await verifyIdToken(AuthenticationResult.IdToken, PUBLIC_CLIENT, 'alice');
  expect(claims['cognito:groups']?.includes('readers'), claims);
  await verifyAccessToken(AuthenticationResult.AccessToken);
  const me = await anonymous.send(new GetUserCommand({ AccessToken: AuthenticationResult.AccessToken }));
  expect(me.Username === 'alice', me);
  state.tokens = AuthenticationResult;
});

await check('InitiateAuth from a signed client', async () => {
  const { AuthenticationResult } = await signIn(admin, 'alice', PASSWORD);
  await verifyIdToken(AuthenticationResult.IdToken, PUBLIC_CLIENT, 'alice');
});

await check('groups', async () => {
  await admin.send(new AdminAddUserToGroupCommand({ UserPoolId: POOL_ID, Username: 'v3user', GroupName: 'admins' }));
  const { Groups } = await admin.send(new AdminListGroupsForUserCommand({ UserPoolId: POOL_ID, Username: 'v3user' }));
  expect(Groups.map((g) => g.GroupName).join() === 'admins', Groups);
  expect(Groups[0].CreationDate instanceof Date, Groups[0]);
});

await check('ListUsers filter and paginateListUsers', async () => {
  const { Users } = await admin.send(new ListUsersCommand({ UserPoolId: POOL_ID, Filter: 'email = "v3@example.com"' }));
  expect(Users.map((u) => u.Username).join() === 'v3user', Users);
  const names = [];
  for await (const page of paginateListUsers({ client: admin, pageSize: 2 }, { UserPoolId: POOL_ID })) {
    expect(page.Users.length <= 2, page.Users);
    names.push(...page.Users.map((u) => u.Username));
  }
  expect(new Set(names).size === names.length, names);
  for (const name of ['alice', 'nina', 'rita', 'uma', 'v3user']) expect(names.includes(name), `${name} in ${names}`);
});

await check('errors by name and class', async () => {
  const missing = await expectError('UserNotFoundException', admin.send(new AdminGetUserCommand({ UserPoolId: POOL_ID, Username: 'nobody' })));
  expect(missing instanceof UserNotFoundException && missing.$metadata.httpStatusCode === 400, missing.$metadata);
  const wrong = await expectError('NotAuthorizedException', signIn(anonymous, 'alice', 'Wrong-Horse-1'), 'Incorrect username or password.');
  expect(wrong instanceof NotAuthorizedException, wrong);
  await expectError('UsernameExistsException', admin.send(new AdminCreateUserCommand({ UserPoolId: POOL_ID, Username: 'alice', MessageAction: 'SUPPRESS' })));
  await expectError('ResourceNotFoundException', admin.send(new DescribeUserPoolCommand({ UserPoolId: 'local_NoSuchPool' })));
  await expectError('InvalidParameterException', admin.send(new ListUsersCommand({ UserPoolId: POOL_ID, Filter: 'email alice' })));
  await expectError('AccessDeniedException', signed(READ_KEY).send(new AdminCreateUserCommand({ UserPoolId: POOL_ID, Username: 'x', MessageAction: 'SUPPRESS' })));
  await expectError('InvalidSignatureException', signed(ADMIN_KEY, 'wrong-secret').send(new ListUsersCommand({ UserPoolId: POOL_ID })));
  await expectError('NotAuthorizedException', anonymous.send(new GetUserCommand({ AccessToken: 'not-a-token' })));
});

finish();
