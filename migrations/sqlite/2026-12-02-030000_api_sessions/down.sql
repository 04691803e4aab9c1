DROP TABLE api_auth_sessions;
