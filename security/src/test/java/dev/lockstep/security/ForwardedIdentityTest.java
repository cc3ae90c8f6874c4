package dev.lockstep.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.ClientInterceptors;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class ForwardedIdentityTest {
  final List<AuditEntry> audited = new CopyOnWriteArrayList<>();
  final ProbeService probe = new ProbeService(new Authorizer(audited::add, Clock.systemUTC()));
  final List<AutoCloseable> open = new CopyOnWriteArrayList<>();

  @AfterEach
  void close() throws Exception {
    for (AutoCloseable c : open) {
      c.close();
    }
  }

  ManagedChannel inProcess() throws Exception {
    String name = InProcessServerBuilder.generateName();
    Server server = InProcessServerBuilder.forName(name).addService(ServerInterceptors.intercept(
        probe.definition(), ForwardedIdentity.interceptor(audited::add, Clock.systemUTC()))).build().start();
    ManagedChannel channel = InProcessChannelBuilder.forName(name).build();
    open.add(() -> {
      channel.shutdownNow();
      server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    });
    return channel;
  }

  @Test
  void theForwardedCallerIsTheCallerWithItsRoleAndAddress() throws Exception {
    ManagedChannel channel = inProcess();
    var alice = ClientInterceptors.intercept(channel,
        ForwardedIdentity.as(Identity.of("alice é", Role.OPERATOR), "203.0.113.5:5123 via console"));
    assertThat(ProbeService.call(alice, ProbeService.WHO_AM_I, ""))
        .isEqualTo("alice é|operator|true|203.0.113.5:5123 via console");
    assertThat(ProbeService.call(alice, ProbeService.ENABLE_STOP, "fleet")).isEqualTo("stopped fleet");

    var bob = ClientInterceptors.intercept(channel,
        ForwardedIdentity.as(Identity.of("bob", Role.VIEWER), "198.51.100.7:1 via console"));
    assertThatThrownBy(() -> ProbeService.call(bob, ProbeService.ENABLE_STOP, "fleet"))
        .isInstanceOfSatisfying(StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED));
    assertThat(audited).extracting(AuditEntry::who, AuditEntry::role, AuditEntry::outcome, AuditEntry::remoteAddress)
        .contains(org.assertj.core.groups.Tuple.tuple("bob", "viewer", AuditEntry.Outcome.REFUSED,
            "198.51.100.7:1 via console"));
  }

  @Test
  void aCallWithoutForwardedIdentityIsRefusedAndAudited() throws Exception {
    ManagedChannel channel = inProcess();
    assertThatThrownBy(() -> ProbeService.call(channel, ProbeService.WHO_AM_I, ""))
        .isInstanceOfSatisfying(StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED));
    assertThat(probe.handled).hasValue(0);
    assertThat(audited).singleElement().satisfies(e -> {
      assertThat(e.outcome()).isEqualTo(AuditEntry.Outcome.REFUSED);
      assertThat(e.detail()).contains("no forwarded identity");
    });
  }

  @Test
  void forwardedHeadersFromTheNetworkAreNeverTrusted() throws Exception {
    Server server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
        .addService(ServerInterceptors.intercept(probe.definition(),
            ForwardedIdentity.interceptor(audited::add, Clock.systemUTC())))
        .build().start();
    ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", server.getPort()).usePlaintext().build();
    open.add(() -> {
      channel.shutdownNow();
      server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    });
    var forged = ClientInterceptors.intercept(channel,
        ForwardedIdentity.as(Identity.of("mallory", Role.OPERATOR), "1.2.3.4:5"));
    assertThatThrownBy(() -> ProbeService.call(forged, ProbeService.ENABLE_STOP, "fleet"))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
          assertThat(e.getStatus().getDescription()).contains("in-process calls only");
        });
    assertThat(probe.handled).hasValue(0);
  }

  @Test
  void onlyAVerifiedIdentityCanBeForwarded() {
    assertThatThrownBy(() -> ForwardedIdentity.as(Identity.anonymousInsecure(), "x"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("verified");
  }
}
