#!/usr/bin/env bash
# Makes a local certificate authority and one certificate per Customer 360 process, for running the services with
# TLS (mutual between services) on a development machine or in a test. Not for production: there, issue the same
# names from your own CA (cert-manager, Vault, …).
#
#   scripts/dev-certs.sh [DIR]          write DIR/ca.pem, DIR/ca.key and DIR/<name>.pem + DIR/<name>.key (default: ./data/tls)
#   scripts/dev-certs.sh DIR NAME…      (re)issue only these names with the CA already in DIR
#
# Each certificate's subject common name is the process's name — gateway, profile-service, interaction-service,
# feedback-service, success-service, outreach-service, and `operator` for ops tools (demo-data, bench, backups) —
# which the services check against each RPC's allow-list (Proto/customer360/v1/access.proto, `callers`). Server
# names: the process's name, its Kubernetes Service (c360-<short name>), localhost and 127.0.0.1. Keys are ECDSA
# P-256; certificates last 825 days; keys are readable by their owner only.
set -euo pipefail

dir=${1:-./data/tls}
shift || true
names=("$@")
if ((${#names[@]} == 0)); then
  names=(gateway profile-service interaction-service feedback-service success-service outreach-service operator)
fi
mkdir -p "$dir"
umask 077

if [[ ! -s "$dir/ca.pem" || ! -s "$dir/ca.key" ]]; then
  openssl ecparam -name prime256v1 -genkey -noout -out "$dir/ca.key"
  openssl req -x509 -new -key "$dir/ca.key" -sha256 -days 3650 -subj "/O=Customer 360 dev/CN=Customer 360 dev CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" -out "$dir/ca.pem" 2>/dev/null
  echo "CA          $dir/ca.pem"
fi

for name in "${names[@]}"; do
  short=${name%-service}
  # The gateway's replicas reach its authority through the Service c360-gateway-authority (deploy/kubernetes-sharded).
  extra=""
  [[ $name == gateway ]] && extra=",DNS:c360-gateway-authority"
  extensions=$(mktemp)
  cat >"$extensions" <<EXT
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth,clientAuth
subjectAltName=DNS:$name,DNS:c360-$short,DNS:localhost,IP:127.0.0.1$extra
EXT
  openssl ecparam -name prime256v1 -genkey -noout -out "$dir/$name.key.ec"
  # PKCS#8, which every TLS stack reads.
  openssl pkcs8 -topk8 -nocrypt -in "$dir/$name.key.ec" -out "$dir/$name.key"
  rm -f "$dir/$name.key.ec"
  openssl req -new -key "$dir/$name.key" -subj "/O=Customer 360 dev/CN=$name" -out "$dir/$name.csr" 2>/dev/null
  openssl x509 -req -in "$dir/$name.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" -CAcreateserial -days 825 -sha256 \
    -extfile "$extensions" -out "$dir/$name.pem" 2>/dev/null
  rm -f "$dir/$name.csr" "$extensions"
  printf '%-22s %s (key %s)\n' "$name" "$dir/$name.pem" "$dir/$name.key"
done
# The CA certificate is public; the services read it.
chmod 644 "$dir/ca.pem"
