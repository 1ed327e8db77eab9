#!/bin/sh
# Starts PostgreSQL 15 on $PGDATA, listening on every address with password
# (SCRAM) logins. On the first start (an empty data directory) it makes the
# cluster with the superuser POSTGRES_USER / POSTGRES_PASSWORD and the
# database POSTGRES_DB. Later starts ignore those: the password lives in the
# volume, as with the official image.
set -eu
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  : "${POSTGRES_PASSWORD:?postgres: POSTGRES_PASSWORD must be set to make the database}"
  user="${POSTGRES_USER:-postgres}"
  db="${POSTGRES_DB:-$user}"
  pwfile="$(mktemp)"
  printf '%s\n' "$POSTGRES_PASSWORD" > "$pwfile"
  initdb -D "$PGDATA" -U "$user" --pwfile="$pwfile" -A scram-sha-256 -E UTF8 --locale=C >/dev/null
  rm -f "$pwfile"
  echo "host all all all scram-sha-256" >> "$PGDATA/pg_hba.conf"
  if [ "$db" != postgres ]; then
    echo "CREATE DATABASE \"$db\"" | postgres --single -D "$PGDATA" -j postgres >/dev/null
  fi
  echo "postgres: made the cluster with role $user and database $db"
fi
exec postgres -D "$PGDATA" -c listen_addresses='*' -c unix_socket_directories=/tmp
