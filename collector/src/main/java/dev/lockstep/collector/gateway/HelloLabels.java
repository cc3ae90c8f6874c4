package dev.lockstep.collector.gateway;

import dev.lockstep.collector.core.EventBounds;
import dev.lockstep.golden.LabelLimits;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Hello.labels bounded to {@link LabelLimits} before they are kept (the agent directory, its
 * stored row, every `lockstep status`). Bounded, never refused: an agent whose Hello is refused
 * cannot connect, so it could never be stopped. Keys and values are cut with EventBounds' marker;
 * the "workflows" label decides which workflow stops cover the agent, so one over its limit
 * becomes {@link LabelLimits#ALL_WORKFLOWS} (every workflow stop covers the agent) instead of a
 * cut list that would leave it outside a stop of a workflow it runs.
 */
final class HelloLabels {
  private HelloLabels() {}

  /**
   * {@code labels} within the limits: the workflows label and the first others by key, up to
   * {@link LabelLimits#MAX_LABELS} (the same ones on every Hello, whatever the map's order).
   */
  static Map<String, String> bound(Map<String, String> labels) {
    List<String> keys = new ArrayList<>(labels.keySet());
    keys.sort(null);
    if (keys.remove(LabelLimits.WORKFLOWS)) keys.add(0, LabelLimits.WORKFLOWS);
    Map<String, String> out = new LinkedHashMap<>();
    for (String key : keys) {
      if (out.size() == LabelLimits.MAX_LABELS) break;
      String value = labels.get(key);
      if (key.equals(LabelLimits.WORKFLOWS)) {
        out.put(key, value.length() > LabelLimits.MAX_WORKFLOWS_VALUE ? LabelLimits.ALL_WORKFLOWS : value);
        continue;
      }
      // two long keys may cut to the same text: the first by key is kept
      out.putIfAbsent(EventBounds.text(key, LabelLimits.MAX_KEY),
          EventBounds.text(value, LabelLimits.MAX_VALUE));
    }
    return out;
  }
}
