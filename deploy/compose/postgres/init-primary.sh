#!/bin/sh
# The primary's first start (run by the image's entrypoint, once): the role the replica streams
# as, with its own line in pg_hba.conf, and the split services' two databases beside `taskyard`.
set -eu
: "${POSTGRES_REPLICATION_PASSWORD:?POSTGRES_REPLICATION_PASSWORD must be set}"
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
  -v replication_password="$POSTGRES_REPLICATION_PASSWORD" <<'SQL'
CREATE ROLE replicator WITH REPLICATION LOGIN PASSWORD :'replication_password';
CREATE DATABASE taskyard_auth;
CREATE DATABASE taskyard_tasks;
SQL
echo "host replication replicator all scram-sha-256" >> "$PGDATA/pg_hba.conf"
