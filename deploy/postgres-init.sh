#!/bin/sh
# Run once by the postgres image on an empty data folder: one database and one
# login role per subgraph, each role able to reach its own database only.
# Passwords come from <SUBGRAPH>_DB_PASSWORD; the subgraph list from FIXUP_SUBGRAPHS.
set -eu
for name in $FIXUP_SUBGRAPHS; do
  upper=$(echo "$name" | tr '[:lower:]' '[:upper:]')
  password=$(printenv "${upper}_DB_PASSWORD")
  psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
    -v role="fixup_$name" -v password="$password" <<'SQL'
CREATE ROLE :"role" WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT NOREPLICATION PASSWORD :'password';
CREATE DATABASE :"role" OWNER :"role";
REVOKE ALL ON DATABASE :"role" FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE :"role" TO :"role";
SQL
done
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres <<'SQL'
REVOKE CONNECT ON DATABASE postgres FROM PUBLIC;
REVOKE CONNECT ON DATABASE template1 FROM PUBLIC;
SQL
