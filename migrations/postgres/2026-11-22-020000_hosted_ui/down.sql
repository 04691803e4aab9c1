DROP TABLE user_mfa;
DROP TABLE user_codes;
