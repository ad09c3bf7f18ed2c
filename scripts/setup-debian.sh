#!/usr/bin/env bash
# Installs what ionsweep needs on a fresh Debian 12 machine: Mesa's software Vulkan (lavapipe) from
# bookworm-backports, because Debian 12's own Mesa 22.3 is too old for wgpu (see docs/runtime.md), the
# Vulkan loader, Chromium for the browser tests, then the npm packages (Deno among them) with `npm ci`.
set -euo pipefail
cd "$(dirname "$0")/.."
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
if ! dpkg-query -W -f='${Status}' mesa-vulkan-drivers 2>/dev/null | grep -q installed \
   || ! apt-cache policy mesa-vulkan-drivers 2>/dev/null | grep -q '\*\*\*.*backports'; then
  printf 'Types: deb\nURIs: http://deb.debian.org/debian\nSuites: bookworm-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
    | $SUDO tee /etc/apt/sources.list.d/backports.sources >/dev/null
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq -t bookworm-backports mesa-vulkan-drivers >/dev/null
fi
$SUDO apt-get install -y -qq libvulkan1 chromium >/dev/null
npm ci --no-audit --no-fund
