#!/usr/bin/env bash
# Makes a private CA and the certificates the TLS variants of the stack use:
#
#   ./scripts/make-certs.sh [DIR]        (default DIR: ./certs, git-ignored)
#
#   ca.pem                   the private CA; the app trusts it (OTEL_EXPORTER_OTLP_CERTIFICATE),
#                            servers check client certificates against it (mTLS)
#   server.pem, server.key   for Jaeger and the collector; SANs: jaeger, otel-collector,
#                            localhost, 127.0.0.1
#   client.pem, client.key   the app's certificate, for mTLS
#
# For development and tests only: the CA key stays in DIR, certificates last 30 days.
# In production, get certificates from your own CA (see the README).
set -euo pipefail

dir=${1:-"$(dirname "$0")/../certs"}
mkdir -p "$dir"
cd "$dir"

openssl_quiet() { openssl "$@" 2>/dev/null; }

# ECDSA P-256: small and fast, and accepted by Go, gRPC's BoringSSL and OpenSSL.
key() { openssl_quiet genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1"; }

key ca.key
openssl_quiet req -x509 -new -key ca.key -sha256 -days 30 -subj "/CN=otel-python-jaeger reference CA" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" -out ca.pem

# issue NAME CN EXTENDED_KEY_USAGE [SUBJECT_ALT_NAMES]
issue() {
  local name=$1 cn=$2 usage=$3 sans=${4:-}
  key "$name.key"
  openssl_quiet req -new -key "$name.key" -subj "/CN=$cn" -out "$name.csr"
  {
    echo "basicConstraints=critical,CA:FALSE"
    echo "keyUsage=critical,digitalSignature"
    echo "extendedKeyUsage=$usage"
    [ -z "$sans" ] || echo "subjectAltName=$sans"
  } > "$name.ext"
  openssl_quiet x509 -req -in "$name.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -days 30 -sha256 \
    -extfile "$name.ext" -out "$name.pem"
  rm -f "$name.csr" "$name.ext"
}

issue server jaeger serverAuth "DNS:jaeger,DNS:otel-collector,DNS:localhost,IP:127.0.0.1"
issue client inprocess-grpc clientAuth
rm -f ca.srl

# The containers run as other users than the one running this script: the certificate
# and key files they mount must be readable by them. The CA key is not mounted.
chmod 644 ca.pem server.pem server.key client.pem client.key
chmod 600 ca.key
echo "certificates in $(pwd)"
