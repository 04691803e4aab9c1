DROP TABLE retired_attributes;
