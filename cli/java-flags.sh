# Shell functions shared by ./lockstep and cli/make-cds.sh (sourced, not run).

# The directory this file is in (cli/ in the source tree, bin/ in the distribution), where the
# offline tools' compiler directives (c2-sha256.directives) are. No process is started for it.
case "${BASH_SOURCE[0]}" in
  */*) JAVA_FLAGS_DIR="${BASH_SOURCE[0]%/*}" ;;
  *) JAVA_FLAGS_DIR=. ;;
esac

# java_version JAVA: the version of that Java, e.g. 25.0.3, from its JDK's release file
# (no JVM start); `java -version` when there is no such file.
java_version() {
  local bin home line
  bin="$(command -v "$1" 2>/dev/null || true)"
  if [ -n "$bin" ]; then
    home="$(readlink -f "$bin")"
    home="${home%/*}"
    home="${home%/*}"
    if [ -f "$home/release" ]; then
      while IFS= read -r line; do
        case "$line" in
          JAVA_VERSION=*) line="${line#JAVA_VERSION=}"; echo "${line//\"/}"; return ;;
        esac
      done <"$home/release"
    fi
  fi
  "$1" -version 2>&1 | sed -n 's/.*version "\([^"]*\)".*/\1/p' | head -1
}

# shared_classpath LIBDIR: the jars in LIBDIR joined with ':', the class path of the collector and
# the CLI in the installed distribution, without the agent's protobuf runtime (protobuf-javalite,
# on the agent's own class path only, lib/agent.classpath): protobuf-java is a superset of it, and
# two copies of com.google.protobuf on one class path would clash.
shared_classpath() {
  local f cp=""
  for f in "$1"/*.jar; do
    case "${f##*/}" in
      protobuf-javalite-*) ;;
      *) cp="${cp:+$cp:}$f" ;;
    esac
  done
  printf '%s' "$cp"
}

# is_offline_command ARGS...: whether `lockstep ARGS...` runs an offline golden tool (hash, diff,
# summary, verify), which reads whole golden files and wants C2 and its SHA-256 intrinsic.
is_offline_command() {
  local a
  for a in "$@"; do
    case "$a" in
      --) return 1 ;;
      -*) ;;
      hash | diff | summary | verify) return 0 ;;
      *) return 1 ;;
    esac
  done
  return 1
}

# cli_archive_flags ROOT VERSION JAR: sets ARCHIVE_FLAGS to the JVM flags for the start-up archive
# cli/make-cds.sh made for this Java (an AOT cache on JDK 25+, else AppCDS) when it is newer than
# JAR, to nothing otherwise.
cli_archive_flags() {
  local root="$1" version="$2" jar="$3" aot jsa made
  aot="$root/cli/target/lockstep-cli.aot"
  jsa="$root/cli/target/lockstep-cli.jsa"
  ARCHIVE_FLAGS=()
  if [ "$aot" -nt "$jar" ] && [ -f "$aot.java" ]; then
    made="$(<"$aot.java")"
    if [ "$made" = "$version" ]; then
      ARCHIVE_FLAGS=("-XX:AOTCache=$aot")
      return
    fi
  fi
  if [ "$jsa" -nt "$jar" ] && [ -f "$jsa.java" ]; then
    made="$(<"$jsa.java")"
    if [ "$made" = "$version" ]; then
      ARCHIVE_FLAGS=("-XX:SharedArchiveFile=$jsa" -Xshare:auto)
    fi
  fi
}

# thp_supported: whether the kernel gives transparent huge pages on request (the JVM warns when
# -XX:+UseTransparentHugePages is given without them).
thp_supported() {
  local t
  read -r t </sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null || return 1
  [[ "$t" == *"[always]"* || "$t" == *"[madvise]"* ]]
}

# cli_command ROOT JAVA CLASSPATH ARGS...: sets CLI_COMMAND to the java command line that runs
# `lockstep ARGS...`. The offline golden tools read whole golden files. They run the tiered JIT with
# C2 confined to the SHA-256 compression methods (c2-sha256.directives next to this file): C2 swaps
# those for the SHA-256 intrinsic (C1 alone made the 60 MB hash 25x slower than sha256sum), while
# the canonicaliser stays on C1 code, which is ready sooner and costs a fraction of C2's compile
# time in a run of seconds (C2 compiling everything took more CPU than it saved: about 2.3 s of
# compilation in a 3 s 10 MB diff). HotSpot prints "N compiler directives added" on its own output,
# which is stdout and would corrupt `-o json`: -XX:-DisplayVMOutput drops the VM's own output and
# -XX:+DisplayVMOutputToStderr sends it to stderr if a user turns it back on (LOCKSTEP_JAVA_OPTS=
# "-XX:+DisplayVMOutput -XX:+PrintCompilation"); warnings and crash reports still reach stderr.
# A hot method runs C1's profiling code (tier 3) until C2 is asked for it and refuses, and only
# then gets C1's plain code (tier 1): low tier-4 thresholds make that switch, and SHA-256's move
# to C2, come early. CICompilerCount=6 gives C1 two compiler threads (the C2 ones stay idle and
# are not started), so the hot loops wait less in the interpreter at start. Together: 10 MB diff
# and 60 MB hash about 5-10 % less CPU (medians of 8 runs each, load ~3).
# Without the directives file they keep the whole tiered JIT, inlining less in C2. They also put
# file-sized arrays straight into the old generation (no young collection copies them) and ask
# for huge pages (a page fault costs a lot on virtual machines). Every other command is
# short-lived, where C1 alone starts fastest. LOCKSTEP_JAVA_OPTS come last, so a user's flags
# override these.
cli_command() {
  local root="$1" java="$2" cp="$3" version
  shift 3
  local jit=(-XX:TieredStopAtLevel=1) memory=() directives="$JAVA_FLAGS_DIR/c2-sha256.directives"
  version="$(java_version "$java")"
  cli_archive_flags "$root" "$version" "${cp%%:*}"
  if is_offline_command "$@"; then
    if [ -f "$directives" ]; then
      jit=(-XX:+UnlockDiagnosticVMOptions "-XX:CompilerDirectivesFile=$directives"
        -XX:-DisplayVMOutput -XX:+DisplayVMOutputToStderr
        -XX:Tier4InvocationThreshold=100 -XX:Tier4MinInvocationThreshold=50 -XX:Tier4CompileThreshold=150
        -XX:Tier4BackEdgeThreshold=1000 -XX:CICompilerCount=6)
    else
      jit=(-XX:FreqInlineSize=150 -XX:InlineSmallCode=500)
    fi
    memory=(-XX:PretenureSizeThreshold=1m)
    if thp_supported; then
      memory+=(-XX:+UseTransparentHugePages)
    fi
  fi
  # shellcheck disable=SC2206 # LOCKSTEP_JAVA_OPTS is a list of flags, split on spaces
  local user=(${LOCKSTEP_JAVA_OPTS:-})
  CLI_COMMAND=("$java" "${jit[@]}" -XX:+UseSerialGC -XX:-UsePerfData "${memory[@]}" "${ARCHIVE_FLAGS[@]}"
    "${user[@]}" -cp "$cp" dev.lockstep.cli.Main "$@")
}

# agent_trim_flags JAVA: sets AGENT_TRIM_FLAGS to -XX:TrimNativeHeapInterval=2000 when that Java has
# the flag (JDK 17.0.9+, 21.0.1+, 22+; an unknown -XX flag would stop the JVM from starting, so it
# is tried once: ~0.1 s at the agent's start), to nothing otherwise. The JVM then returns freed
# malloc memory to the OS every 2 s: C1 compiling a large method takes a few MiB of arena memory
# for a moment, which glibc otherwise keeps (the agent at 100 files/s, bench/run agent-footprint:
# 63.5 -> 60.3 MiB with its lite protobuf messages, whose generated schema code C1 compiles into
# large methods; ~1 MiB with the full ones).
agent_trim_flags() {
  AGENT_TRIM_FLAGS=()
  if "$1" -XX:TrimNativeHeapInterval=2000 -Xshare:auto -XX:TieredStopAtLevel=1 -version >/dev/null 2>&1; then
    AGENT_TRIM_FLAGS=(-XX:TrimNativeHeapInterval=2000)
  fi
}

# agent_archive_flags JAVA CLASSPATH DIR: sets AGENT_ARCHIVE_FLAGS to the agent's AppCDS flags for
# that Java and class path. The archive holds the ~3,900 classes a run of the agent loads (gRPC,
# Netty, protobuf, the JDK's own), mapped at start instead of parsed into metaspace with their
# symbols: about 2.5 MiB less RSS than the JDK's default archive plus metaspace. It is made in DIR
# over the agent's starts: a start without a usable class list records the classes it loads
# (-XX:DumpLoadedClassList); the next start dumps the archive from that list (a few seconds, once)
# and uses it; later starts only use it. A list counts once the run reached the collector; jars
# newer than the list or the archive start it over. Nothing when DIR is empty or not writable.
# (JDK 25 writes "NAME id: N" lines in the list, JDK 17 the bare NAME: both count.)
agent_archive_flags() {
  local java="$1" cp="$2" dir="$3" version list jsa part f newest="" parts
  AGENT_ARCHIVE_FLAGS=()
  if [ -z "$dir" ] || [ ! -d "$dir" ] || [ ! -w "$dir" ]; then
    return 0
  fi
  version="$(java_version "$java")"
  list="$dir/lockstep-agent-$version.classlist"
  jsa="$dir/lockstep-agent-$version.jsa"
  IFS=: read -ra parts <<<"$cp"
  for part in "${parts[@]}"; do
    # shellcheck disable=SC2086 # a lib/* entry expands here
    for f in $part; do
      if [ -z "$newest" ] || [ "$f" -nt "$newest" ]; then newest="$f"; fi
    done
  done
  if [ -s "$jsa" ] && [ "$jsa" -nt "$newest" ]; then
    AGENT_ARCHIVE_FLAGS=("-XX:SharedArchiveFile=$jsa" -Xshare:auto)
    return 0
  fi
  if [ -s "$list" ] && [ "$list" -nt "$newest" ] \
      && grep -qE '^io/grpc/netty/shaded/io/grpc/netty/NettyClientHandler( id: [0-9]+)?$' "$list" \
      && "$java" -Xshare:dump "-XX:SharedClassListFile=$list" "-XX:SharedArchiveFile=$jsa.tmp" -cp "$cp" \
        >"$dir/lockstep-agent-$version.dump.log" 2>&1 \
      && mv -f "$jsa.tmp" "$jsa"; then
    AGENT_ARCHIVE_FLAGS=("-XX:SharedArchiveFile=$jsa" -Xshare:auto)
    return 0
  fi
  rm -f "$jsa.tmp"
  AGENT_ARCHIVE_FLAGS=("-XX:DumpLoadedClassList=$list")
}
