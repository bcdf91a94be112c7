#!/usr/bin/env bash
# Debian's Dovecot IMAP server for the mail-intake tests; the tests start their own instance
# on a free loopback port with a throw-away configuration. The system service is not used.
exec bash "$(dirname "$0")/install-service-packages.sh" /usr/sbin/dovecot dovecot-imapd
