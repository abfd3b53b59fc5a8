#!/usr/bin/env bash
# Installs what goroutine needs on Debian 12, from Debian's packages only.
# Debian's libunwind-dev conflicts with LLVM's libunwind-14-dev (pulled in
# by libc++-14-dev), so libc++ stays out of the build.
set -euo pipefail
packages=(build-essential cmake pkg-config python3 clang-14 llvm-14-dev llvm-14-tools
          libunwind-dev libdw-dev libcunit1-dev golang-go time)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
