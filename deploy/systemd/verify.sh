#!/usr/bin/env bash
# Checks the systemd units in this directory offline, as installed, without touching this machine's systemd:
#
#   1. `systemd-analyze verify` of c360.target and the six services, loaded from a scratch root laid out the way
#      install.sh leaves a host (units in /etc/systemd/system, executables in /usr/local/bin) plus this machine's own
#      units for the targets ours hang off. The executables are stubs: verify insists that ExecStart= exists. verify
#      exits 0 after many warnings ("Unknown key ...", "Special user ... configured"), so any output at all fails.
#   2. `systemd-analyze security --offline`: the only exposures it may report are the accepted ones listed below, and
#      the overall score stays at or below the threshold, so a sandbox setting that is dropped or weakened fails here
#      instead of going unnoticed (one setting alone barely moves the score, hence the list).
#   3. The six units agree with each other and with their env files: same sandbox block, each its own user, state
#      directory and env file, and every env file lists exactly the C360_<SERVICE>_* variables its executable
#      documents in its --help (read from the Swift sources).
#
# Needs systemd-analyze (Debian: apt-get install systemd; systemd need not be running, a container is fine).
#   deploy/systemd/verify.sh
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
# Exposure score × 10 (systemd-analyze's scale); the units score 1.2.
threshold=12
# What systemd-analyze security still flags, and why it stays: they serve and call gRPC over the network (sockets,
# no PrivateNetwork=, no IP allow list: addresses are the operator's choice), libdispatch calls setpriority()
# (@resources), ProtectClock= itself adds the read-only rtc device, and no RootDirectory= image is shipped.
accepted_exposures=(
  "DeviceAllow="
  "IPAddressDeny="
  "PrivateNetwork="
  "RestrictAddressFamilies=~AF_(INET|INET6)"
  "RestrictAddressFamilies=~AF_UNIX"
  "RootDirectory=/RootImage="
  "SystemCallFilter=~@resources"
)

# short name, executable, environment key
services=(
  "profile profile-service PROFILE"
  "interaction interaction-service INTERACTION"
  "feedback feedback-service FEEDBACK"
  "success success-service SUCCESS"
  "outreach outreach-service OUTREACH"
  "gateway gateway GATEWAY"
)

if ! command -v systemd-analyze >/dev/null; then
  echo "verify.sh: needs systemd-analyze (apt-get install systemd)" >&2
  exit 1
fi
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/etc/systemd/system" "$root/usr/lib/systemd" "$root/usr/local/bin" "$root/etc/c360"
for dir in /usr/lib/systemd/system /lib/systemd/system; do
  if [[ -d $dir ]]; then cp -a "$dir" "$root/usr/lib/systemd/"; break; fi
done
[[ -d $root/usr/lib/systemd/system ]] || { echo "verify.sh: no system unit directory on this machine" >&2; exit 1; }
cp "$here"/c360.target "$here"/c360-*.service "$root/etc/systemd/system/"
cp "$here"/env/*.env "$root/etc/c360/"
printf 'placeholder-token-for-verify\n' >"$root/etc/c360/service-token"
# A stub for every ExecStart= and ExecReload= command, so verify checks the paths the units really name.
while read -r command; do
  mkdir -p "$root$(dirname "$command")"
  printf '#!/bin/sh\nexit 0\n' >"$root$command"
  chmod 0755 "$root$command"
done < <(sed -n 's/^Exec\(Start\|Reload\)=\([^ ]*\).*/\2/p' "$here"/c360-*.service | sort -u)

units=(c360.target)
for entry in "${services[@]}"; do
  read -r short _ _ <<<"$entry"
  units+=("c360-$short.service")
done

echo "==> systemd-analyze verify (systemd $(systemd-analyze --version | sed -n '1s/^systemd \([0-9]*\).*/\1/p'))"
# --recursive-errors=no: judge our units, not whatever the host's own units might complain about.
if ! output=$(cd "$root" && systemd-analyze verify --root="$root" --recursive-errors=no "${units[@]}" 2>&1); then
  fail "systemd-analyze verify exited non-zero"
fi
if [[ -n $output ]]; then
  printf '%s\n' "${output//"$root/etc/systemd/system"/$here}" >&2
  fail "systemd-analyze verify printed the messages above"
else
  echo "    ${#units[@]} units, no messages"
fi

echo "==> systemd-analyze security --offline (only the accepted findings, exposure at most" \
  "$((threshold / 10)).$((threshold % 10)))"
accepted=$(printf '%s\n' "${accepted_exposures[@]}" | sort)
for unit in "${units[@]:1}"; do
  if ! report=$(systemd-analyze security --offline=yes --root="$root" --threshold="$threshold" "$unit" 2>&1); then
    fail "$unit: $(grep -o 'Overall exposure level.*' <<<"$report" || printf '%s' "$report")"
  fi
  found=$(awk '$1 == "✗" { print $2 }' <<<"$report" | sort)
  if [[ $found != "$accepted" ]]; then
    fail "$unit: security findings differ from the accepted ones:
$(diff <(echo "$accepted") <(echo "$found") |
      sed -n 's/^> /    new finding: /p; s/^< /    no longer reported (update accepted_exposures): /p')"
  else
    echo "    $(grep -o 'Overall exposure level.*' <<<"$report")"
  fi
done

echo "==> units, env files and the executables' documented variables agree"
failures_before=$failures
sandbox() { sed -n '/^# Sandbox/,/^\[Install\]/p' "$1"; }
reference=$(sandbox "$here/c360-profile.service")
[[ -n $reference ]] || fail "c360-profile.service has no '# Sandbox' block"
for entry in "${services[@]}"; do
  read -r short executable key <<<"$entry"
  unit="$here/c360-$short.service"
  env_file="$here/env/$short.env"
  [[ $(sandbox "$unit") == "$reference" ]] ||
    fail "c360-$short.service: sandbox block differs from c360-profile.service"
  for line in "User=c360-$short" "Group=c360-$short" "StateDirectory=c360/$short" \
      "EnvironmentFile=/etc/c360/$short.env" "ExecStart=/usr/local/bin/$executable \\" \
      "    --data-dir %S/c360/$short \\"; do
    grep -qxF -- "$line" "$unit" || fail "c360-$short.service: missing the line '$line'"
  done
  [[ -f $env_file ]] || { fail "env/$short.env is missing"; continue; }
  # Only comments, blank lines and C360_<KEY>_*=value lines: systemd would ignore or misread anything else.
  if bad=$(grep -nvE "^(#.*|[[:space:]]*|C360_${key}_[A-Z0-9_]+=.*)$" "$env_file"); then
    fail "env/$short.env: lines that are not comments or C360_${key}_* settings: $bad"
  fi
  # Peer options are generic (Shared/ServerKit/PeerOptions.swift): PeerAddressOption<ProfilePeer> reads
  # C360_<SERVICE>_PROFILE_ADDR, PeerDeadlineOption C360_<SERVICE>_PEER_DEADLINE_MS.
  documented=$({
    cat "$repo/Shared/ServerKit/ServerOptions.swift" "$repo/Services/$executable/Main/"*.swift |
      grep -oE "C360_(<SERVICE>|$key)_[A-Z0-9_]+" | sed "s/<SERVICE>/$key/"
    cat "$repo/Services/$executable/Main/"*.swift | grep -oE "PeerAddressOption<[A-Za-z]+Peer>" |
      sed -E "s/PeerAddressOption<([A-Za-z]+)Peer>/\1/" | tr '[:lower:]' '[:upper:]' | sed "s/.*/C360_${key}_&_ADDR/"
    if grep -q "PeerDeadlineOption" "$repo/Services/$executable/Main/"*.swift; then echo "C360_${key}_PEER_DEADLINE_MS"; fi
  } | sort -u)
  listed=$(grep -oE "C360_${key}_[A-Z0-9_]+" "$env_file" | sort -u)
  [[ -n $documented ]] || fail "$executable: no C360_${key}_* variables found in its sources"
  if [[ $documented != "$listed" ]]; then
    fail "env/$short.env does not list exactly what $executable documents:
$(diff <(echo "$documented") <(echo "$listed") | sed -n 's/^< /    missing: /p; s/^> /    unknown: /p')"
  fi
done
((failures == failures_before)) && echo "    ${#services[@]} units and env files consistent"

if ((failures > 0)); then
  echo "verify.sh: $failures problem(s)" >&2
  exit 1
fi
echo "verify.sh: all systemd checks passed"
