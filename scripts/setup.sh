#!/usr/bin/env bash
# Installs what xxx needs on Debian 12, as root: build dependencies and the
# language runtimes. Quiet and quick when everything is already there.
set -euo pipefail

PKGS=(
  build-essential pkg-config clang-format musl-tools
  libmicrohttpd-dev libjansson-dev libcurl4-openssl-dev libseccomp-dev libcmocka-dev
  libwslay-dev libedit-dev libgnutls28-dev curl jq expect chromium etcd-server etcd-client iproute2
  python3 nodejs ruby golang-go rustc php-cli lua5.4 perl default-jdk-headless bash
  podman runc docker-registry
)
# The playground is built with npm (web/); NodeSource's nodejs brings its own.
command -v npm >/dev/null || PKGS+=(npm)

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: missing packages ${missing[*]}; run as root to install them" >&2
    exit 1
  fi
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
