"""Test vectors for src/api/srp.rs from pycognito's AWSSRP (see README.md)."""
import datetime, json, os, sys

from pycognito import aws_srp
from pycognito.aws_srp import AWSSRP, calculate_u, hex_hash, hash_sha256, hex_to_long, long_to_hex, pad_hex

inp = json.load(open(os.path.join(os.path.dirname(__file__), "inputs.json")))
srp = AWSSRP(inp["user_id_for_srp"], inp["password"], inp["pool_id"], "client", client=object())
N, g, k = srp.big_n, srp.val_g, srp.val_k

# The server side, written from the formulas (pycognito has only the client).
salt_param = pad_hex(hex_to_long(inp["salt"]))
pool_name = inp["pool_id"].split("_")[1]
x = hex_to_long(hex_hash(pad_hex(salt_param) + hash_sha256(f"{pool_name}{inp['user_id_for_srp']}:{inp['password']}".encode())))
v = pow(g, x, N)
b = hex_to_long(inp["b"])
B = (k * v + pow(g, b, N)) % N

srp.small_a_value = hex_to_long(inp["a"]) % N
srp.large_a_value = srp.calculate_a()
A = srp.large_a_value
u = calculate_u(A, B)
S_server = pow(A * pow(v, u, N), b, N)
key = srp.get_password_authentication_key(inp["user_id_for_srp"], inp["password"], B, salt_param)
fmt = AWSSRP.get_cognito_formatted_timestamp
AWSSRP.get_cognito_formatted_timestamp = staticmethod(lambda _dt: inp["timestamp"])
resp = srp.process_challenge(
    {"USER_ID_FOR_SRP": inp["user_id_for_srp"], "SALT": salt_param, "SRP_B": long_to_hex(B),
     "SECRET_BLOCK": inp["secret_block"], "USERNAME": inp["user_id_for_srp"]},
    {"USERNAME": inp["user_id_for_srp"]},
)
json.dump({
    "k": long_to_hex(k), "salt_param": salt_param, "verifier": pad_hex(v), "srp_a": long_to_hex(A),
    "srp_b": long_to_hex(B), "u": pad_hex(u), "s": pad_hex(S_server), "key": key.hex(),
    "signature": resp["PASSWORD_CLAIM_SIGNATURE"], "timestamp": resp["TIMESTAMP"],
       "formatted_2026_12_01_09_05_07": fmt(datetime.datetime(2026, 12, 1, 9, 5, 7)),
}, sys.stdout, indent=1)
print()
