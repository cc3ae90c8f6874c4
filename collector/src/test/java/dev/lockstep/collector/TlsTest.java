package dev.lockstep.collector;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lockstep.agent.Agent;
import dev.lockstep.agent.config.AgentConfig;
import dev.lockstep.collector.config.CollectorConfig;
import dev.lockstep.proto.v1.AuditEntry;
import dev.lockstep.proto.v1.ResumeStopRequest;
import dev.lockstep.proto.v1.EnableStopRequest;
import dev.lockstep.proto.v1.ListAuditRequest;
import dev.lockstep.proto.v1.OperatorGrpc;
import dev.lockstep.proto.v1.StatusRequest;
import dev.lockstep.proto.v1.IncidentActionRequest;
import dev.lockstep.proto.v1.StopOrder;
import dev.lockstep.proto.v1.StopScope;
import dev.lockstep.proto.v1.StopStatusRequest;
import dev.lockstep.security.CertsInit;
import dev.lockstep.security.SecuritySetupException;
import dev.lockstep.security.Tls;
import dev.lockstep.security.TlsFiles;
import io.grpc.ChannelCredentials;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The collector under mTLS with certificates from {@code lockstep certs init}: identities and
 * roles come from the certificates, every refusal is audited, plaintext needs --insecure.
 */
class TlsTest {
  @TempDir Path dir;
  CertsInit.Result certs;
  Collector collector;
  final List<ManagedChannel> channels = new ArrayList<>();
  final List<RawAgent> agents = new ArrayList<>();

  @BeforeEach
  void start() throws Exception {
    certs = CertsInit.run(dir.resolve("certs"), List.of("host-a", "host-b"), List.of("alice"),
        List.of("bob"), List.of(), Duration.ofDays(1));
    TlsFiles server = certs.tlsFilesFor("collector");
    collector = Collector.start(CollectorConfig.defaults(dir.resolve("data"))
        .withListen("127.0.0.1", 0)
        .withTls(new CollectorConfig.Tls(server.ca(), server.cert(), server.key())),
        Clock.systemUTC(), l -> { });
  }

  @AfterEach
  void stop() {
    agents.forEach(RawAgent::close);
    channels.forEach(ManagedChannel::shutdownNow);
    collector.close();
  }

  ManagedChannel channel(ChannelCredentials creds) {
    ManagedChannel ch = Grpc.newChannelBuilder("localhost:" + collector.port(), creds).build();
    channels.add(ch);
    return ch;
  }

  ManagedChannel as(String name) throws SecuritySetupException {
    return channel(Tls.channelCredentials(certs.tlsFilesFor(name)));
  }

  OperatorGrpc.OperatorBlockingStub operator(String name) throws SecuritySetupException {
    return OperatorGrpc.newBlockingStub(as(name)).withDeadlineAfter(10, TimeUnit.SECONDS);
  }

  RawAgent agentStream(String certName, String claimedId) throws SecuritySetupException {
    RawAgent a = new RawAgent(as(certName), claimedId).hello();
    agents.add(a);
    return a;
  }

  List<AuditEntry> audit() {
    try {
      return operator("alice").listAudit(ListAuditRequest.newBuilder().setLimit(1000).build())
          .getEntriesList();
    } catch (SecuritySetupException e) {
      throw new IllegalStateException(e);
    }
  }

  @Test
  void anAgentMaySayHelloOnlyAsItselfAndAForgedIdIsAudited() throws Exception {
    RawAgent honest = agentStream("host-a", "host-a");
    honest.await("welcome", f -> f.hasWelcome());
    RawAgent forger = agentStream("host-a", "host-b");
    Eventually.await(Duration.ofSeconds(10), "forger closed", () -> forger.closedWith != null);
    assertThat(forger.closedWith.getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
    assertThat(forger.closedWith.getDescription()).contains("host-a").contains("host-b");
    assertThat(collector.fleet().connected("host-b")).isFalse();
    assertThat(audit()).anySatisfy(e -> {
      assertThat(e.getWho()).isEqualTo("host-a");
      assertThat(e.getAction()).isEqualTo("Connect");
      assertThat(e.getTarget()).isEqualTo("host-b");
      assertThat(e.getResult()).isEqualTo("DENIED");
      assertThat(e.getRemoteAddress()).startsWith("127.0.0.1:");
    });
    assertThat(collector.metrics().refusedCalls.labelValues("Connect").getLongValue()).isEqualTo(1);
  }

  @Test
  void anOperatorCertificateCannotConnectAsAnAgent() throws Exception {
    RawAgent impostor = agentStream("alice", "alice");
    Eventually.await(Duration.ofSeconds(10), "closed", () -> impostor.closedWith != null);
    assertThat(impostor.closedWith.getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
    assertThat(impostor.closedWith.getDescription()).contains("agent role required");
  }

  @Test
  void anAgentCertificateCannotStopTheFleet() throws Exception {
    var agent = operator("host-a");
    assertThatThrownBy(() -> agent.enableStop(EnableStopRequest.newBuilder().setReason("mine").build()))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e ->
            assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED));
    assertThatThrownBy(() -> agent.getStatus(StatusRequest.getDefaultInstance()))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e ->
            assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED));
    assertThat(collector.fleet().orders()).isEmpty();
    assertThat(audit()).anySatisfy(e -> {
      assertThat(e.getWho()).isEqualTo("host-a");
      assertThat(e.getRole()).isEqualTo("agent");
      assertThat(e.getAction()).isEqualTo("EnableStop");
      assertThat(e.getResult()).isEqualTo("DENIED");
    });
  }

  @Test
  void aViewerReadsButCannotResumeAndAnOperatorCan() throws Exception {
    var alice = operator("alice");
    var issued = alice.enableStop(EnableStopRequest.newBuilder().setReason("drill").build());
    assertThat(issued.getChangedOrderIdsList()).hasSize(1);
    var bob = operator("bob");
    assertThat(bob.getStatus(StatusRequest.getDefaultInstance()).getStop().getOrdersList()).hasSize(1);
    assertThatThrownBy(() -> bob.resumeStop(ResumeStopRequest.newBuilder().setReason("let me").setAll(true).build()))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
          assertThat(e.getStatus().getDescription()).contains("operator role required for ResumeStop");
        });
    assertThat(collector.fleet().orders()).hasSize(1);
    assertThat(alice.resumeStop(ResumeStopRequest.newBuilder().setReason("fixed").setAll(true)
        .addAllOrderIds(issued.getChangedOrderIdsList()).build())
        .getChangedOrderIdsList()).isEqualTo(issued.getChangedOrderIdsList());
    assertThat(collector.fleet().orders()).isEmpty();
    assertThat(audit())
        .anySatisfy(e -> {
          assertThat(e.getWho()).isEqualTo("bob");
          assertThat(e.getRole()).isEqualTo("viewer");
          assertThat(e.getAction()).isEqualTo("ResumeStop");
          assertThat(e.getResult()).isEqualTo("DENIED");
        })
        .anySatisfy(e -> {
          assertThat(e.getWho()).isEqualTo("alice");
          assertThat(e.getRole()).isEqualTo("operator");
          assertThat(e.getAction()).isEqualTo("EnableStop");
          assertThat(e.getResult()).isEqualTo("OK");
        });
  }

  @Test
  void aCertificateFromAnUnknownCaIsRefusedInTheHandshakeAndAudited() throws Exception {
    CertsInit.Result other = CertsInit.run(dir.resolve("other-ca"), List.of(), List.of("mallory"),
        List.of(), List.of(), Duration.ofDays(1));
    TlsFiles mallory = other.tlsFilesFor("mallory");
    // Mallory trusts our collector (our CA) but presents a certificate from her own CA.
    var stub = OperatorGrpc.newBlockingStub(channel(Tls.channelCredentials(
            new TlsFiles(certs.caCert(), mallory.cert(), mallory.key()))))
        .withDeadlineAfter(10, TimeUnit.SECONDS);
    assertThatThrownBy(() -> stub.enableStop(EnableStopRequest.newBuilder().setReason("x").build()))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e ->
            assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE));
    assertThat(collector.fleet().orders()).isEmpty();
    Eventually.await(Duration.ofSeconds(10), "handshake refusal audited", () -> audit().stream()
        .anyMatch(e -> e.getAction().equals("TlsHandshake") && e.getWho().contains("mallory")
            && e.getResult().equals("DENIED")));
  }

  @Test
  void healthNeedsNoClientCertificateButEveryLockstepServiceDoes() throws Exception {
    ManagedChannel anonymous = channel(io.grpc.TlsChannelCredentials.newBuilder()
        .trustManager(certs.caCert().toFile()).build());
    var health = io.grpc.health.v1.HealthGrpc.newBlockingStub(anonymous).withDeadlineAfter(10, TimeUnit.SECONDS);
    for (String name : List.of("", "lockstep.v1.AgentGateway", "lockstep.v1.Operator")) {
      assertThat(health.check(io.grpc.health.v1.HealthCheckRequest.newBuilder().setService(name).build())
          .getStatus()).as("'" + name + "'").isEqualTo(io.grpc.health.v1.HealthCheckResponse.ServingStatus.SERVING);
    }
    var stub = OperatorGrpc.newBlockingStub(anonymous).withDeadlineAfter(10, TimeUnit.SECONDS);
    assertThatThrownBy(() -> stub.getStatus(StatusRequest.getDefaultInstance()))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
          assertThat(e.getStatus().getDescription()).contains("requires a client certificate");
        });
    RawAgent agent = new RawAgent(anonymous, "host-a");
    agents.add(agent);
    agent.hello();
    Eventually.await(Duration.ofSeconds(10), "agent stream refused", () -> agent.closedWith != null);
    assertThat(agent.closedWith.getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
    assertThat(agent.received).isEmpty();
    assertThat(collector.fleet().connectedCount()).isZero();
    Eventually.await(Duration.ofSeconds(10), "refusals audited", () -> audit().stream()
        .filter(e -> e.getResult().equals("DENIED") && e.getDetail().contains("client certificate"))
        .count() >= 2);
  }

  @Test
  void plaintextToTheTlsCollectorFailsWithAClearExplanation() {
    var plain = OperatorGrpc.newBlockingStub(channel(InsecureChannelCredentials.create()))
        .withDeadlineAfter(10, TimeUnit.SECONDS);
    StatusRuntimeException e = org.junit.jupiter.api.Assertions.assertThrows(
        StatusRuntimeException.class, () -> plain.getStatus(StatusRequest.getDefaultInstance()));
    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
    assertThat(Tls.explain(e.getStatus(), "localhost:" + collector.port(), true))
        .contains("requires TLS").contains("--insecure");
  }

  @Test
  void aRealAgentConnectsOverMutualTls() throws Exception {
    TlsFiles files = certs.tlsFilesFor("host-a");
    AgentConfig base = AgentConfig.defaults("host-a", "localhost:" + collector.port(), dir.resolve("host-a"));
    AgentConfig config = base.withCollector(new AgentConfig.Collector("localhost:" + collector.port(),
        false, files.ca(), files.cert(), files.key(), Duration.ofMillis(100), Duration.ofMillis(400)));
    try (Agent agent = Agent.start(config, Clock.systemUTC(), l -> { })) {
      Eventually.await(Duration.ofSeconds(10), "agent connected", () -> collector.fleet().connected("host-a"));
      assertThat(collector.fleet().session("host-a").orElseThrow().identity().name()).isEqualTo("host-a");
    }
  }

  @Test
  void anInsecureAgentAgainstTheTlsCollectorExplainsWhyItCannotConnect() throws Exception {
    List<String> progress = new java.util.concurrent.CopyOnWriteArrayList<>();
    AgentConfig plaintext = AgentConfig.defaults("host-a", "localhost:" + collector.port(), dir.resolve("plain"))
        .withReconnect(Duration.ofMillis(100), Duration.ofMillis(400));
    assertThat(plaintext.collector().insecure()).isTrue();
    try (Agent agent = Agent.start(plaintext, Clock.systemUTC(), progress::add)) {
      Eventually.await(Duration.ofSeconds(10), "an explanation", () -> progress.stream()
          .anyMatch(l -> l.contains("closed the plaintext connection during set-up: it most likely requires TLS")));
      assertThat(collector.fleet().connected("host-a")).isFalse();
    }
  }

  @Test
  void startingWithoutTlsFilesOrInsecureFailsNamingWhatIsMissing() {
    CollectorConfig bare = CollectorConfig.defaults(dir.resolve("bare")).withListen("127.0.0.1", 0);
    assertThatThrownBy(() -> Collector.start(bare, Clock.systemUTC(), l -> { }))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("missing --ca, --cert, --key")
        .hasMessageContaining("--insecure");
  }

  static List<String> ids(List<StopOrder> orders) {
    return orders.stream().map(StopOrder::getId).toList();
  }

  @Test
  void aResumeCannotLiftAStopIssuedAfterTheOperatorLooked() throws Exception {
    RawAgent a = agentStream("host-a", "host-a");
    a.await("welcome", f -> f.hasWelcome());
    var alice = operator("alice");
    String drill = alice.enableStop(EnableStopRequest.newBuilder().setReason("drill on host-b")
        .setScope(StopScope.newBuilder().setAgentId("host-b")).build()).getChangedOrderIds(0);
    // alice opens "Resume every order?": the page lists what it saw, the drill alone
    List<String> seen = ids(alice.getStopStatus(StopStatusRequest.getDefaultInstance()).getOrdersList());
    assertThat(seen).containsExactly(drill);

    // meanwhile host-a's replicas diverge: the collector stops the fleet on its own
    a.report(Goldens.report("run-1", "billing", "primary", "a"),
        Goldens.report("run-1", "billing", "shadow", "b"));
    Eventually.await(Duration.ofSeconds(10), "automatic stop", () -> collector.fleet().orders().size() == 2);
    String auto = collector.fleet().orders().stream().map(StopOrder::getId)
        .filter(id -> !id.equals(drill)).findFirst().orElseThrow();

    // a resume that names no order (what the console's "Resume every order?" and a bare
    // `lockstep stop resume` sent) must not lift the stop nobody has looked at
    assertThatThrownBy(() -> alice.resumeStop(ResumeStopRequest.newBuilder()
        .setReason("drill over").setAll(true).build()))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e ->
            assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT));
    assertThat(ids(collector.fleet().orders())).contains(auto);

    // "every order, which I saw as these": refused whole, naming the order issued since
    assertThatThrownBy(() -> alice.resumeStop(ResumeStopRequest.newBuilder()
        .setReason("drill over").setAll(true).addAllOrderIds(seen).build()))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
          assertThat(e.getStatus().getDescription()).contains(auto);
        });
    assertThat(ids(collector.fleet().orders())).containsExactlyInAnyOrder(drill, auto);
    assertThat(audit()).anySatisfy(e -> {
      assertThat(e.getAction()).isEqualTo("ResumeStop");
      assertThat(e.getWho()).isEqualTo("alice");
      assertThat(e.getResult()).isEqualTo("DENIED");
      assertThat(e.getDetail()).contains(auto);
      assertThat(e.getTarget()).as("the orders the operator named").isEqualTo("all of " + drill);
    });

    // naming the drill alone resumes it and nothing else
    assertThat(alice.resumeStop(ResumeStopRequest.newBuilder().setReason("drill over")
        .addOrderIds(drill).build()).getChangedOrderIdsList()).containsExactly(drill);
    assertThat(ids(collector.fleet().orders())).containsExactly(auto);
    // every order, named as seen now: resumed
    List<String> now = ids(alice.getStopStatus(StopStatusRequest.getDefaultInstance()).getOrdersList());
    assertThat(alice.resumeStop(ResumeStopRequest.newBuilder().setReason("rng seeded").setAll(true)
        .addAllOrderIds(now).build()).getChangedOrderIdsList()).containsExactly(auto);
    assertThat(collector.fleet().orders()).isEmpty();
  }

  @Test
  void aRefusedCallerCannotWriteAnUnboundedAuditEntry() throws Exception {
    String huge = "x".repeat(6 << 20); // under the 8 MiB transport limit
    for (String who : List.of("host-a", "bob")) {
      var caller = operator(who);
      assertThatThrownBy(() -> caller.resumeStop(ResumeStopRequest.newBuilder().setReason("mine")
          .addOrderIds(huge).build()))
          .isInstanceOfSatisfying(StatusRuntimeException.class, e ->
              assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED));
      assertThatThrownBy(() -> caller.enableStop(EnableStopRequest.newBuilder().setReason("mine")
          .setScope(StopScope.newBuilder().setWorkflow(huge)).build()))
          .isInstanceOfSatisfying(StatusRuntimeException.class, e ->
              assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED));
    }
    // the audit log stays readable by the CLI, and each refusal is there, bounded
    List<AuditEntry> entries = audit(); // the CLI's stock channel: 4 MiB inbound messages
    for (String who : List.of("host-a", "bob")) {
      for (String action : List.of("ResumeStop", "EnableStop")) {
        assertThat(entries).filteredOn(e -> e.getWho().equals(who) && e.getAction().equals(action))
            .singleElement().satisfies(e -> {
              assertThat(e.getResult()).isEqualTo("DENIED");
              assertThat(e.getTarget().length()).isLessThanOrEqualTo(1024);
              assertThat(e.getTarget()).contains("[cut: ");
            });
      }
    }
    assertThat(entries.stream().mapToInt(AuditEntry::getSerializedSize).max().orElse(0)).isLessThan(16 << 10);
  }

  @Test
  void anIncidentNoteIsBoundedAndAnOverlongOneIsRefused() throws Exception {
    RawAgent a = agentStream("host-a", "host-a");
    a.await("welcome", f -> f.hasWelcome());
    a.report(Goldens.report("run-1", "billing", "primary", "a"),
        Goldens.report("run-1", "billing", "shadow", "b"));
    Eventually.await(Duration.ofSeconds(10), "incident", () ->
        collector.fleet().incidents().get("INC-000001").isPresent());
    var alice = operator("alice");
    String pasted = "log line\n".repeat(600_000); // 5.4 MB pasted into the note
    assertThatThrownBy(() -> alice.ackIncident(IncidentActionRequest.newBuilder().setId("INC-000001")
        .setNote(pasted).build()))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
          assertThat(e.getStatus().getDescription()).contains("note");
        });
    assertThat(collector.fleet().incidents().get("INC-000001").orElseThrow().getNotesList()).isEmpty();
    String fits = "n".repeat(4000);
    assertThat(alice.ackIncident(IncidentActionRequest.newBuilder().setId("INC-000001").setNote(fits)
        .build()).getNotes(0).getNote()).isEqualTo(fits);
    assertThat(audit()).anySatisfy(e -> {
      assertThat(e.getAction()).isEqualTo("AckIncident");
      assertThat(e.getResult()).isEqualTo("OK");
    });
  }
}
