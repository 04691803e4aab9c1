-- Confidential clients' secrets sealed with the operator's key, for SECRET_HASH (docs/deployment.md, "Encryption key").
ALTER TABLE app_clients ADD COLUMN secret_sealed TEXT;
