# Sourced by make-certs.sh and make-token.sh, which a user runs before the first
# `docker compose up` of the TLS and collector variants.
#
# The scale variant's overlay replaces settings of compose.yaml's Jaeger with `!override`
# (its networks, environment, volume). Docker Compose before 2.24.4 does not know the
# tag and merges them instead, silently. Refused here, naming the version found. (No
# overlay needs it to keep Jaeger's receiver off the host: compose.yaml does not
# publish it.)

MINIMUM_COMPOSE=2.24.4

require_compose() {
  local found
  # No Docker Compose here (certificates made for another machine, say): nothing to check.
  found=$(docker compose version --short 2>/dev/null) || return 0
  found=${found#v}
  if [ "$(printf '%s\n%s\n' "$MINIMUM_COMPOSE" "$found" | sort -V | head -n 1)" != "$MINIMUM_COMPOSE" ]; then
    echo "error: Docker Compose $found is too old: the TLS and collector variants need $MINIMUM_COMPOSE or newer" \
      "(older releases ignore \`!override\`, which the scale variant's overlay needs)" >&2
    exit 3
  fi
}
