-- Each service its own database and role (run once as the postgres superuser, e.g.
-- psql -v ON_ERROR_STOP=1 -f create-databases.sql). Passwords are set afterwards with
-- \password kozomol_<service>; the services get KOZOMOL_<SERVICE>_DATABASE_URL.
CREATE ROLE kozomol_gateway LOGIN;
CREATE ROLE kozomol_checker LOGIN;
CREATE ROLE kozomol_printer LOGIN;
CREATE ROLE kozomol_backup LOGIN;
CREATE DATABASE kozomol_gateway OWNER kozomol_gateway;
CREATE DATABASE kozomol_checker OWNER kozomol_checker;
CREATE DATABASE kozomol_printer OWNER kozomol_printer;
CREATE DATABASE kozomol_backup OWNER kozomol_backup;
