# Sourced by make-certs.sh and make-token.sh: files only you can change, readable by one
# container's user besides, made whole or not at all.
#
# The containers do not run as you: the app, Jaeger and the collector as 10001, Kafka
# as 1000, Cassandra as 999. A key or token must be readable by its container's user
# and by nobody else, and writable by you only, never by that user:
#
# - mode 600, owned by you: with sudo, by the user who ran sudo (SUDO_UID), so that
#   `docker compose` and the next run of the script, as yourself, can still read and
#   replace what sudo wrote;
# - read access for the container's user through an ACL (setfacl, package acl);
# - where there is no setfacl, run as root: the file's group becomes the container's
#   (mode 640), so its user reads it through the group and cannot write it;
# - with neither (macOS), Docker Desktop's file sharing gives containers your own access.

owner_uid=${SUDO_UID:-$(id -u)}
owner_gid=${SUDO_GID:-$(id -g)}

# owned_by_you PATH...: what root writes stays yours (see above). `-h`: a link's own owner.
owned_by_you() {
  if [ "$(id -u)" = 0 ]; then
    chown -h "$owner_uid:$owner_gid" "$@"
  fi
}

# refuse_links PATH...: stops (exit 5) at the first PATH that is a symbolic link. Run as
# root, the script would otherwise write, chmod or chown whatever a link planted there
# points to (/etc/shadow, say). Called before anything is written.
refuse_links() {
  local path
  for path in "$@"; do
    if [ -L "$path" ]; then
      echo "error: $path is a symbolic link: remove it (the script writes only files of its own)" >&2
      exit 5
    fi
  done
}

# readable_by UID FILE...: private to you, and readable (never writable) by container user UID.
readable_by() {
  local uid=$1 file
  shift
  for file in "$@"; do
    chmod 600 "$file"
    owned_by_you "$file"
    if command -v setfacl >/dev/null; then
      setfacl -m "u:$uid:r" "$file"
    elif [ "$(id -u)" = 0 ]; then
      chgrp "$uid" "$file"
      chmod 640 "$file"
    elif [ "$(uname -s)" = Linux ]; then
      echo "error: $file must be readable by the containers' user $uid:" \
        "install setfacl (package acl), or run this script with sudo" >&2
      exit 1
    fi
  done
}

# scratch_in DIR: a new private folder in DIR, named in $scratch, removed when the script
# ends, however it ends (Ctrl+C included): half-made files never replace whole ones.
# The traps come first, and know the folder's name before it exists: a signal at any
# moment leaves nothing behind. (DIR is the user's own private folder; mkdir fails on a
# name that exists, a link included.)
scratch_in() {
  scratch=""
  trap '[ -z "$scratch" ] || rm -rf "$scratch"' EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  scratch=$(mktemp -u "$1/.new.XXXXXX")
  mkdir -m 700 "$scratch"
}
