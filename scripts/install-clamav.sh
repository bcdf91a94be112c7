#!/usr/bin/env bash
# Debian's ClamAV daemon (clamd) and sigtool for the attachment-scanning tests; the tests start
# their own clamd with a throw-away configuration and a signature database they write
# themselves. The system services (clamav-daemon, clamav-freshclam) are not used.
exec bash "$(dirname "$0")/install-service-packages.sh" /usr/sbin/clamd clamav-daemon clamav
