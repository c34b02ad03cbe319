#!/usr/bin/env bash
# Cassandra's roles for the scale variant, made or brought up to date; run by compose's
# one-shot cassandra-setup service (the cassandra image, its cqlsh) at each `up`, before
# any Jaeger role starts. Its exit status is the service's: 0 once every statement below
# has run.
#
#   CASSANDRA_SERVER                host:port of Cassandra's native port
#   CASSANDRA_ADMIN_PASSWORD_FILE   the password of `admin`, the superuser made here
#   CASSANDRA_JAEGER_PASSWORD_FILE  the password of `jaeger`, the Jaeger roles' login
#
# Cassandra 5.0 makes the superuser cassandra/cassandra on its first start, a few
# seconds after its port opens, and has no setting to change that. So the first run logs
# in as it, makes `admin` a superuser with its own password, and, as `admin`, takes
# `cassandra` its login and its superuser status; every later run logs in as `admin`.
# Then `jaeger`, with the password of its file each time (a new file, a new password).
#
# Passwords never reach a command line: the shell's own printf writes them to cqlsh's
# input and to its credentials file, private to this run, removed at its end.
set -euo pipefail

server=${CASSANDRA_SERVER:?set CASSANDRA_SERVER to the host:port of Cassandra}
host=${server%:*}
port=${server##*:}

# password FILE: the file's content, which goes into CQL between quotes: letters, digits,
# - and _ only (./scripts/make-token.sh makes them so).
password() {
  local value
  value=$(<"$1")
  if [[ ! $value =~ ^[A-Za-z0-9_-]+$ ]]; then
    echo "cassandra-setup: $1: a password of letters, digits, - and _ only (./scripts/make-token.sh makes one)" >&2
    exit 2
  fi
  printf '%s' "$value"
}
admin_password=$(password "${CASSANDRA_ADMIN_PASSWORD_FILE:?set CASSANDRA_ADMIN_PASSWORD_FILE}")
jaeger_password=$(password "${CASSANDRA_JAEGER_PASSWORD_FILE:?set CASSANDRA_JAEGER_PASSWORD_FILE}")

umask 077
credentials=$(mktemp)
trap 'rm -f "$credentials"' EXIT

# as USER PASSWORD: the login of the cqlsh runs that follow.
as() {
  printf '[PlainTextAuthProvider]\nusername = %s\npassword = %s\n' "$1" "$2" > "$credentials"
}
# CQL statements on stdin, run by cqlsh as the last `as`; its status (1: not logged in,
# 2: a statement failed).
cql() {
  cqlsh --credentials "$credentials" "$host" "$port"
}
logs_in() {
  as "$@"
  echo "SELECT release_version FROM system.local;" | cql > /dev/null 2>&1
}

# Until `admin` or the default superuser logs in: the latter only exists some seconds
# after Cassandra's port opens (compose starts this service then). A bounded wait: 60
# tries, 2 s apart, each as long as cqlsh takes to be refused.
superuser=""
for _ in $(seq 60); do
  if logs_in admin "$admin_password"; then
    superuser=admin
    break
  elif logs_in cassandra cassandra; then
    superuser=cassandra
    break
  fi
  sleep 2
done
case $superuser in
  admin) ;;
  cassandra)
    printf "CREATE ROLE IF NOT EXISTS admin WITH SUPERUSER = true AND LOGIN = true AND PASSWORD = '%s';\n" \
      "$admin_password" | cql
    as admin "$admin_password"
    ;;
  *)
    echo "cassandra-setup: neither admin (the password in $CASSANDRA_ADMIN_PASSWORD_FILE) nor the default" \
      "superuser cassandra logs in to $server: a password file newer than Cassandra's volume? (docs/security.md)" >&2
    exit 1
    ;;
esac

# As admin. A role cannot take its own superuser status, hence not as cassandra above.
# The query role creates Jaeger's keyspace and tables (schema.create in
# scale/jaeger-query.yaml), so that the schema stays Jaeger's own, of its version:
# `jaeger` may create keyspaces (Jaeger asks for it even when the keyspace exists: IF NOT
# EXISTS is checked after the permission), and Cassandra grants a role every permission
# on what it creates, its keyspace's tables included. Nothing else: no other keyspace's
# data, no roles.
# three: also ALTER KEYSPACE system_auth WITH replication = {'class':
# 'NetworkTopologyStrategy', 'dc1': 3}, so that logins do not depend on one node.
printf '%s\n' \
  "ALTER ROLE IF EXISTS cassandra WITH SUPERUSER = false AND LOGIN = false;" \
  "CREATE ROLE IF NOT EXISTS jaeger WITH LOGIN = true AND PASSWORD = '$jaeger_password';" \
  "ALTER ROLE jaeger WITH PASSWORD = '$jaeger_password';" \
  "GRANT CREATE ON ALL KEYSPACES TO jaeger;" | cql
echo "cassandra-setup: the roles admin and jaeger are ready, and the login of cassandra is off"
