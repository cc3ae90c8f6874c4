package dev.lockstep.cli.fleet;

import com.google.protobuf.ByteString;
import dev.lockstep.proto.v1.EvidenceFile;
import dev.lockstep.proto.v1.ExportEvidenceRequest;
import dev.lockstep.proto.v1.FleetStatus;
import dev.lockstep.proto.v1.GetIncidentRequest;
import dev.lockstep.proto.v1.Incident;
import dev.lockstep.proto.v1.OperatorGrpc;
import dev.lockstep.proto.v1.StatusRequest;
import io.grpc.InsecureServerCredentials;
import io.grpc.Server;
import io.grpc.ServerCredentials;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * An Operator server on loopback that answers with what a test sets: for what the real collector
 * cannot be made to send (hostile artifact names, corrupt checksums). Unset calls are
 * UNIMPLEMENTED.
 */
final class FakeOperator extends OperatorGrpc.OperatorImplBase implements AutoCloseable {
  volatile FleetStatus status = FleetStatus.getDefaultInstance();
  /** When set, GetStatus never answers (the call is left open until the client gives up). */
  volatile boolean silent;
  volatile Incident incident;
  final List<EvidenceFile> evidence = new ArrayList<>();
  private final Server server;

  FakeOperator() throws IOException {
    this(InsecureServerCredentials.create());
  }

  FakeOperator(ServerCredentials credentials) throws IOException {
    server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0), credentials).addService(this).build().start();
  }

  String address() {
    return "127.0.0.1:" + server.getPort();
  }

  /** Adds one artifact as two chunks; {@code recordedSha} null means the true SHA-256. */
  void addArtifact(String name, String kind, String agent, byte[] data, String recordedSha) throws Exception {
    String sha = "sha256:" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
    int half = data.length / 2;
    evidence.add(EvidenceFile.newBuilder().setName(name).setKind(kind).setAgentId(agent)
        .setOffset(0).setData(ByteString.copyFrom(data, 0, half)).build());
    evidence.add(EvidenceFile.newBuilder().setName(name).setKind(kind).setAgentId(agent)
        .setOffset(half).setData(ByteString.copyFrom(data, half, data.length - half))
        .setLast(true).setTotalBytes(data.length).setSha256(recordedSha == null ? sha : recordedSha).build());
  }

  @Override
  public void getStatus(StatusRequest request, StreamObserver<FleetStatus> responseObserver) {
    if (silent) {
      return;
    }
    responseObserver.onNext(status);
    responseObserver.onCompleted();
  }

  @Override
  public void getIncident(GetIncidentRequest request, StreamObserver<Incident> responseObserver) {
    Incident i = incident;
    if (i == null || !i.getId().equals(request.getId())) {
      responseObserver.onError(Status.NOT_FOUND.withDescription("incident " + request.getId() + " not found").asRuntimeException());
      return;
    }
    responseObserver.onNext(i);
    responseObserver.onCompleted();
  }

  @Override
  public void exportEvidence(ExportEvidenceRequest request, StreamObserver<EvidenceFile> responseObserver) {
    for (EvidenceFile f : evidence) {
      responseObserver.onNext(f);
    }
    responseObserver.onCompleted();
  }

  @Override
  public void close() {
    server.shutdownNow();
    try {
      server.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
