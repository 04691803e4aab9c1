ALTER TABLE users DROP COLUMN srp_verifier;
