package dev.lockstep.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.util.Properties;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code lockstep version}: the build's version, the Java runtime and the installation. */
@Command(name = "version", description = "Print the Lockstep version, the Java runtime and where it is installed.")
final class VersionCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  /** The Maven project version this jar was built as, e.g. {@code 0.1.0}. */
  static String version() {
    Properties p = new Properties();
    try (InputStream in = VersionCommand.class.getResourceAsStream("version.properties")) {
      if (in != null) {
        p.load(in);
      }
    } catch (IOException e) {
      return "unknown";
    }
    return p.getProperty("version", "unknown");
  }

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    out.println("lockstep " + version());
    out.println("java " + System.getProperty("java.version") + " (" + System.getProperty("java.vendor")
        + ", " + System.getProperty("java.home") + ")");
    String home = System.getenv("LOCKSTEP_HOME");
    out.println("home " + (home == null ? "(not set: run through bin/lockstep or ./lockstep)" : home));
    out.flush();
    return 0;
  }
}
