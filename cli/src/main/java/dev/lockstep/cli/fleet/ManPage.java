package dev.lockstep.cli.fleet;

/**
 * Section headings and shared text so every online command's help reads like a man page:
 * NAME, SYNOPSIS, DESCRIPTION, OPTIONS, EXIT STATUS, EXAMPLES.
 */
final class ManPage {
  static final String SYNOPSIS = "SYNOPSIS%n  ";
  static final String DESCRIPTION = "%nDESCRIPTION%n";
  static final String PARAMETERS = "%nARGUMENTS%n";
  static final String OPTIONS = "%nOPTIONS%n";
  static final String COMMANDS = "%nCOMMANDS%n";
  static final String EXIT_STATUS = "%nEXIT STATUS%n";
  static final String EXAMPLES = "%nEXAMPLES%n";

  static final String EXIT_OK = "0:Success.";
  static final String EXIT_CONDITION = "1:The checked condition is not met (see DESCRIPTION).";
  static final String EXIT_USAGE = "2:Bad usage or input: unknown option, malformed value, unknown ID.";
  static final String EXIT_COLLECTOR =
      "3:The collector could not be reached or answered with an error (one line on stderr).";

  private ManPage() {}
}
