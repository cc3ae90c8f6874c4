package dev.lockstep.cli.demo;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

/** A stand-in for ./lockstep that runs collector and agent from the test class path. */
final class TestLauncher {
  private TestLauncher() {}

  static final String CLASSPATH =
      System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
  static final String JAVA = Path.of(System.getProperty("java.home"), "bin", "java").toString();

  /** Writes {@code dir/launcher.sh} taking {@code collector ...}, {@code kafka ...} or {@code agent ...}. */
  static Path write(Path dir) throws IOException {
    Path launcher = dir.resolve("launcher.sh");
    Files.writeString(launcher, String.join("\n",
        "#!/bin/sh",
        "cmd=$1; shift",
        "case $cmd in",
        "  collector) exec '" + JAVA + "' -cp '" + CLASSPATH + "' dev.lockstep.collector.CollectorMain \"$@\" ;;",
        "  kafka) exec '" + JAVA + "' -cp '" + CLASSPATH + "' dev.lockstep.collector.internal.LocalKafkaMain \"$@\" ;;",
        "  agent) exec '" + JAVA + "' -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -cp '" + CLASSPATH + "' dev.lockstep.agent.AgentMain \"$@\" ;;",
        "esac",
        "exit 2", ""));
    Files.setPosixFilePermissions(launcher, PosixFilePermissions.fromString("rwx------"));
    return launcher;
  }
}
