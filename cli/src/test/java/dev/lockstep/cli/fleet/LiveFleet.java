package dev.lockstep.cli.fleet;

import dev.lockstep.collector.Collector;
import dev.lockstep.collector.config.CollectorConfig;
import dev.lockstep.proto.v1.GetIncidentRequest;
import dev.lockstep.proto.v1.Incident;
import dev.lockstep.proto.v1.IncidentList;
import dev.lockstep.proto.v1.ListIncidentsRequest;
import dev.lockstep.proto.v1.OperatorGrpc;
import dev.lockstep.proto.v1.StopStatus;
import dev.lockstep.proto.v1.StopStatusRequest;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real collector on a loopback port with test agents on real AgentGateway streams, plus a
 * direct Operator stub the test uses only to wait for conditions (the assertions go through the
 * CLI).
 */
final class LiveFleet implements AutoCloseable {
  static final Duration WAIT = Duration.ofSeconds(20);
  static final String RUN = "billing-7f3a-cycle-0042";

  final Collector collector;
  final String address;
  private final ManagedChannel channel;
  final OperatorGrpc.OperatorBlockingStub operator;
  private final List<TestAgent> agents = new ArrayList<>();

  LiveFleet(Path dataDir) throws Exception {
    collector = Collector.start(CollectorConfig.defaults(dataDir).withInsecure(true).withListen("127.0.0.1", 0), Clock.systemUTC(), line -> {});
    address = "127.0.0.1:" + collector.port();
    channel = NettyChannelBuilder.forAddress("127.0.0.1", collector.port()).usePlaintext().build();
    operator = OperatorGrpc.newBlockingStub(channel);
  }

  TestAgent agent(String id) {
    TestAgent a = TestAgent.connect(collector.port(), id);
    agents.add(a);
    Eventually.await(WAIT, id + " welcomed", a::welcomed);
    return a;
  }

  /** {@code lockstep ARGS --collector THIS --insecure} (this collector runs with --insecure). */
  Cli.Result lockstep(String... args) {
    String[] all = Arrays.copyOf(args, args.length + 3);
    all[args.length] = "--collector";
    all[args.length + 1] = address;
    all[args.length + 2] = "--insecure";
    return Cli.run(all);
  }

  /**
   * host-a reports the primary and host-b the shadow of one run whose sampled rng differs: the
   * collector opens a P0 mismatch, stops the fleet, pulls evidence and stores the golden diff.
   * Returns the incident once both agents confirmed the stop and the diff is stored.
   */
  Incident mismatch() throws Exception {
    TestAgent a = agent("host-a");
    TestAgent b = agent("host-b");
    a.golden(RUN + ".primary.golden.json", golden("primary", "[0.12, 0.98]", 7));
    b.golden(RUN + ".shadow.golden.json", golden("shadow", "[0.12, 0.55]", 3));
    Incident opened = Eventually.value(WAIT, "a mismatch incident", () -> {
      IncidentList l = operator.listIncidents(ListIncidentsRequest.newBuilder().setOpenOnly(true).build());
      return l.getIncidentsList().stream().filter(i -> i.getRunIdsList().contains(RUN)).findFirst().orElse(null);
    });
    Eventually.await(WAIT, "stop confirmed by every agent", () -> {
      StopStatus s = operator.getStopStatus(StopStatusRequest.getDefaultInstance());
      return s.getOrdersCount() > 0 && s.getCovered() >= 2 && s.getConfirmed() >= 2
          && s.getPending() + s.getFailed() + s.getOffline() == 0;
    });
    return Eventually.value(WAIT, "evidence and golden diff stored", () -> {
      Incident i = operator.getIncident(GetIncidentRequest.newBuilder().setId(opened.getId()).build());
      long golden = i.getEvidenceList().stream().filter(e -> e.getKind().equals("golden")).count();
      long snapshots = i.getEvidenceList().stream().filter(e -> e.getKind().equals("snapshot")).count();
      return golden == 2 && snapshots == 6 && i.getDifferencesCount() > 0 ? i : null;
    });
  }

  static String golden(String role, String rng, int pick) {
    return "{\"format\": \"lockstep.golden/v1\", \"run_id\": \"" + RUN + "\", \"workflow\": \"billing.reconcile\","
        + " \"role\": \"" + role + "\", \"seed\": 1234567, \"timestamp\": \"2025-12-02T10:00:0" + pick % 10 + "Z\","
        + " \"duration_ms\": " + (1500 + pick) + ", \"steps\": ["
        + "{\"index\": 0, \"name\": \"load_accounts\", \"kind\": \"compute\", \"output\": {\"n\": 3}},"
        + "{\"index\": 1, \"name\": \"sample\", \"kind\": \"compute\", \"rng\": " + rng + ", \"output\": {\"pick\": " + pick + "}}"
        + "], \"output\": {\"total\": " + (35 + pick) + "}}";
  }

  @Override
  public void close() {
    agents.forEach(TestAgent::close);
    channel.shutdownNow();
    try {
      channel.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    collector.close();
  }
}
