#!/usr/bin/env bash
# Debian's Dovecot IMAP server for the mail-intake tests; the tests start their own instance
# on a free loopback port with a throw-away configuration. The system service is not used.
set -euo pipefail
if [ -x /usr/sbin/dovecot ]; then exit 0; fi
as_root=""
if [ "$(id -u)" -ne 0 ]; then as_root="sudo"; fi
echo "Installing Debian's dovecot-imapd package for the mail tests"
$as_root apt-get update -qq
# policy-rc.d: the package must not start the system-wide service.
printf '#!/bin/sh\nexit 101\n' | $as_root tee /usr/sbin/policy-rc.d.samverka >/dev/null
$as_root chmod +x /usr/sbin/policy-rc.d.samverka
if [ ! -e /usr/sbin/policy-rc.d ]; then
  $as_root cp /usr/sbin/policy-rc.d.samverka /usr/sbin/policy-rc.d
  trap '$as_root rm -f /usr/sbin/policy-rc.d' EXIT
fi
DEBIAN_FRONTEND=noninteractive $as_root apt-get install -y -qq dovecot-imapd >/dev/null
$as_root rm -f /usr/sbin/policy-rc.d.samverka
test -x /usr/sbin/dovecot
