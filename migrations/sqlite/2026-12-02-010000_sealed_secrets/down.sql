ALTER TABLE app_clients DROP COLUMN secret_sealed;
