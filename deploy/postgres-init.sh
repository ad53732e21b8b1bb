#!/bin/sh
# Run once by the postgres image on an empty data folder. Per subgraph:
#   fixup_<name>_owner     NOLOGIN; owns the database, its schema and every table
#   fixup_<name>_migrator  login, member of the owner; its sessions in the
#                          database start as the owner (SET role), so it runs
#                          the migrations and what they create belongs to the owner
#   fixup_<name>           login, the service's runtime role: CONNECT, schema
#                          USAGE, and row privileges the owner's default
#                          privileges grant (a migration narrows them, as audit's does)
# PUBLIC gets nothing. The same as foundation/postgres-admin.ts does for npm start.
# Passwords come from <SUBGRAPH>_DB_PASSWORD and <SUBGRAPH>_DB_MIGRATOR_PASSWORD;
# the subgraph list from FIXUP_SUBGRAPHS.
set -eu
for name in $FIXUP_SUBGRAPHS; do
  upper=$(echo "$name" | tr '[:lower:]' '[:upper:]')
  password=$(printenv "${upper}_DB_PASSWORD")
  migrator_password=$(printenv "${upper}_DB_MIGRATOR_PASSWORD")
  psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
    -v db="fixup_$name" -v role="fixup_$name" -v owner="fixup_${name}_owner" -v migrator="fixup_${name}_migrator" \
    -v password="$password" -v migrator_password="$migrator_password" <<'SQL'
CREATE ROLE :"owner" WITH NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT NOREPLICATION NOBYPASSRLS;
CREATE ROLE :"migrator" WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT NOREPLICATION NOBYPASSRLS PASSWORD :'migrator_password';
CREATE ROLE :"role" WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT NOREPLICATION NOBYPASSRLS PASSWORD :'password';
GRANT :"owner" TO :"migrator";
CREATE DATABASE :"db" OWNER :"owner";
REVOKE ALL ON DATABASE :"db" FROM PUBLIC;
GRANT CONNECT ON DATABASE :"db" TO :"role", :"migrator";
ALTER ROLE :"migrator" IN DATABASE :"db" SET role = :'owner';
\connect :"db"
ALTER SCHEMA public OWNER TO :"owner";
REVOKE ALL ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO :"role";
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO :"role";
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO :"role";
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" IN SCHEMA public GRANT EXECUTE ON FUNCTIONS TO :"role";
SQL
done
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres <<'SQL'
REVOKE CONNECT ON DATABASE postgres FROM PUBLIC;
REVOKE CONNECT ON DATABASE template1 FROM PUBLIC;
SQL
