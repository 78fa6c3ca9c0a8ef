#!/usr/bin/env bash
# Installs what Romana's tests and lab need on a fresh Debian 12 machine (as root),
# then the npm dependencies. Idempotent: safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive
pkgs=(etcd-server etcd-client iproute2 iptables ipset procps bird2 iputils-ping dnsutils dnsperf dnsmasq-base arping)
missing=()
for p in "${pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
fi
# BIRD 1.6 conflicts with bird2 as a package; the publisher's tests parse the
# documented BIRD 1.x examples with it, so it is unpacked beside, not installed.
BIRD16=/opt/romana-test/bird1.6
if [ ! -x "$BIRD16/usr/sbin/bird" ]; then
  tmp=$(mktemp -d)
  (cd "$tmp" && apt-get download -qq bird >/dev/null 2>&1 || { apt-get update -qq && apt-get download -qq bird; })
  mkdir -p "$BIRD16"
  dpkg-deb -x "$tmp"/bird_*.deb "$BIRD16"
  rm -rf "$tmp"
fi
npm ci --no-audit --no-fund
