#!/bin/sh
# Creates Temporal's two PostgreSQL databases and migrates their schemas to the
# version this admin-tools image ships. Every step is idempotent (create skips
# an existing database, setup-schema creates missing tables, update-schema
# applies only newer versions), so it runs on every start.
set -eu
: "${POSTGRES_SEEDS:?}" "${POSTGRES_USER:?}" "${SQL_PASSWORD:?}"
DB_PORT=${DB_PORT:-5432}
schema=${TEMPORAL_HOME:-/etc/temporal}/schema/postgresql/v12

tries=0
until nc -z "$POSTGRES_SEEDS" "$DB_PORT"; do
	tries=$((tries + 1))
	if [ "$tries" -ge 60 ]; then
		echo "postgresql at $POSTGRES_SEEDS:$DB_PORT does not answer" >&2
		exit 1
	fi
	sleep 1
done

sqltool() {
	temporal-sql-tool --plugin postgres12 --ep "$POSTGRES_SEEDS" -p "$DB_PORT" -u "$POSTGRES_USER" "$@"
}
for pair in temporal:temporal temporal_visibility:visibility; do
	db=${pair%%:*}
	dir=${pair#*:}
	sqltool --db "$db" create
	sqltool --db "$db" setup-schema -v 0.0
	sqltool --db "$db" update-schema -d "$schema/$dir/versioned"
done
echo "temporal schema is up to date"
