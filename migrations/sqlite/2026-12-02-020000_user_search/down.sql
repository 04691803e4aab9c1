ALTER TABLE user_groups DROP COLUMN source;
DROP TABLE user_search;
