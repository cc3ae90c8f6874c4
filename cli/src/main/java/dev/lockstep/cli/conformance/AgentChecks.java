package dev.lockstep.cli.conformance;

import com.google.protobuf.Timestamp;
import dev.lockstep.proto.v1.Ack;
import dev.lockstep.proto.v1.Backoff;
import dev.lockstep.proto.v1.AgentFrame;
import dev.lockstep.proto.v1.CaptureRequest;
import dev.lockstep.proto.v1.CollectorFrame;
import dev.lockstep.proto.v1.Event;
import dev.lockstep.proto.v1.EvidenceChunk;
import dev.lockstep.proto.v1.Hello;
import dev.lockstep.proto.v1.Pins;
import dev.lockstep.proto.v1.StopAck;
import dev.lockstep.proto.v1.StopCommand;
import dev.lockstep.proto.v1.StopMode;
import dev.lockstep.proto.v1.StopOrder;
import dev.lockstep.proto.v1.StopScope;
import dev.lockstep.proto.v1.StopState;
import dev.lockstep.proto.v1.Welcome;
import io.grpc.Status;
import java.io.ByteArrayOutputStream;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The kit as a collector: lets an agent connect three times and checks, frame by frame, the
 * rules of docs/protocol.md an agent must keep — its Hello, waiting for the Welcome, acking every
 * desired stop state (also resends), leaving STOPPED only for a state that releases every order it
 * holds, reporting what it enacted, event batches within the Welcome's limits with increasing
 * seqs and well-formed bodies, resending exactly what was not acked after a reconnect and nothing
 * that was, pausing and resending after a Backoff, evidence answers, reconnecting with backoff.
 *
 * <p>The stops are real for the agent under test: its on_stop/on_resume hooks run.
 */
final class AgentChecks {
  static final int MAX_BATCH_EVENTS = 3;
  static final int MAX_FRAME_BYTES = 1 << 20;
  private static final Duration QUIET = Duration.ofSeconds(2);

  private final KitCollector kit;
  private final Duration timeout;
  private final Findings findings;
  private final Clock clock;
  private final String order;
  private final List<Event> events = new ArrayList<>();
  private long acked;

  AgentChecks(KitCollector kit, Duration timeout, Findings findings, Clock clock, String tag) {
    this.kit = kit;
    this.timeout = timeout;
    this.findings = findings;
    this.clock = clock;
    this.order = "ORD-CONFORMANCE-" + tag;
  }

  void run() {
    findings.note("waiting up to " + timeout.toSeconds() + " s for an agent to connect on port "
        + kit.port() + " (and for it to report a golden file: write one where it watches)");
    KitCollector.Connection c1 = kit.accept(timeout);
    if (!findings.check(c1 != null, "agent.connects", "stream opened", "no agent connected within "
        + timeout.toSeconds() + " s")) {
      return;
    }
    Hello h1 = hello(c1, "hello.first-frame");
    if (h1 == null) return;
    helloFields(c1, h1);
    long g1 = clock.millis();
    first(c1, h1, g1);
  }

  // ------------------------------------------------------------------ connection 1

  private void first(KitCollector.Connection c1, Hello h1, long g1) {
    boolean quiet = !c1.await(Duration.ofSeconds(1), f -> f.size() > 1);
    findings.check(quiet, "agent.waits-for-welcome", "sent nothing after Hello before the Welcome",
        "sent " + (c1.frames().size() > 1 ? c1.frames().get(1).getFrameCase() : "") + " before the Welcome");
    acked = h1.getLastAckedSeq();
    List<String> held = h1.getEnactedStop().getMode() == StopMode.STOPPED
        ? h1.getEnactedStop().getOrdersList().stream().map(StopOrder::getId).toList() : List.of();
    StopState running = state(g1, StopMode.RUNNING).addAllReleasedOrderIds(held).build();
    welcome(c1, running, acked);
    expectAck(c1, "stop.acks-welcome", running, 1, true);
    c1.send(stop(running));
    expectAck(c1, "stop.answers-resend", running, 2, false);
    StopState stopped = state(g1 + 1, StopMode.STOPPED).addOrders(StopOrder.newBuilder().setId(order)
        .setScope(StopScope.newBuilder().setFleet(true)).setReason("lockstep conformance kit")
        .setIssuedBy("conformance").setIssuedAt(now())).build();
    c1.send(stop(stopped));
    expectAck(c1, "stop.enacts-stopped", stopped, 1, true);
    boolean some = c1.await(timeout, f -> f.stream().anyMatch(AgentFrame::hasEvents));
    c1.await(QUIET, f -> false);
    List<Event> sent = batches(c1, "connection 1", acked);
    if (!some) findings.note("no events on the first stream within " + timeout.toSeconds() + " s");
    c1.close(Status.UNAVAILABLE.withDescription("lockstep conformance kit: reconnect, please"));
    second(stopped, sent, clock.instant());
  }

  // ------------------------------------------------------------------ connection 2

  private void second(StopState stopped, List<Event> unacked, Instant closedAt) {
    KitCollector.Connection c2 = kit.accept(timeout);
    if (!findings.check(c2 != null, "agent.reconnects", "reconnected", "no new stream within "
        + timeout.toSeconds() + " s after the kit ended the first with UNAVAILABLE")) {
      return;
    }
    long delay = Duration.between(closedAt, c2.openedAt()).toMillis();
    findings.check(delay >= 500, "agent.reconnect-backoff", "reconnected after " + delay + " ms",
        "reconnected after " + delay + " ms; wait at least 1 s (±20 %) before the first retry");
    Hello h2 = hello(c2, "hello.first-frame");
    if (h2 == null) return;
    StopState e = h2.getEnactedStop();
    findings.check(e.getGeneration() == stopped.getGeneration() && e.getMode() == StopMode.STOPPED
            && e.getOrdersList().stream().anyMatch(o -> o.getId().equals(order)),
        "hello.reports-enacted-stop", "Hello.enacted_stop: generation " + e.getGeneration()
            + " STOPPED holding " + order, "Hello.enacted_stop is generation " + e.getGeneration()
            + " " + e.getMode() + " with " + e.getOrdersList().stream().map(StopOrder::getId).toList()
            + "; expected generation " + stopped.getGeneration() + " STOPPED holding " + order);
    welcome(c2, stopped, acked);
    expectAck(c2, "stop.acks-welcome-of-enacted-state", stopped, 1, true);
    long last = unacked.isEmpty() ? acked : unacked.get(unacked.size() - 1).getSeq();
    c2.await(timeout, f -> seqs(f).contains(last));
    c2.await(QUIET, f -> false);
    List<Event> resent = batches(c2, "connection 2", acked);
    resendChecks(unacked, resent);
    backoff(c2, resent);
    long upto = resent.isEmpty() ? acked : resent.get(resent.size() - 1).getSeq();
    c2.send(CollectorFrame.newBuilder().setAck(Ack.newBuilder().setUptoSeq(upto)).build());
    acked = upto;
    StopState notReleasing = state(stopped.getGeneration() + 1, StopMode.RUNNING).build();
    c2.send(stop(notReleasing));
    c2.await(QUIET.plus(QUIET), f -> acks(f, notReleasing).size() > 0);
    List<StopAck> answers = acks(c2.frames(), notReleasing);
    findings.check(answers.stream().noneMatch(StopAck::getEnacted), "stop.keeps-unreleased-orders",
        "a RUNNING state not releasing " + order + " was not enacted"
            + (answers.isEmpty() ? "" : " (answered enacted=false: " + answers.get(0).getDetail() + ")"),
        "enacted RUNNING although " + order + " was not in released_order_ids");
    StopState resume = state(stopped.getGeneration() + 2, StopMode.RUNNING).addReleasedOrderIds(order).build();
    c2.send(stop(resume));
    expectAck(c2, "stop.resume-releases", resume, 1, true);
    capture(c2);
    c2.close(Status.UNAVAILABLE.withDescription("lockstep conformance kit: reconnect, please"));
    third(resume);
  }

  private void resendChecks(List<Event> unacked, List<Event> resent) {
    if (unacked.isEmpty()) {
      findings.skip("events.resent-after-reconnect", "the agent sent no events on the first stream");
      findings.skip("events.resent-identical", "nothing to compare");
      return;
    }
    Map<Long, Event> again = new TreeMap<>();
    for (Event x : resent) again.put(x.getSeq(), x);
    List<Long> missing = new ArrayList<>();
    List<Long> changed = new ArrayList<>();
    for (Event x : unacked) {
      Event y = again.get(x.getSeq());
      if (y == null) {
        missing.add(x.getSeq());
      } else if (!y.equals(x)) {
        changed.add(x.getSeq());
      }
    }
    findings.check(missing.isEmpty(), "events.resent-after-reconnect", "all " + unacked.size()
        + " unacked events resent above Welcome.acked_seq " + acked, "not resent: seqs " + missing);
    findings.check(changed.isEmpty(), "events.resent-identical", "resent events equal the first sending",
        "resent with other content: seqs " + changed);
  }

  /**
   * Sends a Backoff for the events the agent just resent (none stored): it must send no events
   * for retry_after_ms, then every one of them again, in order, echoing the Backoff's id.
   */
  private void backoff(KitCollector.Connection c, List<Event> held) {
    if (held.isEmpty()) {
      findings.skip("backoff.pauses", "no unacked events to hold back");
      findings.skip("backoff.resends-after-retry", "no unacked events to hold back");
      return;
    }
    long retry = 1500;
    int from = c.frames().size();
    Instant sent = clock.instant();
    c.send(CollectorFrame.newBuilder().setBackoff(Backoff.newBuilder().setId(1)
        .setResendAfterSeq(acked).setRetryAfterMs((int) retry).setDecisiveTaken(false)
        .setReason("lockstep conformance kit: backoff check")).build());
    long last = held.get(held.size() - 1).getSeq();
    c.await(timeout.plusMillis(retry), f -> f.subList(Math.min(from, f.size()), f.size()).stream()
        .anyMatch(x -> x.hasEvents() && x.getEvents().getBackoffId() >= 1
            && x.getEvents().getEventsList().stream().anyMatch(e -> e.getSeq() == last)));
    List<AgentFrame> frames = c.frames();
    List<Instant> at = c.arrivals();
    List<String> early = new ArrayList<>();
    List<Long> again = new ArrayList<>();
    for (int i = from; i < frames.size(); i++) {
      if (!frames.get(i).hasEvents() || frames.get(i).getEvents().getBackoffId() < 1) continue;
      long after = Duration.between(sent, at.get(i)).toMillis();
      if (after < retry - 150) early.add("a batch " + after + " ms after the Backoff");
      frames.get(i).getEvents().getEventsList().forEach(e -> again.add(e.getSeq()));
    }
    List<Long> expected = held.stream().map(Event::getSeq).toList();
    findings.check(early.isEmpty(), "backoff.pauses", "no events for retry_after_ms " + retry
        + " (batches sent before it carried backoff_id 0)", "sent events during the pause: " + early);
    findings.check(again.size() >= expected.size() && again.subList(0, expected.size()).equals(expected),
        "backoff.resends-after-retry", "resent seqs " + expected.get(0) + ".." + last
            + " after the pause with backoff_id 1", "after the Backoff expected seqs " + expected
            + " again (backoff_id >= 1), got " + again);
  }

  private void capture(KitCollector.Connection c) {
    Optional<String> run = events.stream().filter(Event::hasGolden).map(Event::getGolden)
        .filter(g -> !g.hasError() && !g.getRunId().isEmpty()).map(g -> g.getRunId()).findFirst();
    if (run.isEmpty()) {
      findings.skip("evidence.capture", "no golden report to ask evidence for");
      return;
    }
    String id = "CAP-" + order;
    long max = 1 << 20;
    c.send(CollectorFrame.newBuilder().setCapture(CaptureRequest.newBuilder().setRequestId(id)
        .setIncidentId("INC-CONFORMANCE").addRunIds(run.get()).setMaxBytes(max)).build());
    boolean done = c.await(timeout, f -> f.stream().anyMatch(x -> x.hasEvidence()
        && x.getEvidence().getRequestId().equals(id) && x.getEvidence().getDone()));
    List<EvidenceChunk> chunks = c.frames().stream().filter(AgentFrame::hasEvidence)
        .map(AgentFrame::getEvidence).toList();
    List<String> problems = evidenceProblems(chunks, id, max);
    if (!done) problems.add("no chunk with done=true within " + timeout.toSeconds() + " s");
    findings.check(problems.isEmpty(), "evidence.capture", chunks.size() + " chunks for run "
        + run.get() + ", artifacts " + artifacts(chunks).keySet(), String.join("; ", problems));
  }

  private static Map<String, ByteArrayOutputStream> artifacts(List<EvidenceChunk> chunks) {
    Map<String, ByteArrayOutputStream> out = new LinkedHashMap<>();
    for (EvidenceChunk c : chunks) {
      if (!c.getName().isEmpty()) out.computeIfAbsent(c.getName(), k -> new ByteArrayOutputStream())
          .writeBytes(c.getData().toByteArray());
    }
    return out;
  }

  private static List<String> evidenceProblems(List<EvidenceChunk> chunks, String id, long max) {
    List<String> problems = new ArrayList<>();
    long total = 0;
    for (EvidenceChunk c : chunks) {
      if (!c.getRequestId().equals(id)) problems.add("a chunk names request " + c.getRequestId());
      total += c.getData().size();
    }
    if (total > max) problems.add(total + " bytes sent, max_bytes was " + max);
    Map<String, ByteArrayOutputStream> data = artifacts(chunks);
    for (EvidenceChunk c : chunks) {
      if (!c.getLast() || c.getName().isEmpty() || !c.getError().isEmpty()) continue;
      byte[] whole = data.get(c.getName()).toByteArray();
      String sha = sha256(whole);
      if (whole.length != c.getTotalBytes() || !sha.equals(c.getSha256())) {
        problems.add(c.getName() + ": last chunk says " + c.getTotalBytes() + " bytes " + c.getSha256()
            + ", the chunks hold " + whole.length + " bytes " + sha);
      }
    }
    if (data.isEmpty()) problems.add("no artifact for a run the agent reported");
    return problems;
  }

  private static String sha256(byte[] b) {
    try {
      return "sha256:" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  // ------------------------------------------------------------------ connection 3

  private void third(StopState resumed) {
    KitCollector.Connection c3 = kit.accept(timeout);
    if (c3 == null) {
      findings.fail("agent.reconnects", "no third stream within " + timeout.toSeconds() + " s");
      return;
    }
    Hello h3 = hello(c3, "hello.first-frame");
    if (h3 == null) return;
    StopState e = h3.getEnactedStop();
    findings.check(e.getGeneration() == resumed.getGeneration() && e.getMode() == StopMode.RUNNING,
        "hello.reports-enacted-resume", "Hello.enacted_stop: generation " + e.getGeneration() + " RUNNING",
        "Hello.enacted_stop is generation " + e.getGeneration() + " " + e.getMode() + ", expected "
            + resumed.getGeneration() + " RUNNING");
    welcome(c3, resumed, acked);
    expectAck(c3, "stop.acks-welcome-after-resume", resumed, 1, true);
    c3.await(QUIET, f -> false);
    List<Long> below = new ArrayList<>();
    for (AgentFrame f : c3.frames()) {
      if (f.hasEvents()) f.getEvents().getEventsList().stream().filter(x -> x.getSeq() <= acked)
          .forEach(x -> below.add(x.getSeq()));
    }
    findings.check(below.isEmpty(), "events.acked-not-resent", "nothing at or below the acked seq "
        + acked + " sent again", "resent acked seqs " + below);
    batches(c3, "connection 3", acked);
    boolean golden = events.stream().anyMatch(x -> x.hasGolden() && !x.getGolden().hasError());
    findings.check(golden, "events.golden-report", "golden reports received",
        "no GoldenReport arrived; write a golden file where the agent watches while the kit runs");
    c3.close(Status.OK);
  }

  // ------------------------------------------------------------------ pieces

  private Hello hello(KitCollector.Connection c, String rule) {
    boolean any = c.await(timeout, f -> !f.isEmpty());
    List<AgentFrame> frames = c.frames();
    if (!c.garbage().isEmpty()) findings.fail("frames.parse", "not an AgentFrame: " + c.garbage().get(0));
    boolean ok = any && frames.get(0).hasHello();
    findings.check(ok, rule, "Hello from " + (ok ? frames.get(0).getHello().getAgentId() : ""),
        any ? "the first frame is " + frames.get(0).getFrameCase() + ", not Hello"
            : "no frame within " + timeout.toSeconds() + " s");
    return ok ? frames.get(0).getHello() : null;
  }

  private void helloFields(KitCollector.Connection c, Hello h) {
    String id = h.getAgentId();
    boolean pattern = WireForm.AGENT_ID.matcher(id).matches();
    findings.check(pattern, "hello.agent-id-pattern", "agent_id '" + id + "'",
        "agent_id '" + id + "' does not match " + WireForm.AGENT_ID.pattern());
    if (c.identity() == null || c.identity().isAnonymousInsecure()) {
      findings.skip("hello.agent-id-is-certificate-cn", "plaintext (--insecure): no certificate");
    } else {
      findings.check(c.identity().name().equals(id), "hello.agent-id-is-certificate-cn",
          "agent_id = certificate CN", "agent_id '" + id + "' but certificate CN '"
              + c.identity().name() + "'");
    }
    findings.check(!h.getHostname().isBlank() && !h.getVersion().isBlank(), "hello.hostname-and-version",
        "hostname '" + h.getHostname() + "', version '" + h.getVersion() + "'",
        "hostname and version must be set: '" + h.getHostname() + "', '" + h.getVersion() + "'");
    StopState e = h.getEnactedStop();
    boolean shape = e.getOrdersCount() <= 4096 && (e.getMode() != StopMode.STOPPED || e.getOrdersCount() > 0);
    findings.check(shape, "hello.enacted-stop", "generation " + e.getGeneration() + " " + e.getMode()
        + ", " + e.getOrdersCount() + " orders", "a STOPPED enacted_stop names at least one order and"
        + " at most 4,096: " + e.getOrdersCount());
  }

  private void welcome(KitCollector.Connection c, StopState stop, long ackedSeq) {
    c.send(CollectorFrame.newBuilder().setWelcome(Welcome.newBuilder().setStop(stop)
        .setAckedSeq(ackedSeq).setMaxBatchEvents(MAX_BATCH_EVENTS).setMaxFrameBytes(MAX_FRAME_BYTES)
        .setCollectorVersion("lockstep-conformance/1")).build());
    c.send(CollectorFrame.newBuilder().setPins(Pins.getDefaultInstance()).build());
  }

  /** Expects the {@code n}th ack of exactly {@code state}'s (generation, mode). */
  private void expectAck(KitCollector.Connection c, String rule, StopState state, int n, boolean enacted) {
    boolean got = c.await(timeout, f -> acks(f, state).size() >= n);
    List<StopAck> acks = acks(c.frames(), state);
    StopAck a = got ? acks.get(n - 1) : null;
    boolean ok = a != null && (!enacted || a.getEnacted());
    findings.check(ok, rule, "StopAck generation " + state.getGeneration() + " " + state.getMode()
            + (a == null ? "" : ", enacted " + a.getEnacted() + ", verified " + a.getVerified()),
        a == null ? "no StopAck of generation " + state.getGeneration() + " " + state.getMode()
            + " within " + timeout.toSeconds() + " s (acks seen: " + allAcks(c) + ")"
            : "acked but not enacted: " + a.getDetail());
  }

  private static List<StopAck> acks(List<AgentFrame> frames, StopState s) {
    return frames.stream().filter(AgentFrame::hasStopAck).map(AgentFrame::getStopAck)
        .filter(a -> a.getGeneration() == s.getGeneration() && a.getMode() == s.getMode()).toList();
  }

  private static List<String> allAcks(KitCollector.Connection c) {
    return c.frames().stream().filter(AgentFrame::hasStopAck)
        .map(f -> f.getStopAck().getGeneration() + " " + f.getStopAck().getMode()).toList();
  }

  private static List<Long> seqs(List<AgentFrame> frames) {
    List<Long> out = new ArrayList<>();
    for (AgentFrame f : frames) {
      if (f.hasEvents()) f.getEvents().getEventsList().forEach(e -> out.add(e.getSeq()));
    }
    return out;
  }

  /** Checks the batches of one stream; returns its events in order. */
  private List<Event> batches(KitCollector.Connection c, String which, long above) {
    List<Event> out = new ArrayList<>();
    List<String> big = new ArrayList<>();
    List<String> order = new ArrayList<>();
    List<String> bad = new ArrayList<>();
    long previous = above;
    for (AgentFrame f : c.frames()) {
      if (!f.hasEvents()) continue;
      List<Event> batch = f.getEvents().getEventsList();
      if (batch.size() > MAX_BATCH_EVENTS) big.add(batch.size() + " events");
      if (f.getSerializedSize() > MAX_FRAME_BYTES) big.add(f.getSerializedSize() + " bytes");
      for (Event e : batch) {
        if (e.getSeq() <= previous) order.add(e.getSeq() + " after " + previous);
        previous = Math.max(previous, e.getSeq());
        for (String v : WireForm.violations(e)) bad.add("seq " + e.getSeq() + ": " + v);
        out.add(e);
      }
    }
    events.addAll(out);
    if (out.isEmpty()) return out;
    findings.check(big.isEmpty(), "events.batch-limits", which + ": batches within max_batch_events "
        + MAX_BATCH_EVENTS + " and max_frame_bytes", which + ": over the Welcome's limits: " + big);
    findings.check(order.isEmpty(), "events.seq-order", which + ": " + out.size() + " events, seqs"
        + " increasing above " + above, which + ": seqs out of order: " + order);
    findings.check(bad.isEmpty(), "events.well-formed", which + ": every event has a valid body",
        which + ": " + bad);
    return out;
  }

  private StopState.Builder state(long generation, StopMode mode) {
    return StopState.newBuilder().setGeneration(generation).setMode(mode)
        .setReason("lockstep conformance kit").setChangedBy("conformance").setChangedAt(now());
  }

  private static CollectorFrame stop(StopState s) {
    return CollectorFrame.newBuilder().setStop(StopCommand.newBuilder().setState(s)).build();
  }

  private Timestamp now() {
    Instant t = clock.instant();
    return Timestamp.newBuilder().setSeconds(t.getEpochSecond()).setNanos(t.getNano()).build();
  }
}
