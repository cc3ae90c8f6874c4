#!/usr/bin/env bash
# Makes a Java runtime image for the agent with jlink: only the modules in dist/runtime-modules, a
# CDS archive of its JDK classes, no debug symbols, man pages or headers, modules uncompressed (a
# compressed image costs memory to inflate classes). The dist build runs it when built on JDK 25+
# (the agent-runtime profile) and ships the image as runtime/ in the tarball; bin/lockstep-agent
# uses it unless JAVA_HOME is set. The build's tests run it with their own JDK.
#   dist/make-runtime.sh JDK_HOME OUT_DIR
set -euo pipefail
jdk="$1" out="$2"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
modules="$(grep -v '^#' "$here/runtime-modules" | tr -s ' \n' ',' | sed 's/^,//; s/,$//')"
rm -rf "$out"
"$jdk/bin/jlink" --add-modules "$modules" --strip-debug --no-man-pages --no-header-files \
  --generate-cds-archive --output "$out"
