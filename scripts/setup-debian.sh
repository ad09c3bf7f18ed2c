#!/usr/bin/env bash
# Installs what ionsweep needs on a fresh Debian 12 machine: Mesa's software Vulkan (lavapipe) from
# bookworm-backports, because Debian 12's own Mesa 22.3 is too old for wgpu (see docs/runtime.md), the
# Vulkan loader, Chromium for the browser tests, Slurm, munge, pandas and R for the scale-out and
# reader tests, then the npm packages (Deno among them) with `npm ci`.
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
# A single-node Slurm for test/slurm.test.ts (munge for its authentication; the test configures and
# starts the daemons itself), and the readers of examples/readers/: Python's pandas and R (Debian 12
# packages no Parquet reader for either, so they read the CSV that merge --csv writes).
$SUDO apt-get install -y -qq --no-install-recommends slurm-wlm munge python3-pandas r-base-core >/dev/null
npm ci --no-audit --no-fund
