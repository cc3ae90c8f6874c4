package dev.lockstep.cli.client;

/**
 * Exit codes of every command. The same numbers, documented in each command's help, so scripts
 * and cron jobs can tell "the fleet is not fine" from "I could not ask" from "lockstep broke".
 */
public final class ExitCode {
  /** The command did what was asked, or the checked condition holds. */
  public static final int OK = 0;
  /** The command ran, but the condition it checks is not met (unconfirmed stop, P0 open, mismatch). */
  public static final int CONDITION_NOT_MET = 1;
  /** Bad usage or bad input: unknown option, malformed value, unknown incident or run id. */
  public static final int USAGE = 2;
  /** The collector could not be reached or answered with an error. */
  public static final int COLLECTOR_ERROR = 3;
  /**
   * Lockstep itself failed: a bug, or the JVM ran out of memory. One line on stderr (--debug adds
   * the stack trace). 70 is EX_SOFTWARE of sysexits.h, clear of the codes above and of Nagios'.
   */
  public static final int INTERNAL = 70;

  private ExitCode() {}
}
