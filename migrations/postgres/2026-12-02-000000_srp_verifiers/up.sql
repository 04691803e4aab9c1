-- SRP verifiers for USER_SRP_AUTH (docs/api.md): salt and verifier, sealed with the operator's key.
ALTER TABLE users ADD COLUMN srp_verifier TEXT;
