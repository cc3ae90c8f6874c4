package dev.lockstep.agent.supervise;

import dev.lockstep.agent.internal.ProtoTime;
import dev.lockstep.agent.metrics.AgentMetrics;
import dev.lockstep.proto.lite.v1.ComponentStatus;
import dev.lockstep.proto.lite.v1.Event;
import dev.lockstep.proto.lite.v1.HealthSample;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The state of each part of the agent, as the OpenTelemetry Collector reports component status:
 * running, degraded with a reason, failed. A component's state comes from its periodic task (a
 * run that threw makes it degraded until a run succeeds) and from what the component says about
 * itself (a golden directory failing, the spool refusing intake). Shown in
 * {@code lockstep_agent_component_status} and sent to the collector as HealthSamples of probe
 * COMPONENT when a state changes and every heartbeat. Thread-safe.
 */
public final class Components {
  /** Says why a component is degraded right now (null: it is fine), or that it failed. */
  public interface Condition {
    /** null when fine; else one line. */
    String degraded();

    default boolean failed() {
      return false;
    }
  }

  /** One component. */
  public final class Component {
    private final String name;
    private final Condition condition;
    private ComponentStatus.State state = ComponentStatus.State.STARTING;
    private String reason = "";
    private Instant since;
    private long errors;
    private String lastError;
    private Instant lastPublished;
    private ComponentStatus.State publishedState;
    private String publishedReason;

    Component(String name, Condition condition) {
      this.name = name;
      this.condition = condition;
      this.since = clock.instant();
    }

    public String name() {
      return name;
    }

    /** Its task ran through: its state is what its condition says. */
    public void ran() {
      synchronized (Components.this) {
        lastError = null;
      }
      refresh();
    }

    /**
     * Its task threw: degraded (with the error) until a run succeeds; counted. Returns whether
     * this error differs from the last one (worth a log line).
     */
    public boolean failedRun(Exception e) {
      metrics.errors.labelValues(name).inc();
      String error = "last run failed: " + e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage());
      boolean changed;
      synchronized (Components.this) {
        errors++;
        changed = !error.equals(lastError);
        lastError = error;
      }
      refresh();
      return changed;
    }

    /** Recomputes the state from the condition and the last run. */
    public void refresh() {
      String degraded;
      boolean failed;
      try {
        degraded = condition.degraded();
        failed = condition.failed();
      } catch (RuntimeException e) {
        degraded = "status unknown: " + e;
        failed = false;
      }
      synchronized (Components.this) {
        ComponentStatus.State next;
        String why;
        if (failed) {
          next = ComponentStatus.State.FAILED;
          why = degraded == null ? "failed" : degraded;
        } else if (degraded != null || lastError != null) {
          next = ComponentStatus.State.DEGRADED;
          why = degraded != null ? degraded + (lastError == null ? "" : "; " + lastError) : lastError;
        } else {
          next = ComponentStatus.State.RUNNING;
          why = "";
        }
        if (next != state || !why.equals(reason)) {
          if (next != state) {
            since = clock.instant();
          }
          if (next != ComponentStatus.State.RUNNING || state != ComponentStatus.State.STARTING) {
            changes.accept("component " + name + " " + next.name().toLowerCase(java.util.Locale.ROOT)
                + (why.isEmpty() ? "" : ": " + why));
          }
        }
        state = next;
        reason = why;
        metrics.componentStatus.labelValues(name).set(level(next));
      }
    }

    /** The agent is shutting this component down. */
    public void stopped() {
      synchronized (Components.this) {
        state = ComponentStatus.State.STOPPED;
        since = clock.instant();
      }
    }

    ComponentStatus status() {
      synchronized (Components.this) {
        return ComponentStatus.newBuilder().setName(name).setState(state).setReason(reason)
            .setSince(ProtoTime.of(since)).setErrors(errors).build();
      }
    }
  }

  private final Clock clock;
  private final AgentMetrics metrics;
  private final Duration heartbeat;
  private final Map<String, Component> components = new LinkedHashMap<>();
  private final java.util.function.Consumer<String> changes;

  /** changes: one progress line per change of a component's state or reason. */
  public Components(Clock clock, AgentMetrics metrics, Duration heartbeat, java.util.function.Consumer<String> changes) {
    this.clock = clock;
    this.metrics = metrics;
    this.heartbeat = heartbeat;
    this.changes = changes;
  }

  public synchronized Component add(String name, Condition condition) {
    Component c = new Component(name, condition);
    components.put(name, c);
    return c;
  }

  public synchronized Component get(String name) {
    return components.get(name);
  }

  /** Every component's status, in the order they were added. */
  public List<ComponentStatus> statuses() {
    List<Component> all;
    synchronized (this) {
      all = new ArrayList<>(components.values());
    }
    List<ComponentStatus> out = new ArrayList<>();
    for (Component c : all) {
      out.add(c.status());
    }
    return out;
  }

  /**
   * The health samples to send now: components whose state or reason changed since last sent,
   * and all of them once a heartbeat has passed. The caller spools them and then calls
   * {@link #published} for those it could spool.
   */
  public List<Event> due() {
    Instant now = clock.instant();
    List<Event> out = new ArrayList<>();
    synchronized (this) {
      for (Component c : components.values()) {
        if (c.state == ComponentStatus.State.STARTING) {
          continue;
        }
        boolean changed = c.state != c.publishedState || !c.reason.equals(c.publishedReason);
        boolean beat = c.lastPublished == null || !now.isBefore(c.lastPublished.plus(heartbeat));
        if (changed || beat) {
          out.add(sample(c.status(), now));
        }
      }
    }
    return out;
  }

  /** The samples {@link #due} gave were spooled. */
  public void published(List<Event> samples) {
    synchronized (this) {
      for (Event e : samples) {
        Component c = components.get(e.getHealth().getTarget());
        if (c != null) {
          c.publishedState = e.getHealth().getComponent().getState();
          c.publishedReason = e.getHealth().getComponent().getReason();
          c.lastPublished = ProtoTime.toInstant(e.getObservedAt());
        }
      }
    }
  }

  static Event sample(ComponentStatus s, Instant now) {
    HealthSample.Level level = switch (s.getState()) {
      case FAILED -> HealthSample.Level.CRITICAL;
      case DEGRADED -> HealthSample.Level.WARN;
      default -> HealthSample.Level.OK;
    };
    String summary = "agent component " + s.getName() + " " + s.getState().name().toLowerCase(java.util.Locale.ROOT)
        + (s.getReason().isEmpty() ? "" : ": " + s.getReason());
    return Event.newBuilder().setObservedAt(ProtoTime.of(now)).setHealth(HealthSample.newBuilder()
        .setProbe(HealthSample.Probe.COMPONENT).setTarget(s.getName()).setLevel(level).setSummary(summary)
        .setComponent(s)).build();
  }

  private static int level(ComponentStatus.State s) {
    return switch (s) {
      case DEGRADED -> 1;
      case FAILED -> 2;
      default -> 0;
    };
  }
}
