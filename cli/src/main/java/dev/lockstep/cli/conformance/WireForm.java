package dev.lockstep.cli.conformance;

import dev.lockstep.proto.v1.Event;
import dev.lockstep.proto.v1.GoldenReport;
import dev.lockstep.proto.v1.StepSummary;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The event rules of docs/protocol.md ("Events") as the kit reads them, written from the
 * document, independently of the collector's own implementation: the kit checks an agent against
 * the spec, and the CI runs the kit against the collector, so the two are checked against each
 * other. Also makes wire-form hashes for the kit's own reports.
 */
final class WireForm {
  static final Pattern HASH = Pattern.compile("sha256:[0-9a-f]{64}");
  static final Pattern AGENT_ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}");

  private WireForm() {}

  /** {@code "sha256:" + hex(SHA-256(text))}: a hash in wire form standing for {@code text}. */
  static String hash(String text) {
    try {
      return "sha256:" + HexFormat.of().formatHex(
          MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is part of every Java platform", e);
    }
  }

  /** What is wrong with one event an agent sent, in the document's words (empty: nothing). */
  static List<String> violations(Event e) {
    List<String> out = new ArrayList<>();
    if (e.getSeq() < 1) out.add("seq " + e.getSeq() + " is not positive");
    switch (e.getBodyCase()) {
      case BODY_NOT_SET -> out.add("no body");
      case HEALTH -> {
        if (e.getHealth().getProbeValue() == 0) out.add("HealthSample.probe unspecified");
        if (e.getHealth().getLevelValue() == 0) out.add("HealthSample.level unspecified");
      }
      case LOG_MATCH -> {
        if (e.getLogMatch().getKindValue() == 0) out.add("LogMatch.kind unspecified");
      }
      case NOTICE -> {
        if (e.getNotice().getKindValue() == 0) out.add("AgentNotice.kind unspecified");
      }
      case GOLDEN -> golden(e.getGolden(), out);
      case REMEDIATION -> {
        if (e.getRemediation().getProcess().isBlank()) out.add("Remediation.process empty");
        if (e.getRemediation().getActionValue() == 0) out.add("Remediation.action unspecified");
        if (e.getRemediation().getOutcomeValue() == 0) out.add("Remediation.outcome unspecified");
      }
    }
    return out;
  }

  private static void golden(GoldenReport g, List<String> out) {
    if (g.hasError()) {
      if (g.getError().getCode().isBlank()) out.add("GoldenReport.error without a code");
      return;
    }
    if (g.getRunId().isBlank()) out.add("GoldenReport without run_id");
    if (g.getRole().isBlank()) out.add("GoldenReport without role");
    form(out, "canonical_hash", g.getCanonicalHash(), true);
    form(out, "output_hash", g.getOutputHash(), false);
    for (StepSummary s : g.getStepsList()) {
      form(out, "step " + s.getIndex() + " canonical_hash", s.getCanonicalHash(), true);
      form(out, "step " + s.getIndex() + " rng_hash", s.getRngHash(), false);
      form(out, "step " + s.getIndex() + " response_hash", s.getResponseHash(), false);
    }
  }

  private static void form(List<String> out, String what, String value, boolean required) {
    boolean ok = value.isEmpty() ? !required : HASH.matcher(value).matches();
    if (!ok) out.add(what + " '" + value + "' is not sha256:<64 lower-case hex>");
  }
}
