#!/usr/bin/env bash
# Makes a private CA and the certificates the TLS variants of the stack use:
#
#   ./scripts/make-certs.sh [DIR]        (default DIR: ./certs, git-ignored)
#
#   ca/ca.key, ca/ca.pem          the private CA: never mounted into a container
#   jaeger/                       mounted at /certs in Jaeger (compose.jaeger-tls.yaml)
#     ca.pem                      the CA, to check client certificates (mTLS)
#     server.pem, server.key      SANs: jaeger, localhost, 127.0.0.1
#   collector/                    mounted at /certs in the collector (compose.collector-tls.yaml)
#     ca.pem                      the CA, to check client certificates (mTLS)
#     server.pem, server.key      SANs: otel-collector, localhost, 127.0.0.1
#   client/                       mounted at /certs in the app
#     ca.pem                      the CA the app trusts (OTEL_EXPORTER_OTLP_CERTIFICATE)
#     client.pem, client.key      the app's certificate, for mTLS
#
# Each container mounts only its own folder, so no container can read another's key,
# and each server has a key of its own. The CA may sign only end certificates
# (pathlen:0). For trying the stack: certificates last 30 days. In production,
# get certificates from your own CA (docs/security.md).
#
# A run replaces all of them, or, interrupted, none. Keys are yours alone to change,
# and readable by their container's user (scripts/lib/private-files.sh says how); run
# with sudo, everything stays yours.
set -euo pipefail
here=$(dirname "$0")
. "$here/lib/compose-version.sh"
. "$here/lib/private-files.sh"
require_compose

dir=${1:-"$here/../certs"}
refuse_links "$dir" "$dir"/{ca,jaeger,collector,client}
mkdir -p "$dir"
# Yours alone: a host account with the containers' uid 10001 (the same number on the
# host) would read the keys through the path. The containers still read their folder:
# the engine mounts it, and no container walks this one.
chmod 700 "$dir"
# Absolute: the work below happens in the scratch folder, where a relative path (the
# default's ./scripts/../certs) would lead elsewhere.
dir=$(cd "$dir" && pwd)
owned_by_you "$dir"
scratch_in "$dir"
cd "$scratch"
mkdir ca jaeger collector client

openssl_quiet() { openssl "$@" 2>/dev/null; }

# ECDSA P-256: small and fast, and accepted by Go, gRPC's BoringSSL and OpenSSL.
key() { (umask 077 && openssl_quiet genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1"); }

key ca/ca.key
openssl_quiet req -x509 -new -key ca/ca.key -sha256 -days 30 -subj "/CN=otel-python-jaeger reference CA" \
  -addext "basicConstraints=critical,CA:TRUE,pathlen:0" -addext "keyUsage=critical,keyCertSign,cRLSign" \
  -out ca/ca.pem

# issue FOLDER NAME CN EXTENDED_KEY_USAGE [SUBJECT_ALT_NAMES]
issue() {
  local folder=$1 name=$2 cn=$3 usage=$4 sans=${5:-}
  key "$folder/$name.key"
  openssl_quiet req -new -key "$folder/$name.key" -subj "/CN=$cn" -out "$folder/$name.csr"
  {
    echo "basicConstraints=critical,CA:FALSE"
    echo "keyUsage=critical,digitalSignature"
    echo "extendedKeyUsage=$usage"
    [ -z "$sans" ] || echo "subjectAltName=$sans"
  } > "$folder/$name.ext"
  openssl_quiet x509 -req -in "$folder/$name.csr" -CA ca/ca.pem -CAkey ca/ca.key -CAcreateserial -days 30 -sha256 \
    -extfile "$folder/$name.ext" -out "$folder/$name.pem"
  rm -f "$folder/$name.csr" "$folder/$name.ext"
  cp ca/ca.pem "$folder/ca.pem"
  chmod 644 "$folder/$name.pem" "$folder/ca.pem"
}

issue jaeger server jaeger serverAuth "DNS:jaeger,DNS:localhost,IP:127.0.0.1"
issue collector server otel-collector serverAuth "DNS:otel-collector,DNS:localhost,IP:127.0.0.1"
issue client client inprocess-grpc clientAuth
rm -f ca/ca.srl
chmod 700 ca
chmod 755 jaeger collector client
owned_by_you -R ca jaeger collector client
chmod 600 ca/ca.key
readable_by 10001 jaeger/server.key collector/server.key client/client.key

# All made: now they replace the old ones (and the single server/ folder of earlier
# versions, whose key Jaeger and the collector shared).
for folder in ca jaeger collector client server; do
  rm -rf "${dir:?}/$folder"
  [ ! -e "$folder" ] || mv "$folder" "$dir/$folder"
done
echo "certificates in $dir"
