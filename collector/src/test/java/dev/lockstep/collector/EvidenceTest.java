package dev.lockstep.collector;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.ByteString;
import dev.lockstep.collector.config.CollectorConfig;
import dev.lockstep.collector.evidence.EvidenceStore;
import dev.lockstep.golden.Golden;
import dev.lockstep.golden.GoldenConfig;
import dev.lockstep.golden.RunSummary;
import dev.lockstep.proto.v1.AgentFrame;
import dev.lockstep.proto.v1.CaptureRequest;
import dev.lockstep.proto.v1.DiffRequest;
import dev.lockstep.proto.v1.DiffResponse;
import dev.lockstep.proto.v1.EvidenceChunk;
import dev.lockstep.proto.v1.EvidenceFile;
import dev.lockstep.proto.v1.ExportEvidenceRequest;
import dev.lockstep.proto.v1.GetIncidentRequest;
import dev.lockstep.proto.v1.GetRunRequest;
import dev.lockstep.proto.v1.GoldenReport;
import dev.lockstep.proto.v1.Incident;
import dev.lockstep.proto.v1.IncidentState;
import dev.lockstep.proto.v1.ListIncidentsRequest;
import dev.lockstep.proto.v1.ListRunsRequest;
import dev.lockstep.proto.v1.OperatorGrpc;
import dev.lockstep.proto.v1.Run;
import dev.lockstep.proto.v1.StepSummary;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EvidenceTest {
  static final ObjectMapper JSON = new ObjectMapper();
  @TempDir Path dir;

  static String doc(String role, String rng) {
    return """
        {"format":"lockstep.golden/v1","run_id":"run-7","workflow":"billing.reconcile","role":"%s",
         "seed":1234,"timestamp":"2025-12-02T10:00:0%sZ","steps":[
          {"index":0,"name":"load","kind":"compute","output":{"n":3}},
          {"index":1,"name":"sample","kind":"compute","rng":[%s],"output":{"pick":7}}],
         "output":{"total":42}}
        """.formatted(role, role.equals("primary") ? "0" : "5", rng);
  }

  static GoldenReport reportOf(String json, String path) throws Exception {
    RunSummary s = Golden.parse(json.getBytes(StandardCharsets.UTF_8), path, GoldenConfig.DEFAULT).summary();
    GoldenReport.Builder b = GoldenReport.newBuilder().setPath(path).setRunId(s.runId())
        .setWorkflow(s.workflow()).setRole(s.role()).setHasSeed(s.seed() != null)
        .setSeed(s.seed() == null ? 0 : s.seed()).setCanonicalHash(s.canonicalHash())
        .setEngineHash(s.engineHash()).setOutputHash(s.outputHash());
    for (var st : s.steps()) {
      b.addSteps(StepSummary.newBuilder().setIndex(st.index()).setName(st.name()).setKind(st.kind())
          .setExternal(st.external()).setCanonicalHash(st.canonicalHash()).setEngineHash(st.engineHash())
          .setRngHash(st.rngHash()).setResponseHash(st.responseHash()));
    }
    return b.build();
  }

  static String sha(byte[] b) throws Exception {
    return "sha256:" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
  }

  static void sendArtifact(RawAgent a, CaptureRequest c, String name, String kind, byte[] data, int chunk)
      throws Exception {
    for (int off = 0; off < data.length; off += chunk) {
      int end = Math.min(data.length, off + chunk);
      EvidenceChunk.Builder b = EvidenceChunk.newBuilder().setRequestId(c.getRequestId())
          .setIncidentId(c.getIncidentId()).setName(name).setKind(kind).setOffset(off)
          .setData(ByteString.copyFrom(data, off, end - off));
      if (end == data.length) b.setLast(true).setTotalBytes(data.length).setSha256(sha(data));
      a.send(AgentFrame.newBuilder().setEvidence(b).build());
    }
  }

  @Test
  void aMismatchPullsBothGoldenDocumentsDiffsThemAndExportsTheEvidence() throws Exception {
    CollectorConfig config = CollectorConfig.defaults(dir).withInsecure(true).withListen("127.0.0.1", 0)
        .withStopPolicy(CollectorConfig.StopPolicy.FLEET);
    try (Collector collector = Collector.start(config, Clock.systemUTC(), l -> { });
        RawAgent a = RawAgent.connect(collector.port(), "host-a")) {
      ManagedChannel ch = NettyChannelBuilder.forAddress("127.0.0.1", collector.port()).usePlaintext().build();
      try {
        var op = OperatorGrpc.newBlockingStub(ch);
        String primary = doc("primary", "0.12, 0.98");
        String shadow = doc("shadow", "0.55, 0.01");
        a.report(reportOf(primary, "/g/run-7.primary.golden.json"),
            reportOf(shadow, "/g/run-7.shadow.golden.json"));
        CaptureRequest c = a.await("capture", f -> f.hasCapture()).getCapture();
        assertThat(c.getIncidentId()).isEqualTo("INC-000001");
        assertThat(c.getRunIdsList()).containsExactly("run-7");
        assertThat(c.getIncludeLogs()).isTrue();
        assertThat(c.getIncludeSnapshot()).isTrue();
        var pins = a.await("pins", f -> f.hasPins() && f.getPins().getRunIdsCount() == 1).getPins();
        assertThat(pins.getRunIdsList()).containsExactly("run-7");
        assertThat(pins.getPathsList()).containsExactlyInAnyOrder("/g/run-7.primary.golden.json",
            "/g/run-7.shadow.golden.json");

        // before documents arrive, Diff answers from inline summaries
        DiffResponse inline = op.diff(DiffRequest.newBuilder().setRunId("run-7").build());
        assertThat(inline.getFromDocuments()).isFalse();
        assertThat(JSON.readTree(inline.getReportJson()).get("category").asText()).isEqualTo("UNSEEDED_RNG");

        sendArtifact(a, c, "golden/run-7.primary.golden.json", "golden", primary.getBytes(StandardCharsets.UTF_8), 100);
        sendArtifact(a, c, "../../etc/passwd", "log", "root:x".getBytes(StandardCharsets.UTF_8), 100);
        sendArtifact(a, c, "golden/run-7.shadow.golden.json", "golden", shadow.getBytes(StandardCharsets.UTF_8), 64);
        sendArtifact(a, c, "snapshot/ps_aux.txt", "snapshot", "PID CMD\n1 init\n".getBytes(StandardCharsets.UTF_8), 1000);
        a.send(AgentFrame.newBuilder().setEvidence(EvidenceChunk.newBuilder().setRequestId(c.getRequestId())
            .setIncidentId(c.getIncidentId()).setDone(true)).build());

        DiffResponse stored = Eventually.value(Duration.ofSeconds(10), "stored diff", () -> {
          DiffResponse r = op.diff(DiffRequest.newBuilder().setIncidentId("INC-000001").build());
          return r.getFromDocuments() ? r : null;
        });
        JsonNode report = JSON.readTree(stored.getReportJson());
        assertThat(report.get("verdict").asText()).isEqualTo("MISMATCH");
        assertThat(report.get("category").asText()).isEqualTo("UNSEEDED_RNG");
        assertThat(report.get("first_divergent_step").get("index").asInt()).isEqualTo(1);
        List<String> paths = new ArrayList<>();
        report.get("differences").forEach(d -> paths.add(d.get("path").asText()));
        assertThat(paths).anySatisfy(p -> assertThat(p).startsWith("/steps/1/rng"));
        assertThat(stored.getSideBySideJson()).as("drawn only when asked for").isEmpty();

        // side by side: drawn with the diff, from the same walk; drawn again when not stored
        for (int attempt = 0; attempt < 2; attempt++) {
          DiffResponse drawn = op.diff(DiffRequest.newBuilder().setIncidentId("INC-000001").setSideBySide(true).build());
          JsonNode view = JSON.readTree(drawn.getSideBySideJson());
          assertThat(view.get("format").asText()).isEqualTo("lockstep.side-by-side/v1");
          JsonNode first = view.get("rows").get(view.get("first_divergence_row").asInt());
          assertThat(first.get("type").asText()).isEqualTo("differ");
          assertThat(first.get("path").asText()).startsWith("/steps/1/");
          List<String> viewPaths = new ArrayList<>();
          view.get("rows").forEach(row -> viewPaths.add(row.get("type").asText() + " " + row.get("path").asText()));
          assertThat(viewPaths).contains("differ /steps/1/rng/0", "differ /timestamp", "same /steps/0");
          assertThat(collector.store().get(dev.lockstep.collector.store.Store.Family.EVIDENCE,
              "side-by-side/INC-000001")).as("evidence is kept beside the main store").isNull();
          collector.evidenceStore().delete(dev.lockstep.collector.store.Store.Family.EVIDENCE, "side-by-side/INC-000001");
        }

        Incident inc = Eventually.value(Duration.ofSeconds(5), "three artifacts listed", () -> {
          Incident i = op.getIncident(GetIncidentRequest.newBuilder().setId("INC-000001").build());
          return i.getEvidenceCount() == 3 ? i : null;
        });
        assertThat(inc.getEvidenceList()).extracting(e -> e.getAgentId() + "/" + e.getName())
            .containsExactlyInAnyOrder("host-a/golden/run-7.primary.golden.json",
                "host-a/golden/run-7.shadow.golden.json", "host-a/snapshot/ps_aux.txt");
        assertThat(inc.getDifferencesList()).isNotEmpty();
        assertThat(inc.getCategory()).isEqualTo("UNSEEDED_RNG");

        List<EvidenceFile> files = new ArrayList<>();
        Iterator<EvidenceFile> it = op.exportEvidence(ExportEvidenceRequest.newBuilder()
            .setIncidentId("INC-000001").build());
        it.forEachRemaining(files::add);
        StringBuilder shadowBack = new StringBuilder();
        for (EvidenceFile f : files) {
          if (f.getName().equals("host-a/golden/run-7.shadow.golden.json")) {
            shadowBack.append(f.getData().toStringUtf8());
            if (f.getLast()) assertThat(f.getSha256()).isEqualTo(sha(shadow.getBytes(StandardCharsets.UTF_8)));
          }
        }
        assertThat(shadowBack.toString()).isEqualTo(shadow);
        assertThat(files).noneSatisfy(f -> assertThat(f.getName()).contains(".."));

        Run run = op.getRun(GetRunRequest.newBuilder().setRunId("run-7").build());
        assertThat(run.getVerdict()).isEqualTo("MISMATCH");
        assertThat(run.getIncidentId()).isEqualTo("INC-000001");
        assertThat(run.getReplicasList()).extracting(r -> r.getRole()).containsExactlyInAnyOrder("primary", "shadow");
        assertThat(op.listRuns(ListRunsRequest.newBuilder().setMismatchOnly(true).build()).getRunsList())
            .extracting(Run::getRunId).containsExactly("run-7");
        assertThat(op.listRuns(ListRunsRequest.newBuilder().setRunIdPrefix("run-").build()).getRunsList())
            .extracting(Run::getRunId).containsExactly("run-7");
        assertThat(op.listRuns(ListRunsRequest.newBuilder().setRunIdPrefix("run-8").build()).getRunsList()).isEmpty();
        assertThat(op.listRuns(ListRunsRequest.newBuilder().setRunIdPrefix("run-").setPageToken("run-7").build())
            .getRunsList()).isEmpty();

        // incident filters: state, category, workflow
        assertThat(op.listIncidents(ListIncidentsRequest.newBuilder().setCategory("UNSEEDED_RNG")
            .setWorkflow("billing.reconcile").setState(IncidentState.OPEN).build()).getIncidentsList())
            .extracting(Incident::getId).containsExactly("INC-000001");
        assertThat(op.listIncidents(ListIncidentsRequest.newBuilder().setCategory("SEED_MISMATCH").build())
            .getIncidentsList()).isEmpty();
        assertThat(op.listIncidents(ListIncidentsRequest.newBuilder().setWorkflow("other").build())
            .getIncidentsList()).isEmpty();
        assertThat(op.listIncidents(ListIncidentsRequest.newBuilder().setState(IncidentState.ACKNOWLEDGED).build())
            .getIncidentsList()).isEmpty();
      } finally {
        ch.shutdownNow();
      }
    }
  }

  @Test
  void evidenceNamesAreSanitised() {
    assertThat(EvidenceStore.sanitize("golden/a.json")).hasValue("golden/a.json");
    assertThat(EvidenceStore.sanitize("logs//./x.log")).hasValue("logs/x.log");
    assertThat(EvidenceStore.sanitize("../etc/passwd")).isEmpty();
    assertThat(EvidenceStore.sanitize("a/../../b")).isEmpty();
    assertThat(EvidenceStore.sanitize("/etc/passwd")).isEmpty();
    assertThat(EvidenceStore.sanitize("C:\\windows")).isEmpty();
    assertThat(EvidenceStore.sanitize("bad\u0000name")).isEmpty();
  }

  @Test
  void anIncidentNeverHoldsMoreThanItsEvidenceBound() throws Exception {
    CollectorConfig config = CollectorConfig.defaults(dir).withInsecure(true).withListen("127.0.0.1", 0)
        .withEvidence(new CollectorConfig.Evidence(2048, 10, 1L << 30, 1L << 30));
    try (Collector collector = Collector.start(config, Clock.systemUTC(), l -> { });
        RawAgent a = RawAgent.connect(collector.port(), "host-a")) {
      a.report(Goldens.report("r", "w", "primary", "a"), Goldens.report("r", "w", "shadow", "b"));
      CaptureRequest c = a.await("capture", f -> f.hasCapture()).getCapture();
      sendArtifact(a, c, "logs/big.log", "log", new byte[5000], 1000);
      Incident inc = Eventually.value(Duration.ofSeconds(5), "evidence listed", () ->
          collector.fleet().incidents().get("INC-000001").filter(i -> i.getEvidenceCount() == 1).orElse(null));
      assertThat(inc.getEvidence(0).getSizeBytes()).isEqualTo(2000);
      assertThat(inc.getEvidence(0).getTruncated()).isTrue();
    }
  }

  @Test
  void evidenceIsTakenOnlyForACaptureRequestSentToThatAgentAndNeverReplacesAStoredArtifact() throws Exception {
    CollectorConfig config = CollectorConfig.defaults(dir).withInsecure(true).withListen("127.0.0.1", 0)
        .withStopPolicy(CollectorConfig.StopPolicy.OFF);
    try (Collector collector = Collector.start(config, Clock.systemUTC(), l -> { });
        RawAgent a = RawAgent.connect(collector.port(), "host-a");
        RawAgent x = RawAgent.connect(collector.port(), "host-x")) {
      x.await("welcome", f -> f.hasWelcome());
      a.report(Goldens.report("r", "w", "primary", "a"), Goldens.report("r", "w", "shadow", "b"));
      CaptureRequest c = a.await("capture", f -> f.hasCapture()).getCapture();
      var rejected = collector.metrics().rejectedFrames;
      // another agent answering host-a's request, a request that was never sent, an incident
      // that does not match the request
      sendArtifact(x, c, "golden/forged.json", "golden", "{}".getBytes(StandardCharsets.UTF_8), 100);
      sendArtifact(a, c.toBuilder().setRequestId("CAP-made-up").build(), "golden/x.json", "golden",
          "{}".getBytes(StandardCharsets.UTF_8), 100);
      sendArtifact(a, c.toBuilder().setIncidentId("INC-424242").build(), "golden/y.json", "golden",
          "{}".getBytes(StandardCharsets.UTF_8), 100);
      Eventually.await(Duration.ofSeconds(5), "all three refused", () ->
          rejected.labelValues("wrong_agent").getLongValue() == 1
              && rejected.labelValues("no_request").getLongValue() == 1
              && rejected.labelValues("wrong_incident").getLongValue() == 1);
      byte[] first = "first version".getBytes(StandardCharsets.UTF_8);
      sendArtifact(a, c, "logs/app.log", "log", first, 100);
      Eventually.await(Duration.ofSeconds(5), "stored", () -> collector.fleet().incidents().get("INC-000001")
          .map(i -> i.getEvidenceCount() == 1).orElse(false));
      sendArtifact(a, c, "logs/app.log", "log", "a replacement".getBytes(StandardCharsets.UTF_8), 100);
      Eventually.await(Duration.ofSeconds(5), "replacement refused", () ->
          rejected.labelValues("already_stored").getLongValue() >= 1);
      assertThat(collector.fleet().evidence().read("INC-000001", "host-a", "logs/app.log")).isEqualTo(first);
      assertThat(collector.fleet().evidence().list("INC-000001")).extracting(e -> e.getName())
          .containsExactly("logs/app.log");
      assertThat(collector.fleet().evidence().list("INC-424242")).isEmpty();
    }
  }

  @Test
  void oneRequestNeverTakesMoreThanItsMaxBytes() throws Exception {
    CollectorConfig config = CollectorConfig.defaults(dir).withInsecure(true).withListen("127.0.0.1", 0)
        .withStopPolicy(CollectorConfig.StopPolicy.OFF)
        .withEvidence(new CollectorConfig.Evidence(64 * 1024, 10, 1L << 30, 1L << 30));
    try (Collector collector = Collector.start(config, Clock.systemUTC(), l -> { });
        RawAgent a = RawAgent.connect(collector.port(), "host-a")) {
      a.report(Goldens.report("r", "w", "primary", "a"), Goldens.report("r", "w", "shadow", "b"));
      CaptureRequest c = a.await("capture", f -> f.hasCapture()).getCapture();
      assertThat(c.getMaxBytes()).isEqualTo(64 * 1024);
      sendArtifact(a, c, "logs/huge.log", "log", new byte[200 * 1024], 16 * 1024);
      Incident inc = Eventually.value(Duration.ofSeconds(5), "listed", () -> collector.fleet().incidents()
          .get("INC-000001").filter(i -> i.getEvidenceCount() == 1).orElse(null));
      assertThat(inc.getEvidence(0).getSizeBytes()).isLessThanOrEqualTo(64 * 1024);
      assertThat(inc.getEvidence(0).getTruncated()).isTrue();
      assertThat(collector.metrics().rejectedFrames.labelValues("evidence_over_request").getLongValue())
          .isPositive();
    }
  }
}
