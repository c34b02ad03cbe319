# Sourced by make-certs.sh and make-token.sh: makes private files (mode 600) readable
# by the containers' user 10001 as well, without making them readable by anyone else.
#
# The containers run as user 10001, not as you. Run as root (sudo), the file is given
# to 10001; otherwise 10001 gets read access through an ACL (setfacl, Linux); with
# neither (macOS), Docker Desktop's file sharing gives containers your own access.

readable_by_containers() {
  local file
  for file in "$@"; do
    chmod 600 "$file"
    if [ "$(id -u)" = 0 ]; then
      chown 10001 "$file"
    elif command -v setfacl >/dev/null; then
      setfacl -m "u:10001:r" "$file"
    elif [ "$(uname -s)" = Linux ]; then
      echo "error: $file must be readable by the containers' user 10001:" \
        "run this script with sudo, or install setfacl (package acl)" >&2
      exit 1
    fi
  done
}
