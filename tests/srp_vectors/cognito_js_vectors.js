// Test vectors for src/api/srp.rs from amazon-cognito-identity-js (see README.md).
const fs = require('fs');
const path = require('path');
const lib = process.env.COGNITO_JS || 'amazon-cognito-identity-js';
const AuthenticationHelper = require(lib + '/lib/AuthenticationHelper').default;
const BigInteger = require(lib + '/lib/BigInteger').default;
const { Sha256 } = require(require.resolve('@aws-crypto/sha256-js', { paths: [require.resolve(lib)] }));

const inp = JSON.parse(fs.readFileSync(path.join(__dirname, 'inputs.json'), 'utf8'));
const poolName = inp.pool_id.split('_')[1];
const helper = new AuthenticationHelper(poolName);
const N = helper.N, g = helper.g, k = helper.k;
// The library's modPow answers through a callback, synchronously.
const modPow = (base, e, m) => { let r; base.modPow(e, m, (err, x) => { if (err) throw err; r = x; }); return r; };

// Server side from the formulas, with the library's BigInteger and hashes.
const salt = new BigInteger(inp.salt, 16);
const x = new BigInteger(helper.hexHash(helper.padHex(salt) + helper.hash(`${poolName}${inp.user_id_for_srp}:${inp.password}`)), 16);
const v = modPow(g, x, N);
const b = new BigInteger(inp.b, 16);
const B = k.multiply(v).add(modPow(g, b, N)).mod(N);

helper.smallAValue = new BigInteger(inp.a, 16).mod(N);
helper.largeAValue = undefined;
helper.getLargeAValue((err, A) => {
  if (err) throw err;
  // What CognitoUser sends: SALT and SRP_B parsed as hex, as in authenticateUserDefaultAuth.
  const serverB = new BigInteger(B.toString(16), 16);
  const saltParam = new BigInteger(helper.padHex(salt), 16);
  helper.getPasswordAuthenticationKey(inp.user_id_for_srp, inp.password, serverB, saltParam, (err2, hkdf) => {
    if (err2) throw err2;
    const u = helper.UValue;
    const S = modPow(A.multiply(modPow(v, u, N)), b, N);
    const msg = Buffer.concat([Buffer.from(poolName, 'utf8'), Buffer.from(inp.user_id_for_srp, 'utf8'),
      Buffer.from(inp.secret_block, 'base64'), Buffer.from(inp.timestamp, 'utf8')]);
    const h = new Sha256(hkdf);
    h.update(msg);
    const signature = Buffer.from(h.digestSync()).toString('base64');
    console.log(JSON.stringify({
      k: k.toString(16), salt_param: helper.padHex(salt), verifier: helper.padHex(v), srp_a: A.toString(16),
      srp_b: B.toString(16), u: helper.padHex(u), s: helper.padHex(S), key: Buffer.from(hkdf).toString('hex'),
      signature, timestamp: inp.timestamp,
    }, null, 1));
  });
});
