DROP TABLE user_import_rejections;
DROP TABLE user_import_jobs;
