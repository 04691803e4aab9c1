DROP TABLE sign_in_failures;
DROP TABLE refresh_tokens;
DROP TABLE authorization_codes;
DROP TABLE token_families;
DROP TABLE sessions;
