#!/usr/bin/env bash
# The Nu HTML Checker (vnu-jar from npm, pinned) for the browser tests' validity check, in
# .tools/ of the project, with Java from Debian when it is missing. Nothing is downloaded
# when the tests run.
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION=26.9.27
JAR=.tools/node_modules/vnu-jar/build/dist/vnu.jar
if ! command -v java >/dev/null; then
  as_root=""
  if [ "$(id -u)" -ne 0 ]; then as_root="sudo"; fi
  echo "Installing Debian's default-jre-headless for the HTML checker"
  $as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $as_root apt-get install -y -qq default-jre-headless >/dev/null
fi
if [ -f "$JAR" ] && grep -q "\"version\": \"$VERSION\"" .tools/node_modules/vnu-jar/package.json; then
  exit 0
fi
echo "Installing vnu-jar $VERSION (the Nu HTML Checker) into .tools/"
mkdir -p .tools
npm install --silent --no-audit --no-fund --prefix .tools "vnu-jar@$VERSION" >/dev/null
test -f "$JAR"
