#!/usr/bin/env bash
# Makes the token of the collector variants, in the two places that use it:
#
#   ./scripts/make-token.sh [DIR]        (default DIR: the project folder)
#
#   DIR/secrets/collector-token   read by the collector (a compose secret, mounted at
#                                 /run/secrets/collector_token): the token it demands
#   DIR/.env                      COLLECTOR_AUTH_TOKEN=<token>, which compose puts in
#                                 the app's OTEL_EXPORTER_OTLP_HEADERS
#
# A run replaces the token in both (the rest of .env stays). Both files are private to
# you (and, for the token file, to the containers' user); the token is never printed.
# The collector re-reads its file when it changes: recreate the app to send the new one.
set -euo pipefail
. "$(dirname "$0")/lib/readable-by-containers.sh"

dir=${1:-"$(dirname "$0")/.."}
umask 077
mkdir -p "$dir/secrets"

# 32 random bytes, URL-safe: nothing that needs escaping in .env or in the header.
token=$(python3 -c 'import secrets; print(secrets.token_urlsafe(32))')

printf '%s\n' "$token" > "$dir/secrets/collector-token"
readable_by_containers "$dir/secrets/collector-token"

touch "$dir/.env"
{ grep -v '^COLLECTOR_AUTH_TOKEN=' "$dir/.env" || true; echo "COLLECTOR_AUTH_TOKEN=$token"; } > "$dir/.env.new"
mv "$dir/.env.new" "$dir/.env"
chmod 600 "$dir/.env"
echo "token in $dir/secrets/collector-token and $dir/.env"
