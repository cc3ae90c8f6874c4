package dev.lockstep.collector.gateway;

import dev.lockstep.collector.core.StopRules;
import java.util.Map;
import java.util.Optional;

/**
 * The limits of Hello.labels. Labels come from agent.yaml (which our agent checks against these
 * limits at start-up) and are kept in the agent directory, its stored row and every `lockstep
 * status`. A Hello over them is refused, not cut: labels are descriptive except the "workflows"
 * label, which decides which workflow stops cover the agent, so a cut list would leave the agent
 * running under a stop of a workflow it runs. A refused Hello costs nothing stored.
 */
final class HelloLabels {
  static final int MAX_LABELS = 64;
  static final int MAX_KEY = 128;
  static final int MAX_VALUE = 1024;
  /** The "workflows" label: a comma-separated list, room for a few hundred workflow names. */
  static final int MAX_WORKFLOWS_VALUE = 64 * 1024;
  /** How much of a key a refusal shows. */
  private static final int SHOWN = 80;

  private HelloLabels() {}

  /** Why {@code labels} must be refused, or empty. */
  static Optional<String> problem(Map<String, String> labels) {
    if (labels.size() > MAX_LABELS) {
      return Optional.of("Hello.labels holds " + labels.size() + " labels, the limit is "
          + MAX_LABELS + " (docs/protocol.md, section 11)");
    }
    for (Map.Entry<String, String> l : labels.entrySet()) {
      String key = l.getKey();
      if (key.length() > MAX_KEY) {
        return Optional.of("Hello.labels key '" + StopRules.bound(key, SHOWN) + "' is "
            + key.length() + " characters, the limit is " + MAX_KEY + " (docs/protocol.md, section 11)");
      }
      int max = key.equals("workflows") ? MAX_WORKFLOWS_VALUE : MAX_VALUE;
      if (l.getValue().length() > max) {
        return Optional.of("Hello.labels[\"" + key + "\"] is " + l.getValue().length()
            + " characters, the limit is " + max + " (docs/protocol.md, section 11)");
      }
    }
    return Optional.empty();
  }
}
