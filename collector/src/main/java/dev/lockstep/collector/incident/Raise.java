package dev.lockstep.collector.incident;

import dev.lockstep.proto.v1.IncidentKind;
import dev.lockstep.proto.v1.Severity;
import java.util.List;

/**
 * What happened, as the playbook names it: the facts an incident is opened (or counted) from.
 * {@code discriminator} joins the dedupe signature (for example agent and target).
 */
public record Raise(
    IncidentKind kind,
    Severity severity,
    String category,
    String workflow,
    int stepIndex,
    String stepName,
    List<String> paths,
    List<String> runIds,
    List<String> hosts,
    String blamedHost,
    String title,
    String explanation,
    String discriminator) {
  public Raise {
    paths = List.copyOf(paths);
    runIds = List.copyOf(runIds);
    hosts = List.copyOf(hosts);
    category = category == null ? "" : category;
    workflow = workflow == null ? "" : workflow;
    stepName = stepName == null ? "" : stepName;
    blamedHost = blamedHost == null ? "" : blamedHost;
    explanation = explanation == null ? "" : explanation;
    discriminator = discriminator == null ? "" : discriminator;
  }

  /** Dedupe signature: kind, category, workflow, first divergent step, paths, discriminator. */
  public String signature() {
    return kind.name() + "|" + category + "|" + workflow + "|" + stepIndex + "|"
        + String.join(",", paths) + "|" + discriminator;
  }
}
