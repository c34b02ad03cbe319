# Sourced by make-certs.sh and make-token.sh, which a user runs before the first
# `docker compose up` of the TLS and collector variants.
#
# Those overlays replace lists of compose.yaml with `!override` (Jaeger's published
# ports, networks): that is what keeps Jaeger's receiver off the host, so that only the
# collector, with its token, reaches it. Docker Compose before 2.24.4 does not know the
# tag and merges the lists instead, silently. Refused here, naming the version found.

MINIMUM_COMPOSE=2.24.4

require_compose() {
  local found
  # No Docker Compose here (certificates made for another machine, say): nothing to check.
  found=$(docker compose version --short 2>/dev/null) || return 0
  found=${found#v}
  if [ "$(printf '%s\n%s\n' "$MINIMUM_COMPOSE" "$found" | sort -V | head -n 1)" != "$MINIMUM_COMPOSE" ]; then
    echo "error: Docker Compose $found is too old: the TLS and collector variants need $MINIMUM_COMPOSE or newer" \
      "(older releases ignore \`!override\` and would publish Jaeger's receiver around the token)" >&2
    exit 3
  fi
}
