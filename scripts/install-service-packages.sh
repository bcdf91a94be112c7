#!/usr/bin/env bash
# Install Debian packages that bring a system service, without starting that service: the
# tests start their own instance on a free port with a throw-away configuration.
# Usage: install-service-packages.sh <program that must exist afterwards> <package>...
set -euo pipefail
program=$1; shift
if [ -x "$program" ]; then exit 0; fi
as_root=""
if [ "$(id -u)" -ne 0 ]; then as_root="sudo"; fi
echo "Installing Debian's $* for the tests"
$as_root apt-get update -qq
# policy-rc.d: the packages must not start the system-wide services.
printf '#!/bin/sh\nexit 101\n' | $as_root tee /usr/sbin/policy-rc.d.samverka >/dev/null
$as_root chmod +x /usr/sbin/policy-rc.d.samverka
if [ ! -e /usr/sbin/policy-rc.d ]; then
  $as_root cp /usr/sbin/policy-rc.d.samverka /usr/sbin/policy-rc.d
  trap '$as_root rm -f /usr/sbin/policy-rc.d' EXIT
fi
DEBIAN_FRONTEND=noninteractive $as_root apt-get install -y -qq "$@" >/dev/null
$as_root rm -f /usr/sbin/policy-rc.d.samverka
test -x "$program"
