#!/usr/bin/env bash
# Installs what Romana's tests and lab need on a fresh Debian 12 machine (as root),
# then the npm dependencies. Idempotent: safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive
pkgs=(etcd-server etcd-client iproute2 iptables ipset procps bird2 iputils-ping dnsutils)
missing=()
for p in "${pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
fi
npm ci --no-audit --no-fund
