package dev.lockstep.security;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ForwardingClientCall;
import io.grpc.ForwardingClientCallListener;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.cert.X509Certificate;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;

/**
 * A test-only gRPC service with string messages, standing in for the collector's services:
 * WhoAmI (anyone), EnableStop (operator only), Hello (an agent as itself).
 */
final class ProbeService {
  static final MethodDescriptor.Marshaller<String> UTF8 = new MethodDescriptor.Marshaller<>() {
    @Override
    public InputStream stream(String value) {
      return new ByteArrayInputStream(value.getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public String parse(InputStream stream) {
      try {
        return new String(stream.readAllBytes(), StandardCharsets.UTF_8);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  };

  static final MethodDescriptor<String, String> WHO_AM_I = method("WhoAmI");
  static final MethodDescriptor<String, String> ENABLE_STOP = method("EnableStop");
  static final MethodDescriptor<String, String> HELLO = method("Hello");

  final AtomicInteger handled = new AtomicInteger();
  private final Authorizer authorizer;

  ProbeService(Authorizer authorizer) {
    this.authorizer = authorizer;
  }

  private static MethodDescriptor<String, String> method(String name) {
    return MethodDescriptor.<String, String>newBuilder()
        .setType(MethodDescriptor.MethodType.UNARY)
        .setFullMethodName(MethodDescriptor.generateFullMethodName("lockstep.test.Probe", name))
        .setRequestMarshaller(UTF8)
        .setResponseMarshaller(UTF8)
        .build();
  }

  ServerServiceDefinition definition() {
    return ServerServiceDefinition.builder("lockstep.test.Probe")
        .addMethod(WHO_AM_I, ServerCalls.asyncUnaryCall((request, response) -> {
          handled.incrementAndGet();
          Identity identity = Identity.current();
          reply(response, identity.name() + "|" + identity.roleLabel() + "|" + identity.authenticated()
              + "|" + Caller.current().remoteAddress());
        }))
        .addMethod(ENABLE_STOP, ServerCalls.asyncUnaryCall((request, response) -> {
          handled.incrementAndGet();
          Status allowed = authorizer.require("EnableStop", request, Role.OPERATOR);
          if (!allowed.isOk()) {
            response.onError(allowed.asRuntimeException());
            return;
          }
          authorizer.audit("EnableStop", request, AuditEntry.Outcome.SUCCEEDED, "epoch 1");
          reply(response, "stopped " + request);
        }))
        .addMethod(HELLO, ServerCalls.asyncUnaryCall((request, response) -> {
          handled.incrementAndGet();
          Status allowed = authorizer.requireAgent("Connect", request);
          if (!allowed.isOk()) {
            response.onError(allowed.asRuntimeException());
            return;
          }
          reply(response, "welcome " + request);
        }))
        .build();
  }

  private static void reply(StreamObserver<String> response, String value) {
    response.onNext(value);
    response.onCompleted();
  }

  static String call(Channel channel, MethodDescriptor<String, String> method, String request) {
    return ClientCalls.blockingUnaryCall(channel, method,
        CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS), request);
  }

  /** Records the server certificate the client saw on the call's TLS session. */
  static final class ServerCertificateRecorder implements ClientInterceptor {
    final AtomicReference<X509Certificate> seen = new AtomicReference<>();

    @Override
    public <ReqT, RespT> ClientCall<ReqT, RespT> interceptCall(MethodDescriptor<ReqT, RespT> method,
        CallOptions options, Channel next) {
      return new ForwardingClientCall.SimpleForwardingClientCall<>(next.newCall(method, options)) {
        @Override
        public void start(Listener<RespT> listener, Metadata headers) {
          ClientCall<ReqT, RespT> call = this;
          super.start(new ForwardingClientCallListener.SimpleForwardingClientCallListener<>(listener) {
            @Override
            public void onHeaders(Metadata received) {
              SSLSession session = call.getAttributes().get(Grpc.TRANSPORT_ATTR_SSL_SESSION);
              try {
                seen.set((X509Certificate) session.getPeerCertificates()[0]);
              } catch (SSLPeerUnverifiedException | RuntimeException e) {
                seen.set(null);
              }
              super.onHeaders(received);
            }
          }, headers);
        }
      };
    }
  }
}
