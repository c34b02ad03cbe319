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
# A run replaces the token in both (the rest of .env stays). Both files are yours alone
# to change; the token file is readable by the collector's user too
# (scripts/lib/private-files.sh); run with sudo, both stay yours. The token is never
# printed. The collector re-reads its file when it changes: recreate the app to send
# the new one.
set -euo pipefail
here=$(dirname "$0")
. "$here/lib/compose-version.sh"
. "$here/lib/private-files.sh"
require_compose

dir=${1:-"$here/.."}
umask 077
mkdir -p "$dir/secrets"
owned_by_you "$dir/secrets"
scratch_in "$dir"

# 32 random bytes, URL-safe: nothing that needs escaping in .env or in the header.
token=$(python3 -c 'import secrets; print(secrets.token_urlsafe(32))')

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
