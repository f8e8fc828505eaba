#!/usr/bin/env bash
# System packages the test suite drives for real: OpenSSH's sshd (SFTP tests) and headless Chromium
# (report rendering tests). Idempotent; skips apt when everything is already there.
set -euo pipefail
need=()
command -v python3.11 >/dev/null || need+=(python3.11 python3.11-venv)
[ -x /usr/sbin/sshd ] || need+=(openssh-server)
command -v chromium >/dev/null || need+=(chromium)
if [ ${#need[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
