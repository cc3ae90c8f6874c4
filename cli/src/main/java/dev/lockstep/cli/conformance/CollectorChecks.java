package dev.lockstep.cli.conformance;

import dev.lockstep.proto.v1.AgentFrame;
import dev.lockstep.proto.v1.AgentNotice;
import dev.lockstep.proto.v1.CollectorFrame;
import dev.lockstep.proto.v1.Event;
import dev.lockstep.proto.v1.GetRunRequest;
import dev.lockstep.proto.v1.GoldenReport;
import dev.lockstep.proto.v1.Hello;
import dev.lockstep.proto.v1.Incident;
import dev.lockstep.proto.v1.IncidentActionRequest;
import dev.lockstep.proto.v1.ListIncidentsRequest;
import dev.lockstep.proto.v1.OperatorGrpc;
import dev.lockstep.proto.v1.ResumeStopRequest;
import dev.lockstep.proto.v1.Run;
import dev.lockstep.proto.v1.Severity;
import dev.lockstep.proto.v1.StepSummary;
import dev.lockstep.proto.v1.StopAck;
import dev.lockstep.proto.v1.StopMode;
import dev.lockstep.proto.v1.StopOrder;
import dev.lockstep.proto.v1.StopScope;
import dev.lockstep.proto.v1.StopState;
import dev.lockstep.proto.v1.StopStatusRequest;
import dev.lockstep.proto.v1.Welcome;
import io.grpc.Channel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.LongFunction;
import java.util.function.Supplier;

/**
 * The kit as an agent: drives a collector through every rule of docs/protocol.md that a
 * collector must keep, over real AgentGateway streams, and records a {@link Findings} verdict
 * per rule. Rules that need to see the collector's decisions (verdicts, incidents, stop status)
 * ask its Operator API and are skipped without an operator certificate.
 *
 * <p>It reports runs of its own (ids start with the run's tag) that mismatch and conflict: run it
 * against a collector set up for the test, since its stop policy stops that fleet.
 */
final class CollectorChecks {
  /** How the kit reaches the collector. */
  record Target(Channel agent, Channel anonymous, OperatorGrpc.OperatorBlockingStub operator,
      String agentId, boolean tls) {}

  private static final String VERSION = "lockstep-conformance/1";

  private final Target target;
  private final Duration timeout;
  private final Duration resend;
  private final Findings findings;
  private final String tag;
  private StopState enacted = StopState.getDefaultInstance();
  private long stored;

  CollectorChecks(Target target, Duration timeout, Duration resend, Findings findings, String tag) {
    this.target = target;
    this.timeout = timeout;
    this.resend = resend;
    this.findings = findings;
    this.tag = tag;
  }

  /** Runs every check; false when the collector could not be reached at all. */
  boolean run() {
    if (!health()) return false;
    reflection();
    helloRules();
    Session s = open("welcome.first-frame");
    if (s == null) return true;
    welcomeFields(s);
    stopResend(s);
    events(s);
    refusals();
    correlation();
    return true;
  }

  // ------------------------------------------------------------------ health, reflection

  private boolean health() {
    var health = HealthGrpc.newBlockingStub(target.agent());
    List<String> serving = new ArrayList<>();
    List<String> wrong = new ArrayList<>();
    for (String name : List.of("", "lockstep.v1.AgentGateway", "lockstep.v1.Operator")) {
      try {
        HealthCheckResponse r = health.withDeadlineAfter(timeout.toMillis(), TimeUnit.MILLISECONDS)
            .check(HealthCheckRequest.newBuilder().setService(name).build());
        (r.getStatus() == HealthCheckResponse.ServingStatus.SERVING ? serving : wrong)
            .add("'" + name + "' " + r.getStatus());
      } catch (StatusRuntimeException e) {
        if (e.getStatus().getCode() == Status.Code.UNAVAILABLE && name.isEmpty()) {
          findings.fail("health.names", dev.lockstep.security.Tls.explain(e.getStatus(),
              "the collector", !target.tls()));
          return false;
        }
        wrong.add("'" + name + "' " + e.getStatus().getCode());
      }
    }
    findings.check(wrong.isEmpty(), "health.names", "SERVING: " + String.join(", ", serving),
        "not SERVING: " + String.join(", ", wrong));
    if (!target.tls()) {
      findings.skip("health.without-client-certificate", "plaintext (--insecure)");
      return true;
    }
    try {
      var r = HealthGrpc.newBlockingStub(target.anonymous())
          .withDeadlineAfter(timeout.toMillis(), TimeUnit.MILLISECONDS)
          .check(HealthCheckRequest.getDefaultInstance());
      findings.check(r.getStatus() == HealthCheckResponse.ServingStatus.SERVING,
          "health.without-client-certificate", "TLS without a client certificate: SERVING",
          "answered " + r.getStatus());
    } catch (StatusRuntimeException e) {
      findings.fail("health.without-client-certificate", "TLS without a client certificate: "
          + describe(e.getStatus()));
    }
    return true;
  }

  private void reflection() {
    for (String version : List.of("v1", "v1alpha")) {
      String rule = "reflection." + version;
      try {
        List<String> services = Reflection.listServices(target.agent(), version, timeout);
        findings.check(services.contains("lockstep.v1.AgentGateway")
            && services.contains("lockstep.v1.Operator"), rule, "lists " + services,
            "lists " + services + " without lockstep.v1.AgentGateway and lockstep.v1.Operator");
      } catch (StatusRuntimeException e) {
        findings.fail(rule, "grpc.reflection." + version + ".ServerReflection: " + describe(e.getStatus()));
      }
    }
  }

  // ------------------------------------------------------------------ Hello

  private void helloRules() {
    expectEnd("hello.required-first", stream -> stream.events(List.of(notice(1))),
        Status.Code.INVALID_ARGUMENT, "Hello");
    expectEnd("hello.agent-id-pattern", stream -> stream.hello(hello("not an/agent id", enacted)),
        Status.Code.INVALID_ARGUMENT, "agent_id");
    if (target.tls()) {
      expectEnd("hello.agent-id-is-certificate-cn",
          stream -> stream.hello(hello(target.agentId() + "-forged", enacted)),
          Status.Code.PERMISSION_DENIED, target.agentId() + "-forged");
    } else {
      findings.skip("hello.agent-id-is-certificate-cn", "plaintext (--insecure): no certificate");
    }
    StopState.Builder many = StopState.newBuilder().setGeneration(1).setMode(StopMode.STOPPED);
    // one over the bound of orders a Hello may name (4,096: every order covering an agent is in
    // the states it is sent, and it names them all back)
    for (int i = 0; i < 4_097; i++) {
      many.addOrders(StopOrder.newBuilder().setId("ORD-CONFORMANCE-" + tag + "-" + i)
          .setScope(StopScope.newBuilder().setAgentId(target.agentId())).setReason("kit"));
    }
    expectEnd("hello.enacted-orders-limit", stream -> stream.hello(hello(target.agentId(), many.build())),
        Status.Code.INVALID_ARGUMENT, "4097");
  }

  /** Opens a stream, lets {@code act} send, expects it to end with {@code code} and no Welcome. */
  private void expectEnd(String rule, java.util.function.Consumer<RawStream> act, Status.Code code,
      String mentions) {
    try (RawStream stream = new RawStream(target.agent())) {
      act.accept(stream);
      Status end = stream.ended(timeout);
      boolean welcomed = stream.seen().stream().anyMatch(CollectorFrame::hasWelcome);
      findings.check(end != null && end.getCode() == code && !welcomed
              && String.valueOf(end.getDescription()).contains(mentions), rule,
          describe(end),
          "expected " + code + " mentioning '" + mentions + "', got " + describe(end)
              + (welcomed ? " after a Welcome" : ""));
    }
  }

  // ------------------------------------------------------------------ sessions

  /** A stream as this agent, Hello sent, its first frame checked to be the Welcome. */
  record Session(RawStream stream, Welcome welcome) {}

  private Session open(String rule) {
    RawStream stream = new RawStream(target.agent());
    stream.hello(hello(target.agentId(), enacted));
    CollectorFrame first = stream.next(timeout);
    if (first == null || !first.hasWelcome()) {
      findings.fail(rule, "the first frame after Hello must be a Welcome, got "
          + (first == null ? "nothing within " + timeout.toSeconds() + " s (" + describe(stream.ended(Duration.ZERO)) + ")"
              : first.getFrameCase()));
      stream.close();
      return null;
    }
    stored = first.getWelcome().getAckedSeq();
    return new Session(stream, first.getWelcome());
  }

  private Hello hello(String agentId, StopState enactedStop) {
    return Hello.newBuilder().setAgentId(agentId).setHostname("conformance-kit").setVersion(VERSION)
        .setLastAckedSeq(stored).setEnactedStop(enactedStop).build();
  }

  private void welcomeFields(Session s) {
    Welcome w = s.welcome();
    findings.pass("welcome.first-frame", "Welcome: acked_seq " + w.getAckedSeq() + ", stop generation "
        + w.getStop().getGeneration() + " " + w.getStop().getMode());
    boolean mode = w.getStop().getMode() == StopMode.RUNNING || w.getStop().getMode() == StopMode.STOPPED;
    findings.check(w.getMaxBatchEvents() > 0 && w.getMaxFrameBytes() > 0 && w.getStop().getGeneration() > 0
            && mode && (w.getStop().getMode() != StopMode.STOPPED || w.getStop().getOrdersCount() > 0),
        "welcome.fields", "max_batch_events " + w.getMaxBatchEvents() + ", max_frame_bytes "
            + w.getMaxFrameBytes() + ", version " + w.getCollectorVersion(),
        "limits and stop state must be set: " + w.toString().replace('\n', ' '));
    CollectorFrame pins = s.stream().next(timeout, CollectorFrame::hasPins);
    findings.check(pins != null, "pins.on-connect", pins == null ? "" : "Pins with "
        + pins.getPins().getRunIdsCount() + " run ids", "no Pins frame after the Welcome within "
        + timeout.toSeconds() + " s");
  }

  // ------------------------------------------------------------------ stop acks

  private void stopResend(Session s) {
    StopState desired = s.welcome().getStop();
    // an ack of an older generation: refused, and nothing to catch up with
    s.stream().send(ack(desired.getGeneration() - 1, desired.getMode(), true));
    Duration wait = resend.multipliedBy(2).plus(timeout);
    CollectorFrame again = s.stream().next(wait, f -> f.hasStop()
        && f.getStop().getState().getGeneration() >= desired.getGeneration());
    if (again != null && again.getStop().getState().getGeneration() > desired.getGeneration()) {
      findings.skip("stop.resent-until-acked", "the desired state changed meanwhile (generation "
          + again.getStop().getState().getGeneration() + ")");
      enactAndAck(s, again.getStop().getState());
      return;
    }
    if (!findings.check(again != null, "stop.resent-until-acked", "unacked generation "
        + desired.getGeneration() + " " + desired.getMode() + " sent again (an ack of another"
        + " generation did not count)", "no StopCommand repeating generation "
        + desired.getGeneration() + " within " + wait.toSeconds() + " s; the Welcome's stop state"
        + " must be resent every stop_resend_interval until acked")) {
      return;
    }
    enactAndAck(s, desired);
    // a resend already on its way when the ack went out may still arrive
    s.stream().next(Duration.ofMillis(500), f -> false);
    Duration quiet = resend.plus(resend.dividedBy(2));
    CollectorFrame more = s.stream().next(quiet, f -> f.hasStop()
        && f.getStop().getState().getGeneration() == desired.getGeneration()
        && f.getStop().getState().getMode() == desired.getMode());
    findings.check(more == null, "stop.ack-ends-resend", "no resend within " + quiet.toMillis()
        + " ms of the matching ack", "generation " + desired.getGeneration()
        + " was resent although acked");
    // an agent reporting a generation above the collector's (it was stopped by a store since
    // restored from an older backup): the same state again, under a fresh generation of the
    // collector's own — never the agent's number, never another mode
    long claimed = desired.getGeneration() + 3_600_000;
    s.stream().send(ack(claimed, desired.getMode(), true));
    CollectorFrame reissued = s.stream().next(timeout.plus(resend), f -> f.hasStop()
        && f.getStop().getState().getGeneration() > desired.getGeneration());
    boolean ok = reissued != null && reissued.getStop().getState().getMode() == desired.getMode()
        && reissued.getStop().getState().getGeneration() < claimed;
    findings.check(ok, "stop.higher-generation-reissued", reissued == null ? ""
            : "ack of generation " + claimed + ": the same " + desired.getMode() + " resent as generation "
                + reissued.getStop().getState().getGeneration(),
        reissued == null ? "no StopCommand above generation " + desired.getGeneration() + " within "
            + timeout.plus(resend).toSeconds() + " s of an ack claiming generation " + claimed
            : "answered with " + reissued.getStop().getState().getMode() + " generation "
                + reissued.getStop().getState().getGeneration() + " (must be " + desired.getMode()
                + ", below the claimed " + claimed + ")");
    if (reissued != null) enactAndAck(s, reissued.getStop().getState());
  }

  private void enactAndAck(Session s, StopState state) {
    enacted = state;
    s.stream().send(ack(state.getGeneration(), state.getMode(), true));
  }

  private static AgentFrame ack(long generation, StopMode mode, boolean ok) {
    return AgentFrame.newBuilder().setStopAck(StopAck.newBuilder().setGeneration(generation)
        .setMode(mode).setEnacted(ok).setVerified(ok).setDetail("conformance kit")).build();
  }

  // ------------------------------------------------------------------ events

  private void events(Session s) {
    long base = stored;
    s.stream().events(List.of(notice(base + 1), notice(base + 2), notice(base + 3)));
    findings.check(awaitAck(s, base + 3), "events.acked-after-store", "Ack upto_seq " + (base + 3),
        "no Ack upto_seq " + (base + 3) + " within " + timeout.toSeconds() + " s");
    s.stream().events(List.of(notice(base + 2), notice(base + 3)));
    boolean dupAck = awaitAck(s, base + 3);
    findings.check(dupAck && s.stream().ended(Duration.ZERO) == null, "events.duplicates-acked",
        "seqs " + (base + 2) + ".." + (base + 3) + " sent again: acked, stream open",
        "a resent stored seq must be acked as a duplicate; got " + describe(s.stream().ended(Duration.ZERO)));
    s.stream().events(List.of(notice(base + 6)));
    awaitAck(s, base + 6);
    s.stream().events(List.of(notice(base + 4), notice(base + 7)));
    Status end = s.stream().ended(timeout);
    boolean acked7 = s.stream().seen().stream().anyMatch(f -> f.hasAck() && f.getAck().getUptoSeq() >= base + 7);
    findings.check(end != null && end.getCode() == Status.Code.INVALID_ARGUMENT
            && String.valueOf(end.getDescription()).contains(Long.toString(base + 4)) && !acked7,
        "events.skipped-seq-refused", "seq " + (base + 4) + " (skipped before " + (base + 6)
            + ") refused: " + describe(end), "a seq below the high-water mark that was never"
            + " stored must be refused with INVALID_ARGUMENT naming it, not acked; got "
            + describe(end) + (acked7 ? " and an Ack of " + (base + 7) : ""));
    s.stream().close();
    Session after = open("events.refused-batch-not-stored");
    if (after == null) return;
    findings.check(after.welcome().getAckedSeq() == base + 6, "events.refused-batch-not-stored",
        "Welcome.acked_seq " + (base + 6) + " after the refusal",
        "Welcome.acked_seq is " + after.welcome().getAckedSeq() + ", expected " + (base + 6)
            + ": seq " + (base + 7) + " of the refused batch was stored");
    after.stream().close();
  }

  private static boolean awaitAck(Session s, long seq, Duration wait) {
    return s.stream().next(wait, f -> f.hasAck() && f.getAck().getUptoSeq() >= seq) != null;
  }

  private boolean awaitAck(Session s, long seq) {
    return awaitAck(s, seq, timeout);
  }

  private static Event notice(long seq) {
    return Event.newBuilder().setSeq(seq).setNotice(AgentNotice.newBuilder()
        .setKind(AgentNotice.Kind.RETENTION).setMessage("lockstep conformance kit, seq " + seq)).build();
  }

  // ------------------------------------------------------------------ refusals

  private void refusals() {
    refused("events.seqs-increase", b -> List.of(frame(notice(b + 2), notice(b + 1))),
        b -> "strictly increase");
    refused("events.body-required", b -> List.of(frame(notice(b + 1), Event.newBuilder().setSeq(b + 2).build())),
        b -> "seq " + (b + 2));
    refused("events.golden-run-id", b -> List.of(frame(golden(b + 1, report("", "primary", "x")))),
        b -> "run_id");
    refused("events.golden-role", b -> List.of(frame(golden(b + 1, report(tag + "-role", "", "x")))),
        b -> "role");
    refused("events.hash-form", b -> List.of(frame(golden(b + 1, report(tag + "-form", "primary", "x")
        .toBuilder().setCanonicalHash("D41D8CD98F00B204E9800998ECF8427E").build()))), b -> "canonical_hash");
    refused("hello.once", b -> List.of(AgentFrame.newBuilder().setHello(hello(target.agentId(), enacted)).build()),
        b -> "Hello");
    refusedLimits();
  }

  private void refusedLimits() {
    Session s = open("limits.batch");
    if (s == null) return;
    int max = s.welcome().getMaxBatchEvents();
    int frameMax = s.welcome().getMaxFrameBytes();
    s.stream().close();
    refused("limits.batch", b -> {
      List<Event> events = new ArrayList<>();
      for (int i = 1; i <= max + 1; i++) events.add(notice(b + i));
      return List.of(AgentFrame.newBuilder().setEvents(dev.lockstep.proto.v1.EventBatch.newBuilder()
          .addAllEvents(events)).build());
    }, b -> Integer.toString(max));
    refusedWith("limits.frame", Status.Code.RESOURCE_EXHAUSTED, b -> List.of(AgentFrame.newBuilder()
        .setEvents(dev.lockstep.proto.v1.EventBatch.newBuilder().addEvents(Event.newBuilder()
            .setSeq(b + 1).setNotice(AgentNotice.newBuilder().setKind(AgentNotice.Kind.RETENTION)
                .setMessage("x".repeat(frameMax + 1024))))).build()), b -> "");
  }

  private interface Frames {
    List<AgentFrame> after(long storedSeq);
  }

  private void refused(String rule, Frames frames, LongFunction<String> mentions) {
    refusedWith(rule, Status.Code.INVALID_ARGUMENT, frames, mentions);
  }

  /**
   * On a fresh stream, sends {@code frames} (seqs above what is stored) and expects the stream to
   * end with {@code code}, its description naming {@code mentions} of the stored seq, and nothing
   * of it stored (the next Welcome's acked_seq unchanged).
   */
  private void refusedWith(String rule, Status.Code code, Frames frames, LongFunction<String> mentions) {
    Session s = open(rule);
    if (s == null) return;
    long base = stored;
    String expect = mentions.apply(base);
    frames.after(base).forEach(s.stream()::send);
    Status end = s.stream().ended(timeout);
    boolean ok = end != null && end.getCode() == code && String.valueOf(end.getDescription()).contains(expect);
    s.stream().close();
    Session probe = open(rule);
    if (probe == null) return;
    long now = probe.welcome().getAckedSeq();
    probe.stream().close();
    findings.check(ok && now == base, rule, describe(end),
        (ok ? "" : "expected " + code + " mentioning '" + expect + "', got " + describe(end) + "; ")
            + (now == base ? "" : "Welcome.acked_seq moved from " + base + " to " + now
                + ": part of the refused batch was stored"));
  }

  private static AgentFrame frame(Event... events) {
    return AgentFrame.newBuilder().setEvents(dev.lockstep.proto.v1.EventBatch.newBuilder()
        .addAllEvents(List.of(events))).build();
  }

  // ------------------------------------------------------------------ correlation and stops

  private GoldenReport report(String runId, String role, String content) {
    String h = WireForm.hash(content);
    return GoldenReport.newBuilder().setPath("/conformance/" + runId + "." + role + ".golden.json")
        .setRunId(runId).setWorkflow("conformance").setRole(role).setHasSeed(true).setSeed(7)
        .setCanonicalHash(h).setOutputHash(WireForm.hash("output " + content))
        .addSteps(StepSummary.newBuilder().setIndex(0).setName("compute").setKind("compute")
            .setCanonicalHash(WireForm.hash("step " + content))).build();
  }

  private static Event golden(long seq, GoldenReport r) {
    return Event.newBuilder().setSeq(seq).setGolden(r).build();
  }

  private static final List<String> CORRELATION = List.of("correlation.match",
      "correlation.mismatch", "correlation.replica-conflict", "stop.order-on-p0",
      "stop.resume-releases");

  private void correlation() {
    if (target.operator() == null) {
      CORRELATION.forEach(r -> findings.skip(r, "needs --operator-cert/--operator-key to read verdicts"));
      return;
    }
    try {
      correlate();
    } catch (StatusRuntimeException e) {
      List<String> reached = findings.all().stream().map(Findings.Finding::rule).toList();
      for (String rule : CORRELATION) {
        if (!reached.contains(rule)) findings.fail(rule, "the Operator API failed: " + describe(e.getStatus()));
      }
    }
  }

  private void correlate() {
    Session s = open("correlation.match");
    if (s == null) return;
    String match = tag + "-match";
    String mismatch = tag + "-mismatch";
    long b = stored;
    s.stream().events(List.of(golden(b + 1, report(match, "primary", "same")),
        golden(b + 2, report(match, "shadow", "same"))));
    verdictOnly("correlation.match", match, "MATCH");
    s.stream().events(List.of(golden(b + 3, report(mismatch, "primary", "one")),
        golden(b + 4, report(mismatch, "shadow", "other"))));
    Incident mismatched = verdictAndIncident("correlation.mismatch", mismatch, "MISMATCH", null);
    s.stream().events(List.of(golden(b + 5, report(match, "primary", "changed"))));
    Incident conflict = verdictAndIncident("correlation.replica-conflict", match, "REPLICA_CONFLICT",
        "REPLICA_CONFLICT");
    stopAndResume(s, mismatched, conflict);
    s.stream().close();
  }

  private Run verdict(String rule, String runId, String expected) {
    String[] last = {"none (run unknown)"};
    Run run = poll(() -> {
      Run r = operator().getRun(GetRunRequest.newBuilder().setRunId(runId).build());
      last[0] = r.getVerdict();
      return r.getVerdict().equals(expected) ? r : null;
    });
    if (run == null) findings.fail(rule, "run " + runId + ": verdict " + last[0] + ", expected " + expected);
    return run;
  }

  private void verdictOnly(String rule, String runId, String expected) {
    if (verdict(rule, runId, expected) != null) findings.pass(rule, "run " + runId + " " + expected);
  }

  private Incident verdictAndIncident(String rule, String runId, String verdict, String category) {
    Run run = verdict(rule, runId, verdict);
    if (run == null) return null;
    Incident inc = poll(() -> operator().listIncidents(ListIncidentsRequest.newBuilder()
        .setOpenOnly(true).setPageSize(200).build()).getIncidentsList().stream()
        .filter(i -> i.getRunIdsList().contains(runId) && i.getSeverity() == Severity.P0
            && (category == null || i.getCategory().equals(category)))
        .findFirst().orElse(null));
    findings.check(inc != null, rule, "run " + runId + " " + verdict + ", incident " + (inc == null ? ""
            : inc.getId() + " P0 " + inc.getCategory()),
        "run " + runId + " " + verdict + " but no open P0 incident" + (category == null ? "" : " " + category));
    return inc;
  }

  private void stopAndResume(Session s, Incident... incidents) {
    List<String> ids = new ArrayList<>();
    for (Incident i : incidents) if (i != null) ids.add(i.getId());
    if (ids.isEmpty()) {
      findings.skip("stop.order-on-p0", "no P0 incident to stop on");
      findings.skip("stop.resume-releases", "no stop");
      return;
    }
    CollectorFrame stop = s.stream().next(timeout.plus(resend), f -> f.hasStop()
        && f.getStop().getState().getMode() == StopMode.STOPPED
        && f.getStop().getState().getOrdersList().stream().anyMatch(o -> ids.contains(o.getIncidentId())));
    if (stop == null) {
      boolean ordered = operator().getStopStatus(StopStatusRequest.getDefaultInstance()).getOrdersList()
          .stream().anyMatch(o -> ids.contains(o.getIncidentId()));
      if (ordered) {
        findings.fail("stop.order-on-p0", "an order for " + ids + " exists but this agent got no"
            + " StopCommand naming it within " + timeout.plus(resend).toSeconds() + " s");
      } else {
        findings.skip("stop.order-on-p0", "no stop order for " + ids + " (stop policy off?)");
      }
      findings.skip("stop.resume-releases", "no stop");
      return;
    }
    StopState stopped = stop.getStop().getState();
    enactAndAck(s, stopped);
    boolean confirmed = poll(() -> operator().getStopStatus(StopStatusRequest.getDefaultInstance())
        .getAgentsList().stream().anyMatch(a -> a.getAgentId().equals(target.agentId())
            && a.getStatus().equals("CONFIRMED") && a.getAckedGeneration() == stopped.getGeneration())
        ? Boolean.TRUE : null) != null;
    findings.check(confirmed, "stop.order-on-p0", "StopCommand generation " + stopped.getGeneration()
        + " STOPPED for " + stopped.getOrdersList().stream().map(StopOrder::getId).toList()
        + ", ack counted (CONFIRMED)", "the matching ack of generation " + stopped.getGeneration()
        + " was not counted as CONFIRMED");
    List<String> mine = stopped.getOrdersList().stream().filter(o -> ids.contains(o.getIncidentId()))
        .map(StopOrder::getId).toList();
    operator().resumeStop(ResumeStopRequest.newBuilder().addAllOrderIds(mine)
        .setReason("lockstep conformance kit: its own test incidents " + ids).build());
    CollectorFrame resumed = s.stream().next(timeout, f -> f.hasStop()
        && f.getStop().getState().getGeneration() > stopped.getGeneration());
    if (resumed == null) {
      findings.fail("stop.resume-releases", "no new desired state after resuming " + mine);
      return;
    }
    StopState next = resumed.getStop().getState();
    boolean released = next.getOrdersList().stream().noneMatch(o -> mine.contains(o.getId()))
        && (next.getMode() != StopMode.RUNNING || next.getReleasedOrderIdsList().containsAll(mine));
    enactAndAck(s, next);
    findings.check(released, "stop.resume-releases", "generation " + next.getGeneration() + " "
        + next.getMode() + " releases " + next.getReleasedOrderIdsList(), "generation "
        + next.getGeneration() + " " + next.getMode() + " does not release " + mine + ": "
        + next.getReleasedOrderIdsList());
    for (String id : ids) {
      try {
        operator().resolveIncident(IncidentActionRequest.newBuilder().setId(id)
            .setNote("lockstep conformance kit: test incident").build());
      } catch (StatusRuntimeException e) {
        findings.note("could not resolve " + id + ": " + e.getStatus());
      }
    }
  }

  private OperatorGrpc.OperatorBlockingStub operator() {
    return target.operator().withDeadlineAfter(timeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** Asks until {@code probe} gives non-null or the timeout passes (NOT_FOUND counts as null). */
  private <T> T poll(Supplier<T> probe) {
    long until = System.nanoTime() + timeout.toNanos();
    while (true) {
      try {
        T v = probe.get();
        if (v != null) return v;
      } catch (StatusRuntimeException e) {
        if (e.getStatus().getCode() != Status.Code.NOT_FOUND) throw e;
      }
      if (System.nanoTime() > until) return null;
      try {
        Thread.sleep(100);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return null;
      }
    }
  }

  /** A status in one line: its code and the first line of its description. */
  static String describe(Status s) {
    if (s == null) return "an open stream";
    String d = s.getDescription() == null ? "" : s.getDescription().lines().findFirst().orElse("");
    return s.getCode() + (d.isEmpty() ? "" : ": " + d);
  }
}
