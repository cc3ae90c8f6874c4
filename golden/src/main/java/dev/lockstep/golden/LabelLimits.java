package dev.lockstep.golden;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The limits of an agent's labels (Hello.labels, from agent.yaml; docs/protocol.md, section 11).
 * Here because both sides apply them: the collector bounds a Hello's labels to them, and the
 * agent warns at start-up about a config over them. Never refused: an agent that cannot connect
 * cannot be stopped. Labels are descriptive except "workflows", which decides the workflow stops
 * that cover the agent: one over its limit is read as {@link #ALL_WORKFLOWS} (every workflow stop
 * covers the agent), never cut, since a cut list would leave the agent outside a stop of a
 * workflow it runs.
 */
public final class LabelLimits {
  public static final int MAX_LABELS = 64;
  public static final int MAX_KEY = 128;
  public static final int MAX_VALUE = 1024;
  /** The label naming the workflows an agent runs: a comma-separated list. */
  public static final String WORKFLOWS = "workflows";
  /** Room for a few hundred workflow names. */
  public static final int MAX_WORKFLOWS_VALUE = 64 * 1024;
  /**
   * A "workflows" label listing this name puts the agent in every workflow stop's scope: the
   * collector's value for a label over {@link #MAX_WORKFLOWS_VALUE}. An agent saying it itself
   * only widens its own stops.
   */
  public static final String ALL_WORKFLOWS = "*";
  /** How much of an over-long key a description shows. */
  private static final int SHOWN_KEY = 80;

  private LabelLimits() {}

  /** The longest value {@code key} may have. */
  public static int maxValue(String key) {
    return key.equals(WORKFLOWS) ? MAX_WORKFLOWS_VALUE : MAX_VALUE;
  }

  /**
   * Every way {@code labels} is over the limits, each naming the label, its length, the limit and
   * what the collector keeps instead; empty when they fit. In key order, never holding a whole
   * over-long key or value.
   */
  public static List<String> over(Map<String, String> labels) {
    List<String> out = new ArrayList<>();
    if (labels.size() > MAX_LABELS) {
      out.add("labels holds " + labels.size() + " labels, at most " + MAX_LABELS
          + ": the collector keeps the workflows label and the first others by key");
    }
    for (Map.Entry<String, String> l : new TreeMap<>(labels).entrySet()) {
      String key = l.getKey();
      if (key.length() > MAX_KEY) {
        out.add("labels: a key is " + key.length() + " characters, at most " + MAX_KEY
            + ": the collector cuts it: '" + key.substring(0, SHOWN_KEY) + "…'");
      }
      int max = maxValue(key);
      if (l.getValue().length() > max) {
        out.add("labels." + (key.length() > MAX_KEY ? key.substring(0, SHOWN_KEY) + "…" : key)
            + " is " + l.getValue().length() + " characters, at most " + max
            + (key.equals(WORKFLOWS) ? ": every workflow stop covers this agent"
                : ": the collector cuts it"));
      }
    }
    return out;
  }
}
