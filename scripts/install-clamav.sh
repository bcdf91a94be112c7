#!/usr/bin/env bash
# Debian's ClamAV daemon (clamd) and sigtool for the attachment-scanning tests; the tests start
# their own clamd with a throw-away configuration and a signature database they write
# themselves. The system services (clamav-daemon, clamav-freshclam) are not used.
set -euo pipefail
if [ -x /usr/sbin/clamd ]; then exit 0; fi
as_root=""
if [ "$(id -u)" -ne 0 ]; then as_root="sudo"; fi
echo "Installing Debian's clamav-daemon and clamav packages for the attachment tests"
$as_root apt-get update -qq
# policy-rc.d: the packages must not start the system-wide services.
printf '#!/bin/sh\nexit 101\n' | $as_root tee /usr/sbin/policy-rc.d.samverka >/dev/null
$as_root chmod +x /usr/sbin/policy-rc.d.samverka
if [ ! -e /usr/sbin/policy-rc.d ]; then
  $as_root cp /usr/sbin/policy-rc.d.samverka /usr/sbin/policy-rc.d
  trap '$as_root rm -f /usr/sbin/policy-rc.d' EXIT
fi
DEBIAN_FRONTEND=noninteractive $as_root apt-get install -y -qq clamav-daemon clamav >/dev/null
$as_root rm -f /usr/sbin/policy-rc.d.samverka
test -x /usr/sbin/clamd
