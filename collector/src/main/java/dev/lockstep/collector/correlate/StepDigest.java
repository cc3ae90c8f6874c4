package dev.lockstep.collector.correlate;

import dev.lockstep.golden.Hashes;
import dev.lockstep.golden.StepSummary;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.List;

/**
 * A replica's steps folded into one summary step, for a run whose state is over what its host can
 * store (cluster mode: one Kafka record). Each of its hashes is a SHA-256 over that hash of every
 * step, with the step's index, in order: two replicas whose steps agree in every hash fold to
 * equal summaries, and any step hash that differs (an engine hash alone: a VOLATILE_LEAK) makes
 * the folded ones differ. Dropping the steps instead compared a replica without steps to one with
 * them: a step engine hash that differed was then not seen, and the run read MATCH.
 */
public final class StepDigest {
  /** The folded step's name starts so; its index is 0. */
  static final String NAME = "(all steps folded: the run's state is over the size this collector stores) ";

  private StepDigest() {}

  /** Whether {@code steps} is a folded summary. */
  public static boolean folded(List<StepSummary> steps) {
    return steps.size() == 1 && steps.get(0).name().startsWith(NAME);
  }

  /** {@code steps} folded into one (as they are when already folded). */
  public static List<StepSummary> fold(List<StepSummary> steps) {
    if (folded(steps)) return steps;
    boolean external = false;
    MessageDigest canonical = Hashes.sha256();
    MessageDigest engine = Hashes.sha256();
    MessageDigest rng = Hashes.sha256();
    MessageDigest response = Hashes.sha256();
    for (StepSummary s : steps) {
      external |= s.external();
      add(canonical, s.index(), s.canonicalHash());
      add(engine, s.index(), s.engineHash());
      add(rng, s.index(), s.rngHash());
      add(response, s.index(), s.responseHash() + (s.external() ? "/external" : ""));
    }
    return List.of(new StepSummary(0, NAME + steps.size() + " steps", "", external,
        Hashes.format(canonical), Hashes.format(engine), Hashes.format(rng), Hashes.format(response)));
  }

  private static void add(MessageDigest d, int index, String hash) {
    d.update((index + "\u0000" + hash + "\u0000").getBytes(StandardCharsets.UTF_8));
  }
}
