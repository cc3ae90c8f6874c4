package dev.lockstep.cli.fleet;

import dev.lockstep.cli.client.CollectorConnection;
import dev.lockstep.cli.client.ExitCode;
import dev.lockstep.cli.client.RpcFailure;
import io.grpc.StatusRuntimeException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.util.concurrent.Callable;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Spec;

/**
 * A command that talks to the collector: opens one connection, runs, closes it, and turns every
 * failure into one line on stderr plus an exit code (a stack trace only with {@code --debug}).
 */
abstract class OnlineCommand implements Callable<Integer> {
  @Mixin CollectorOptions options;

  @Spec CommandSpec spec;

  /** Runs the command; returns its exit code. */
  abstract int run(Session session) throws Exception;

  /** Whether {@code -o markdown} is this command's (otherwise a usage error). */
  boolean printsMarkdown() {
    return false;
  }

  /** What to print (besides the stderr line) when the collector could not answer. */
  void onCollectorFailure(Session session, RpcFailure failure) {}

  @Override
  public final Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    CollectorConnection connection;
    try {
      connection = options.connect();
    } catch (IllegalArgumentException | UncheckedIOException e) {
      return fail(err, ExitCode.USAGE, e.getMessage(), e);
    }
    if (options.output == OutputFormat.MARKDOWN && !printsMarkdown()) {
      connection.close();
      return fail(err, ExitCode.USAGE, "-o markdown is only for `lockstep incident report`; use -o table or -o json", null);
    }
    Session session = new Session(connection, options.output, out, err);
    try (connection) {
      int code = run(session);
      out.flush();
      return code;
    } catch (StatusRuntimeException e) {
      RpcFailure failure = RpcFailure.of(e, connection.address(), connection.callTimeout(), connection.tls());
      onCollectorFailure(session, failure);
      return fail(err, failure.exitCode(), failure.message(), e);
    } catch (CommandFailure e) {
      return fail(err, e.exitCode(), e.getMessage(), e);
    } catch (java.io.IOException | UncheckedIOException e) {
      return fail(err, ExitCode.USAGE, "I/O error: " + e.getMessage(), e);
    } catch (Exception e) {
      return fail(err, ExitCode.COLLECTOR_ERROR, String.valueOf(e.getMessage()), e);
    } finally {
      out.flush();
    }
  }

  private int fail(PrintWriter err, int code, String message, Throwable cause) {
    spec.commandLine().getOut().flush();
    err.println("lockstep: " + message);
    if (debug() && cause != null) {
      cause.printStackTrace(err);
    }
    err.flush();
    return code;
  }

  /** {@code --debug}, wherever the top command defines it (own, inherited or root option). */
  private boolean debug() {
    for (CommandSpec s = spec; s != null; s = s.parent()) {
      OptionSpec o = s.findOption("--debug");
      if (o != null && Boolean.TRUE.equals(o.getValue())) {
        return true;
      }
    }
    return false;
  }
}
