#!/usr/bin/env bash
# Builds Customer 360 and runs all six executables on loopback (the gateway on 50050 and HTTP 8080), each with its own SQLite database
# under ./data, loads the demo data set on first start, and stops everything cleanly on Ctrl-C.
#
#   deploy/local/run.sh                 build (debug), start, load demo data once, wait
#   C360_DATA=/tmp/c360 deploy/local/run.sh   keep the data somewhere else
#   deploy/local/run.sh --release       build and run optimised binaries
#   deploy/local/run.sh --shards 3      run profile-, interaction-, feedback-, success- and outreach-service as 3
#                                       shards each (ports 50051, 50151, 50251; 50052, 50152, 50252; …; 50055, …; data in
#                                       profile-service-0…2 and so on), every process routing by
#                                       $C360_DATA/shard-map.json; the profile shards share one blind-index key
#   deploy/local/run.sh --gateway-replicas 3   the gateway as 3 replicas: gateway-0 on 50050 (HTTP 8080) keeps the API
#                                       keys and audit log and serves them to the others on 50056; gateway-1 on 50150
#                                       (HTTP 8180), gateway-2 on 50250 (HTTP 8280) keep no database
#   C360_TLS_DIR=data/tls deploy/local/run.sh   TLS everywhere, mutual between services, with the certificates
#                                       scripts/dev-certs.sh made in that directory (made there first if missing)
#
# Ports come from docs/ARCHITECTURE.md (gateway 50050, profile 50051, interaction 50052, feedback 50053, success 50054,
# outreach 50055; metrics 9150–9155) and can be moved with the services' own variables, e.g. C360_PROFILE_PORT=6051.
# outreach-service sends no email or SMS unless given C360_OUTREACH_SMTP_URL or C360_OUTREACH_WEBHOOK_URL (with
# C360_OUTREACH_WEBHOOK_SECRET). Logs go to $C360_DATA/logs.
set -euo pipefail
cd "$(dirname "$0")/../.."

configuration=debug
shards=1
gateway_replicas=1
while (($# > 0)); do
  case $1 in
    --release) configuration=release ;;
    --shards)
      shards=${2:-}
      shift
      [[ $shards =~ ^[1-9][0-9]*$ && $shards -le 16 ]] || { echo "--shards takes 1 to 16, not '$shards'" >&2; exit 2; }
      ;;
    --gateway-replicas)
      gateway_replicas=${2:-}
      shift
      [[ $gateway_replicas =~ ^[1-9][0-9]*$ && $gateway_replicas -le 9 ]] ||
        { echo "--gateway-replicas takes 1 to 9, not '$gateway_replicas'" >&2; exit 2; }
      ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done
data=${C360_DATA:-./data}
mkdir -p "$data/logs" "$data/run"

if [[ -d /opt/swift/usr/bin && ":$PATH:" != *":/opt/swift/usr/bin:"* ]]; then
  export PATH="/opt/swift/usr/bin:$PATH"
fi
scripts/install-system-packages.sh
echo "==> swift build -c $configuration (the first build takes a few minutes)"
swift build -c "$configuration"
bin=$(swift build -c "$configuration" --show-bin-path)

# tls_args NAME: the TLS flags of the process NAME when C360_TLS_DIR is set.
tls_dir=${C360_TLS_DIR:-}
if [[ -n $tls_dir && ! -s $tls_dir/ca.pem ]]; then
  echo "==> scripts/dev-certs.sh $tls_dir"
  scripts/dev-certs.sh "$tls_dir"
fi
tls_args() {
  [[ -n $tls_dir ]] && printf '%s\n' --tls-cert "$tls_dir/$1.pem" --tls-key "$tls_dir/$1.key" --tls-ca "$tls_dir/ca.pem"
  return 0
}

pids=()
stop_all() {
  trap - INT TERM EXIT
  if ((${#pids[@]} > 0)); then
    echo
    echo "==> stopping ${#pids[@]} service(s)"
    kill -TERM "${pids[@]}" 2>/dev/null || true
    wait "${pids[@]}" 2>/dev/null || true
  fi
}
trap stop_all INT TERM EXIT

# start NAME ENV_KEY DEFAULT_METRICS_PORT [ARGS…]: runs one service, waits for its port file, prints where it listens.
# $instance, when set, names this process's data directory, log and port file instead (one shard of a service).
start() {
  local name=$1 key=$2 metrics=$3
  shift 3
  local inst=${instance:-$name}
  local port_file="$data/run/$inst.port"
  rm -f "$port_file"
  local metrics_var="C360_${key}_METRICS_PORT"
  local tls
  mapfile -t tls < <(tls_args "$name")
  env "$metrics_var=${!metrics_var:-$metrics}" \
    "$bin/$name" --port-file "$port_file" --data-dir "$data/$inst" "${tls[@]}" "$@" >>"$data/logs/$inst.log" 2>&1 &
  local pid=$!
  pids+=("$pid")
  for _ in $(seq 1 300); do
    [[ -s "$port_file" ]] && break
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "$inst failed to start; the end of $data/logs/$inst.log:" >&2
      tail -n 20 "$data/logs/$inst.log" >&2
      exit 1
    fi
    sleep 0.1
  done
  [[ -s "$port_file" ]] || { echo "$inst did not start listening within 30 s" >&2; exit 1; }
  printf '    %-20s gRPC 127.0.0.1:%-6s metrics http://127.0.0.1:%s/metrics  db %s\n' \
    "$inst" "$(cat "$port_file")" "${!metrics_var:-$metrics}" "$data/$inst"
}

# With --shards N, the five data services run as N shards each on fixed ports (their
# usual port + 100·i), and every process reads the shard map that says which shard owns which customers (README,
# Scale-out).
profile_port=${C360_PROFILE_PORT:-50051}
interaction_port=${C360_INTERACTION_PORT:-50052}
feedback_port=${C360_FEEDBACK_PORT:-50053}
success_port=${C360_SUCCESS_PORT:-50054}
outreach_port=${C360_OUTREACH_PORT:-50055}
shard_map=()
# shard_entries NAME PORT: the map's list of NAME-0…N-1 on PORT + 100·i, the slots split evenly.
shard_entries() {
  local name=$1 port=$2 i
  for ((i = 0; i < shards; i++)); do
    printf '      {"shard": "%s-%d", "address": "127.0.0.1:%d", "slots": ["%d-%d"]}%s\n' \
      "$name" "$i" $((port + 100 * i)) $((i * 1024 / shards)) $(((i + 1) * 1024 / shards - 1)) \
      "$([[ $i -lt $((shards - 1)) ]] && echo ,)"
  done
}
if ((shards > 1)); then
  map="$data/shard-map.json"
  {
    printf '{\n  "epoch": 1,\n  "services": {\n    "profile-service": [\n'
    shard_entries profile "$profile_port"
    printf '    ],\n    "interaction-service": [\n'
    shard_entries interaction "$interaction_port"
    printf '    ],\n    "feedback-service": [\n'
    shard_entries feedback "$feedback_port"
    printf '    ],\n    "success-service": [\n'
    shard_entries success "$success_port"
    printf '    ],\n    "outreach-service": [\n'
    shard_entries outreach "$outreach_port"
    printf '    ]\n  }\n}\n'
  } >"$map"
  shard_map=(--shard-map "$map")
  echo "==> profile-, interaction-, feedback-, success- and outreach-service as $shards shards each, map in $map"
fi

echo "==> starting services"
# profile-service runs the shipped loyalty program, reading purchases from interaction-service (started next, on its
# usual port; until then its feed consumer retries).
if ((shards > 1)); then
  # Every profile shard computes an email's blind index with this one key, to find it in the identifier index.
  blind_key="$data/run/profile-blind-index.key"
  [[ -s $blind_key ]] || (umask 077 && openssl rand -base64 32 >"$blind_key")
  for ((i = 0; i < shards; i++)); do
    instance=profile-service-$i C360_PROFILE_PORT=$((profile_port + 100 * i)) \
      C360_PROFILE_METRICS_PORT=$((9151 + 100 * i)) \
      start profile-service PROFILE 9151 --loyalty-program deploy/loyalty-program.json \
      --interaction-addr "127.0.0.1:$interaction_port" --shard "profile-$i" --blind-index-key-file "$blind_key" \
      "${shard_map[@]}"
  done
  profile_addr="127.0.0.1:$profile_port"
else
  start profile-service PROFILE 9151 --loyalty-program deploy/loyalty-program.json \
    --interaction-addr "127.0.0.1:$interaction_port"
  profile_addr="127.0.0.1:$(cat "$data/run/profile-service.port")"
fi
if ((shards > 1)); then
  for ((i = 0; i < shards; i++)); do
    instance=interaction-service-$i C360_INTERACTION_PORT=$((interaction_port + 100 * i)) \
      C360_INTERACTION_METRICS_PORT=$((9152 + 100 * i)) \
      start interaction-service INTERACTION 9152 --profile-addr "$profile_addr" --shard "interaction-$i" \
      "${shard_map[@]}"
  done
  interaction_addr="127.0.0.1:$interaction_port"
else
  start interaction-service INTERACTION 9152 --profile-addr "$profile_addr"
  interaction_addr="127.0.0.1:$(cat "$data/run/interaction-service.port")"
fi
if ((shards > 1)); then
  for ((i = 0; i < shards; i++)); do
    instance=feedback-service-$i C360_FEEDBACK_PORT=$((feedback_port + 100 * i)) \
      C360_FEEDBACK_METRICS_PORT=$((9153 + 100 * i)) \
      start feedback-service FEEDBACK 9153 --profile-addr "$profile_addr" --shard "feedback-$i" "${shard_map[@]}"
  done
  feedback_addr="127.0.0.1:$feedback_port"
else
  start feedback-service FEEDBACK 9153 --profile-addr "$profile_addr"
  feedback_addr="127.0.0.1:$(cat "$data/run/feedback-service.port")"
fi
if ((shards > 1)); then
  for ((i = 0; i < shards; i++)); do
    instance=success-service-$i C360_SUCCESS_PORT=$((success_port + 100 * i)) \
      C360_SUCCESS_METRICS_PORT=$((9154 + 100 * i)) \
      start success-service SUCCESS 9154 --profile-addr "$profile_addr" --interaction-addr "$interaction_addr" \
      --feedback-addr "$feedback_addr" --shard "success-$i" "${shard_map[@]}"
  done
  success_addr="127.0.0.1:$success_port"
else
  start success-service SUCCESS 9154 --profile-addr "$profile_addr" --interaction-addr "$interaction_addr" \
    --feedback-addr "$feedback_addr"
  success_addr="127.0.0.1:$(cat "$data/run/success-service.port")"
fi
if ((shards > 1)); then
  for ((i = 0; i < shards; i++)); do
    instance=outreach-service-$i C360_OUTREACH_PORT=$((outreach_port + 100 * i)) \
      C360_OUTREACH_METRICS_PORT=$((9155 + 100 * i)) \
      start outreach-service OUTREACH 9155 --profile-addr "$profile_addr" --interaction-addr "$interaction_addr" \
      --feedback-addr "$feedback_addr" --success-addr "$success_addr" --shard "outreach-$i" "${shard_map[@]}"
  done
  outreach_addr="127.0.0.1:$outreach_port"
else
  start outreach-service OUTREACH 9155 --profile-addr "$profile_addr" --interaction-addr "$interaction_addr" \
    --feedback-addr "$feedback_addr" --success-addr "$success_addr"
  outreach_addr="127.0.0.1:$(cat "$data/run/outreach-service.port")"
fi
gateway_peers=(--profile-addr "$profile_addr" --interaction-addr "$interaction_addr" --feedback-addr "$feedback_addr"
  --success-addr "$success_addr" --outreach-addr "$outreach_addr" "${shard_map[@]}")
if ((gateway_replicas > 1)); then
  # The first gateway keeps the keys and audit log (data/gateway, as with one) and serves them to the others, which
  # prove themselves with a token only gateways hold (or, with C360_TLS_DIR, their certificate).
  token_file="$data/run/gateway-authority-token"
  [[ -s $token_file ]] || (umask 077 && openssl rand -hex 32 >"$token_file")
  authority_port=${C360_GATEWAY_AUTHORITY_PORT:-50056}
  echo "==> the gateway as $gateway_replicas replicas; gateway keeps the keys and audit log, serving them on $authority_port"
  start gateway GATEWAY 9150 "${gateway_peers[@]}" --authority-token-file "$token_file" --authority-port "$authority_port"
  for ((i = 1; i < gateway_replicas; i++)); do
    # An empty C360_GATEWAY_AUTHORITY_PORT counts as unset: a replica given it too would refuse to start.
    C360_GATEWAY_AUTHORITY_PORT="" C360_GATEWAY_METRICS_PORT=$((9150 + 100 * i)) instance="gateway-$i" \
      start gateway GATEWAY 9150 "${gateway_peers[@]}" --authority-token-file "$token_file" \
      --authority-addr "127.0.0.1:$authority_port" --port $((${C360_GATEWAY_PORT:-50050} + 100 * i)) \
      --http-port $((${C360_GATEWAY_HTTP_PORT:-8080} + 100 * i))
  done
else
  start gateway GATEWAY 9150 "${gateway_peers[@]}"
fi
gateway_addr="127.0.0.1:$(cat "$data/run/gateway.port")"

echo "==> demo data"
mapfile -t operator_tls < <(tls_args operator)
"$bin/demo-data" "${operator_tls[@]}" --profile-addr "$profile_addr" --interaction-addr "$interaction_addr" --feedback-addr "$feedback_addr" \
  --success-addr "$success_addr" --outreach-addr "$outreach_addr" "${shard_map[@]}"

scheme=http
tls_note=""
if [[ -n $tls_dir ]]; then
  scheme=https
  tls_note="
    TLS is on: every process has its certificate in $tls_dir; clients trust $tls_dir/ca.pem, e.g.
    curl --cacert $tls_dir/ca.pem $scheme://127.0.0.1:${C360_GATEWAY_HTTP_PORT:-8080}/ (the Python examples speak plaintext)."
fi
if ((gateway_replicas > 1)); then
  tls_note+="
    Gateway replicas, each with the same keys:$(for ((i = 1; i < gateway_replicas; i++)); do
    printf ' 127.0.0.1:%s (HTTP %s)' "$(cat "$data/run/gateway-$i.port")" $((${C360_GATEWAY_HTTP_PORT:-8080} + 100 * i))
  done)"
fi
cat <<INFO
==> Customer 360 is running (logs in $data/logs). The gateway listens on $gateway_addr; its admin API key is in
    $data/gateway/bootstrap-admin.key (created on first start). Try:
    clients/python/setup.sh && clients/python/.venv/bin/python clients/python/example.py <email>
    clients/python/.venv/bin/python clients/python/gateway_example.py --address $gateway_addr --key-file $data/gateway/bootstrap-admin.key <email>
    Web dashboard: $scheme://127.0.0.1:${C360_GATEWAY_HTTP_PORT:-8080}/#key=<the key>$tls_note
Press Ctrl-C to stop.
INFO
wait
