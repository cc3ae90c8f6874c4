package dev.lockstep.cli.offline;

/** How an offline command prints: aligned text for people, or stable JSON for scripts. */
enum Format {
  TABLE,
  JSON
}
