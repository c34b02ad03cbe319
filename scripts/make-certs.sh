#!/usr/bin/env bash
# Makes a private CA and the certificates the TLS variants of the stack use:
#
#   ./scripts/make-certs.sh [DIR]        (default DIR: ./certs, git-ignored)
#
#   ca/ca.key, ca/ca.pem     the private CA: never mounted into a container
#   server/                  mounted at /certs in Jaeger and the collector:
#     ca.pem                 the CA, to check client certificates (mTLS)
#     server.pem, server.key SANs: jaeger, otel-collector, localhost, 127.0.0.1
#   client/                  mounted at /certs in the app:
#     ca.pem                 the CA the app trusts (OTEL_EXPORTER_OTLP_CERTIFICATE)
#     client.pem, client.key the app's certificate, for mTLS
#
# Each container mounts only its own folder, so the app cannot read the server's key
# and the servers cannot read the app's. The CA may sign only end certificates
# (pathlen:0). For development and tests: certificates last 30 days. In production,
# get certificates from your own CA (docs/security.md).
#
# Key files are readable by their owner and the containers' user only
# (scripts/lib/readable-by-containers.sh says how).
set -euo pipefail
. "$(dirname "$0")/lib/readable-by-containers.sh"

dir=${1:-"$(dirname "$0")/../certs"}
mkdir -p "$dir"/{ca,server,client}
cd "$dir"

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

issue server server jaeger serverAuth "DNS:jaeger,DNS:otel-collector,DNS:localhost,IP:127.0.0.1"
issue client client inprocess-grpc clientAuth
rm -f ca/ca.srl
chmod 700 ca

readable_by_containers server/server.key client/client.key
echo "certificates in $(pwd)"
