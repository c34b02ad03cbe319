#!/usr/bin/env bash
# Makes the token of the collector variants, in the two places that use it, and the
# passwords of the scale variant's Kafka and Cassandra:
#
#   ./scripts/make-token.sh [DIR]        (default DIR: the project folder)
#
#   DIR/secrets/collector-token   read by the collector (a compose secret, mounted at
#                                 /run/secrets/collector_token): the token it demands
#   DIR/.env                      COLLECTOR_AUTH_TOKEN=<token>, which compose puts in
#                                 the app's OTEL_EXPORTER_OTLP_HEADERS
#   DIR/secrets/kafka/            admin-password, jaeger-password: read by Kafka (user 1000)
#   DIR/secrets/cassandra/        admin-password, jaeger-password: read by the
#                                 cassandra-setup task (user 999)
#   DIR/secrets/jaeger/           kafka-password, cassandra-password: read by the Jaeger
#                                 roles (user 10001); the same as the engines' jaeger-password
#
# A run replaces the token in both places (the rest of .env stays). The passwords are
# made once: Kafka and Cassandra keep them in their volumes, so a later run keeps them
# too, and makes only those missing (docs/security.md says how to change one). Every
# file is yours alone to change, and readable by the one container user that reads it
# (scripts/lib/private-files.sh); run with sudo, they stay yours. No token or password
# is ever printed. The collector re-reads its file when it changes: recreate the app to
# send the new token.
set -euo pipefail
here=$(dirname "$0")
. "$here/lib/compose-version.sh"
. "$here/lib/private-files.sh"
require_compose

dir=${1:-"$here/.."}
secrets=$dir/secrets
refuse_links "$secrets" "$secrets"/{kafka,cassandra,jaeger} "$dir/.env" "$secrets/collector-token" \
  "$secrets"/{kafka,cassandra}/{admin,jaeger}-password "$secrets"/jaeger/{kafka,cassandra}-password
umask 077
mkdir -p "$secrets"/{kafka,cassandra,jaeger}
# Yours alone, also where an earlier version (or you) made them 0755.
chmod 700 "$secrets" "$secrets"/{kafka,cassandra,jaeger}
owned_by_you "$secrets" "$secrets"/{kafka,cassandra,jaeger}
scratch_in "$dir"

# 32 random bytes, URL-safe: nothing that needs escaping in .env, in the header, in
# Kafka's `--add-scram` (no comma) or in CQL.
random_secret() {
  python3 -c 'import secrets; print(secrets.token_urlsafe(32))'
}

token=$(random_secret)

# .env is made whole beside it, then put in its place in one step.
{ grep -v '^COLLECTOR_AUTH_TOKEN=' "$dir/.env" 2>/dev/null || true; echo "COLLECTOR_AUTH_TOKEN=$token"; } \
  > "$scratch/env"
owned_by_you "$scratch/env"
mv "$scratch/env" "$dir/.env"

# The token file is rewritten where it is, not replaced: compose mounts the file itself
# into the running collector, which would go on seeing a replaced one's old content.
printf '%s\n' "$token" > "$dir/secrets/collector-token"
readable_by 10001 "$dir/secrets/collector-token"
echo "token in $dir/secrets/collector-token and $dir/.env"

# password UID:FILE...: one password in each FILE (under secrets/), readable by its
# container user UID. The files that exist give it, else it is new; a missing file is
# made whole beside it, then put in its place. Written without a newline: Jaeger reads
# the file's exact bytes.
password() {
  local value="" entry file
  for entry in "$@"; do
    file=$dir/secrets/${entry#*:}
    if [ -s "$file" ]; then
      value=$(<"$file")
      break
    fi
  done
  if [ -z "$value" ]; then
    value=$(random_secret)
  fi
  for entry in "$@"; do
    file=$dir/secrets/${entry#*:}
    if [ ! -s "$file" ]; then
      printf '%s' "$value" > "$scratch/password"
      mv "$scratch/password" "$file"
    fi
    readable_by "${entry%%:*}" "$file"
  done
}
password 1000:kafka/admin-password
password 1000:kafka/jaeger-password 10001:jaeger/kafka-password
password 999:cassandra/admin-password
password 999:cassandra/jaeger-password 10001:jaeger/cassandra-password
echo "passwords of the scale variant in $dir/secrets/kafka, cassandra and jaeger"
