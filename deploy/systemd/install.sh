#!/usr/bin/env bash
# Installs Customer 360 as six systemd services on this machine. Run as root; safe to run again to upgrade.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)

usage() {
  cat <<EOF
Usage: deploy/systemd/install.sh [BIN_DIR]

Installs Customer 360's six executables as systemd services (run as root, again to upgrade):

  BIN_DIR/<executable>     -> /usr/local/bin/<executable>   (replaced)
  deploy/systemd/c360*     -> /etc/systemd/system/           (replaced; local changes belong in drop-ins)
  deploy/systemd/env/*.env -> /etc/c360/<service>.env        (only when missing: yours are kept)
  a random service token   -> /etc/c360/service-token        (only when missing; 0640 root:c360)
  system users c360-profile, c360-interaction, c360-feedback, c360-success, c360-outreach, c360-gateway,
  all in the group c360

then runs systemctl daemon-reload. It enables and starts nothing; it prints how to.

BIN_DIR holds the built executables; default: $repo/.build/release. Build them with
  swift build -c release --static-swift-stdlib
so they do not depend on the Swift toolchain being installed where they run.

Options:
  -h, --help   show this help
EOF
}

case "${1:-}" in
  -h | --help) usage; exit 0 ;;
  -*) echo "install.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
esac
(($# <= 1)) || { echo "install.sh: at most one argument, BIN_DIR (see --help)" >&2; exit 2; }
bin_dir=${1:-$repo/.build/release}

# short name, executable
services=(
  "profile profile-service"
  "interaction interaction-service"
  "feedback feedback-service"
  "success success-service"
  "outreach outreach-service"
  "gateway gateway"
)

((EUID == 0)) || { echo "install.sh: run as root (it creates users and writes /etc and /usr/local/bin)" >&2; exit 1; }
for tool in install useradd usermod groupadd getent; do
  command -v "$tool" >/dev/null || { echo "install.sh: needs $tool" >&2; exit 1; }
done

echo "==> checking the executables in $bin_dir"
toolchain_runtime=()
for entry in "${services[@]}"; do
  read -r _ executable <<<"$entry"
  binary="$bin_dir/$executable"
  [[ -x $binary ]] || { echo "install.sh: $binary is missing or not executable; build first (see --help)" >&2; exit 1; }
  # The units hide /home and /root (ProtectHome=yes): a binary that loads the Swift runtime from a toolchain there
  # (swiftly installs into ~/.local) would build fine and fail to start under systemd.
  if command -v ldd >/dev/null; then
    libraries=$(ldd "$binary" 2>&1 || true)
    if grep -q 'not found' <<<"$libraries"; then
      echo "install.sh: $binary needs libraries this machine lacks:" >&2
      grep 'not found' <<<"$libraries" >&2
      echo "(the SQLite library is Debian's libsqlite3-0; build with --static-swift-stdlib for the Swift runtime)" >&2
      exit 1
    fi
    if grep -qE '=> /(home|root)/' <<<"$libraries"; then
      echo "install.sh: $binary loads libraries from /home or /root, which the services cannot see:" >&2
      grep -E '=> /(home|root)/' <<<"$libraries" >&2
      echo "rebuild with: swift build -c release --static-swift-stdlib" >&2
      exit 1
    fi
    if grep -q 'libswiftCore' <<<"$libraries"; then
      toolchain_runtime+=("$executable")
    fi
  fi
done
if ((${#toolchain_runtime[@]} > 0)); then
  echo "    note: these load the Swift runtime from the toolchain that built them; keep it installed where it is,"
  echo "    or rebuild with --static-swift-stdlib: ${toolchain_runtime[*]}"
fi
token=/etc/c360/service-token
# An existing token is kept, so check it before changing anything: the services refuse one under 16 characters.
# The loyalty program profile.env names; like the env files, an edited copy is kept.
program=/etc/c360/loyalty-program.json
if [[ -e $program ]]; then
  cmp -s "$here/../loyalty-program.json" "$program" && echo "    $program (unchanged)" \
    || echo "    $program kept as it is; compare with deploy/loyalty-program.json"
else
  install -m 0644 -o root -g root "$here/../loyalty-program.json" "$program"
  echo "    $program (new)"
fi

if [[ -s $token ]]; then
  first_line=$(head -n 1 "$token")
  if ((${#first_line} < 16)); then
    echo "install.sh: the first line of $token is shorter than 16 characters, which the services refuse." \
      "Remove the file to have a new token generated." >&2
    exit 1
  fi
fi

echo "==> users and groups"
# One shared group may read the service token file; each service runs as its own user and owns only its database.
if ! getent group c360 >/dev/null; then
  groupadd --system c360
  echo "    created group c360"
fi
for entry in "${services[@]}"; do
  read -r short executable <<<"$entry"
  user=c360-$short
  if getent passwd "$user" >/dev/null; then
    usermod --append --groups c360 "$user"
  else
    # Home is the state directory systemd creates on first start, so `sudo -u c360-profile sqlite3 ~/profile.sqlite`
    # works; never a login shell.
    useradd --system --user-group --groups c360 --home-dir "/var/lib/c360/$short" --no-create-home \
      --shell /usr/sbin/nologin --comment "Customer 360 $executable" "$user"
    echo "    created user $user"
  fi
done

echo "==> executables -> /usr/local/bin"
for entry in "${services[@]}"; do
  read -r _ executable <<<"$entry"
  # Copy next to the target and rename over it: a running service keeps its old binary until it is restarted.
  install -m 0755 -o root -g root "$bin_dir/$executable" "/usr/local/bin/.$executable.new"
  mv -f "/usr/local/bin/.$executable.new" "/usr/local/bin/$executable"
  echo "    $executable ($("/usr/local/bin/$executable" --version 2>/dev/null || echo "version unknown"))"
done

echo "==> units -> /etc/systemd/system"
for unit in "$here"/c360.target "$here"/c360-*.service; do
  install -m 0644 -o root -g root "$unit" /etc/systemd/system/
  echo "    $(basename "$unit")"
done

echo "==> configuration in /etc/c360"
install -d -m 0755 -o root -g root /etc/c360
for entry in "${services[@]}"; do
  read -r short _ <<<"$entry"
  target=/etc/c360/$short.env
  if [[ -e $target ]]; then
    if cmp -s "$here/env/$short.env" "$target"; then
      echo "    $target (unchanged)"
    else
      echo "    $target kept as it is; compare with $here/env/$short.env for new settings"
    fi
  else
    # 0640 root:c360: the file may be given a token (C360_*_SERVICE_TOKEN) one day; systemd reads it as root anyway.
    install -m 0640 -o root -g c360 "$here/env/$short.env" "$target"
    echo "    $target (new)"
  fi
done

if [[ -s $token ]]; then
  echo "    $token kept"
else
  # 32 random bytes as 64 hex characters; written under a temporary name, then renamed, never half-written.
  (umask 077 && od -An -N32 -tx1 /dev/urandom | tr -d ' \n' >"$token.new" && echo >>"$token.new")
  chown root:c360 "$token.new"
  chmod 0640 "$token.new"
  mv -f "$token.new" "$token"
  echo "    $token (new random token, 0640 root:c360)"
fi

if [[ -d /run/systemd/system ]]; then
  systemctl daemon-reload
  echo "==> systemctl daemon-reload done"
else
  echo "==> systemd is not running here: run 'systemctl daemon-reload' where it is"
fi

cat <<EOF

Installed. Start all six now and at every boot:
  systemctl enable --now c360.target c360-profile.service c360-interaction.service c360-feedback.service \\
      c360-success.service c360-outreach.service c360-gateway.service
Status and logs:
  systemctl list-units 'c360-*'
  journalctl -u c360-gateway -f
Settings: /etc/c360/<service>.env (then systemctl restart c360-<service>); databases: /var/lib/c360/<service>/.
The gateway's first admin API key is written on its first start to /var/lib/c360/gateway/bootstrap-admin.key.
After an upgrade (this script again), restart to run the new binaries: systemctl restart c360.target
EOF
