#!/usr/bin/env bash
# Installs what ovnctl's demo, tests and benchmarks need on a Debian machine with Node 20, as root:
# the reference Open vSwitch and OVN tools (our peers in tests and benchmarks, and the source of OVN's
# schemas in /usr/share/ovn), the man-page and terminal tools the tests use, and the Node packages.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(openvswitch-switch openvswitch-common ovn-central ovn-host ovn-common python3-openvswitch
          groff-base man-db bsdutils tmux zsh openssl iproute2)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: installing Node packages (npm ci)" >&2
  npm ci --no-audit --no-fund >&2
fi
