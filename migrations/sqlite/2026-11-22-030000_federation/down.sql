DROP TABLE user_identities;
DROP TABLE federation_requests;
