package dev.lockstep.cli.fleet;

import com.google.protobuf.ByteString;
import com.google.protobuf.Timestamp;
import dev.lockstep.golden.Golden;
import dev.lockstep.golden.GoldenConfig;
import dev.lockstep.golden.RunSummary;
import dev.lockstep.golden.StepSummary;
import dev.lockstep.proto.v1.AgentFrame;
import dev.lockstep.proto.v1.AgentGatewayGrpc;
import dev.lockstep.proto.v1.CaptureRequest;
import dev.lockstep.proto.v1.CollectorFrame;
import dev.lockstep.proto.v1.Event;
import dev.lockstep.proto.v1.EventBatch;
import dev.lockstep.proto.v1.EvidenceChunk;
import dev.lockstep.proto.v1.GoldenReport;
import dev.lockstep.proto.v1.HealthSample;
import dev.lockstep.proto.v1.Hello;
import dev.lockstep.proto.v1.StopAck;
import dev.lockstep.proto.v1.StopState;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * An agent driven by the test over the real AgentGateway stream of a real collector: reports
 * golden files (summarised by the real golden library) and health samples, answers stop commands
 * (or not), and answers capture requests with its golden documents, a log tail and the
 * playbook's system snapshot, plus one artifact with a path-traversal name.
 */
final class TestAgent implements AutoCloseable {
  final String agentId;
  private final ManagedChannel channel;
  private final StreamObserver<AgentFrame> out;
  final List<CollectorFrame> received = new CopyOnWriteArrayList<>();
  /** run_id -> (file name -> bytes) */
  private final Map<String, Map<String, byte[]>> goldens = new LinkedHashMap<>();
  volatile boolean acknowledgeStops = true;
  private long seq;

  private TestAgent(int port, String agentId, Map<String, String> labels) {
    this.agentId = agentId;
    channel = NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
    out = AgentGatewayGrpc.newStub(channel).connect(new StreamObserver<>() {
      @Override
      public void onNext(CollectorFrame f) {
        received.add(f);
        answer(f);
      }

      @Override
      public void onError(Throwable t) {}

      @Override
      public void onCompleted() {}
    });
    send(AgentFrame.newBuilder().setHello(Hello.newBuilder().setAgentId(agentId).setHostname(agentId + ".local")
        .putAllLabels(labels).setVersion("test")).build());
  }

  static TestAgent connect(int port, String agentId) {
    return new TestAgent(port, agentId, Map.of());
  }

  boolean welcomed() {
    return received.stream().anyMatch(CollectorFrame::hasWelcome);
  }

  /** Reports a golden file as the real agent would: its summary from the golden library. */
  synchronized TestAgent golden(String fileName, String json) throws Exception {
    byte[] bytes = json.getBytes(StandardCharsets.UTF_8);
    RunSummary s = Golden.parse(bytes, fileName, GoldenConfig.DEFAULT).summary();
    goldens.computeIfAbsent(s.runId(), k -> new LinkedHashMap<>()).put(fileName, bytes);
    GoldenReport.Builder r = GoldenReport.newBuilder().setPath("/var/lib/aos/golden/" + fileName)
        .setSizeBytes(bytes.length).setRunId(s.runId()).setWorkflow(s.workflow()).setRole(s.role())
        .setHasSeed(s.seed() != null).setSeed(s.seed() == null ? 0 : s.seed())
        .setCanonicalHash(s.canonicalHash()).setEngineHash(nz(s.engineHash())).setOutputHash(nz(s.outputHash()));
    for (StepSummary st : s.steps()) {
      r.addSteps(dev.lockstep.proto.v1.StepSummary.newBuilder().setIndex(st.index()).setName(nz(st.name()))
          .setKind(nz(st.kind())).setExternal(st.external()).setCanonicalHash(nz(st.canonicalHash()))
          .setEngineHash(nz(st.engineHash())).setRngHash(nz(st.rngHash())).setResponseHash(nz(st.responseHash())));
    }
    return event(Event.newBuilder().setGolden(r));
  }

  synchronized TestAgent health(HealthSample sample) {
    return event(Event.newBuilder().setHealth(sample));
  }

  private TestAgent event(Event.Builder e) {
    e.setSeq(++seq).setObservedAt(Timestamp.newBuilder().setSeconds(System.currentTimeMillis() / 1000));
    send(AgentFrame.newBuilder().setEvents(EventBatch.newBuilder().addEvents(e)).build());
    return this;
  }

  private void answer(CollectorFrame f) {
    if (f.hasWelcome()) {
      ack(f.getWelcome().getStop());
    } else if (f.hasStop()) {
      ack(f.getStop().getState());
    } else if (f.hasCapture()) {
      capture(f.getCapture());
    }
  }

  private void ack(StopState s) {
    if (!acknowledgeStops) {
      return;
    }
    send(AgentFrame.newBuilder().setStopAck(StopAck.newBuilder().setGeneration(s.getGeneration()).setMode(s.getMode())
        .setEnacted(true).setVerified(true).setDetail("stop file written, verify ok")).build());
  }

  private synchronized void capture(CaptureRequest c) {
    for (String run : c.getRunIdsList()) {
      for (Map.Entry<String, byte[]> g : goldens.getOrDefault(run, Map.of()).entrySet()) {
        artifact(c, "golden/" + g.getKey(), "golden", g.getValue());
      }
    }
    if (c.getIncludeLogs()) {
      artifact(c, "logs/shadow_24h_20251202.log", "log",
          ("Running cycle 41\n0 mismatches\nRunning cycle 42\nCRITICAL: 1 mismatch errors found\n").getBytes(StandardCharsets.UTF_8));
    }
    if (c.getIncludeSnapshot()) {
      artifact(c, "snapshot/ps_aux.txt", "snapshot", ("USER PID %CPU\nroot 1 0.0 init\n" + agentId + "\n").getBytes(StandardCharsets.UTF_8));
      artifact(c, "snapshot/disk_usage.txt", "snapshot", "Filesystem Size Used Avail Use%\n/dev/sda1 100G 40G 60G 40%\n".getBytes(StandardCharsets.UTF_8));
      artifact(c, "snapshot/memory.txt", "snapshot", "Mem: 24Gi 3Gi 21Gi\n".getBytes(StandardCharsets.UTF_8));
    }
    artifact(c, "../../../escape.txt", "log", "an agent must not write outside\n".getBytes(StandardCharsets.UTF_8));
    send(AgentFrame.newBuilder().setEvidence(EvidenceChunk.newBuilder().setRequestId(c.getRequestId())
        .setIncidentId(c.getIncidentId()).setDone(true)).build());
  }

  /** One artifact in two chunks, the last with size and SHA-256. */
  private void artifact(CaptureRequest c, String name, String kind, byte[] data) {
    int half = data.length / 2;
    send(AgentFrame.newBuilder().setEvidence(EvidenceChunk.newBuilder().setRequestId(c.getRequestId())
        .setIncidentId(c.getIncidentId()).setName(name).setKind(kind).setOffset(0)
        .setData(ByteString.copyFrom(data, 0, half))).build());
    send(AgentFrame.newBuilder().setEvidence(EvidenceChunk.newBuilder().setRequestId(c.getRequestId())
        .setIncidentId(c.getIncidentId()).setName(name).setKind(kind).setOffset(half)
        .setData(ByteString.copyFrom(data, half, data.length - half)).setLast(true)
        .setTotalBytes(data.length).setSha256(sha256(data))).build());
  }

  private void send(AgentFrame f) {
    synchronized (out) {
      out.onNext(f);
    }
  }

  static String sha256(byte[] data) {
    try {
      return "sha256:" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private static String nz(String s) {
    return s == null ? "" : s;
  }

  @Override
  public void close() {
    try {
      synchronized (out) {
        out.onCompleted();
      }
    } catch (RuntimeException ignored) {
      // already closed
    }
    channel.shutdownNow();
    try {
      channel.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
