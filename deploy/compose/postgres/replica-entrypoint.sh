#!/bin/sh
# The streaming replica. On its first start: wait for the primary, make sure the replica's
# replication slot exists (so the primary keeps the WAL this replica has yet to read), take a
# base backup with -R (standby.signal and primary_conninfo), then run as a hot standby.
set -eu
: "${PGDATA:=/var/lib/postgresql/data}"
if [ "$(id -u)" = 0 ]; then
  mkdir -p "$PGDATA"
  chown postgres:postgres "$PGDATA"
  chmod 700 "$PGDATA"
  exec setpriv --reuid=postgres --regid=postgres --init-groups "$0" "$@"
fi
: "${POSTGRES_REPLICATION_PASSWORD:?POSTGRES_REPLICATION_PASSWORD must be set}"
primary="${POSTGRES_PRIMARY_HOST:-postgres}"
slot="${POSTGRES_REPLICATION_SLOT:-replica_1}"
export PGPASSWORD="$POSTGRES_REPLICATION_PASSWORD"
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  until pg_isready -q -h "$primary" -U replicator -d postgres; do
    echo "waiting for the primary at $primary"
    sleep 1
  done
  pg_receivewal -h "$primary" -U replicator --create-slot --if-not-exists --slot "$slot"
  pg_basebackup -h "$primary" -U replicator -D "$PGDATA" -X stream --slot "$slot" -R \
    --checkpoint=fast
fi
unset PGPASSWORD
exec postgres -c hot_standby=on "$@"
