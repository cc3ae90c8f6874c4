package dev.lockstep.console;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.util.JsonFormat;
import com.sun.net.httpserver.HttpExchange;
import dev.lockstep.proto.v1.OperatorGrpc;
import dev.lockstep.security.Caller;
import io.grpc.CallOptions;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCalls;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

/**
 * The Operator API's unary calls over HTTP: {@code POST /api/rpc/<Method>} with the request
 * message in proto3 JSON, answered with the response message in proto3 JSON (field names as in
 * operator.proto, every field present), exactly the JSON the CLI prints with {@code -o json}. The
 * call is made as the session's person, so the API's roles and audit apply unchanged; an API
 * refusal is answered with its status mapped to HTTP and the API's own words.
 */
final class Api {
  private static final JsonFormat.Printer PRINTER =
      JsonFormat.printer().preservingProtoFieldNames().alwaysPrintFieldsWithNoPresence()
          .omittingInsignificantWhitespace();
  private static final JsonFormat.Parser PARSER = JsonFormat.parser();

  /** Every unary method of the Operator service, by its name ("GetStatus"). */
  static final Map<String, MethodDescriptor<Message, Message>> UNARY = unaryMethods();

  private final Backend backend;
  private final Duration timeout;
  private final ConsoleServer.Stats stats;

  Api(Backend backend, Duration timeout, ConsoleServer.Stats stats) {
    this.backend = backend;
    this.timeout = timeout;
    this.stats = stats;
  }

  @SuppressWarnings("unchecked")
  private static Map<String, MethodDescriptor<Message, Message>> unaryMethods() {
    Map<String, MethodDescriptor<Message, Message>> out = new TreeMap<>();
    for (MethodDescriptor<?, ?> m : OperatorGrpc.getServiceDescriptor().getMethods()) {
      if (m.getType() == MethodDescriptor.MethodType.UNARY) {
        out.put(m.getBareMethodName(), (MethodDescriptor<Message, Message>) m);
      }
    }
    return Map.copyOf(out);
  }

  void call(HttpExchange ex, Caller caller, String name) throws IOException {
    MethodDescriptor<Message, Message> method = UNARY.get(name);
    if (method == null) {
      Http.error(ex, 404, "NOT_FOUND", "no Operator API call " + name + "; the console offers "
          + String.join(", ", new TreeMap<>(UNARY).keySet()));
      return;
    }
    Message.Builder request = ((MethodDescriptor.PrototypeMarshaller<Message>) method.getRequestMarshaller())
        .getMessagePrototype().newBuilderForType();
    String body = new String(Http.body(ex), StandardCharsets.UTF_8);
    try {
      if (!body.isBlank()) {
        PARSER.merge(body, request);
      }
    } catch (InvalidProtocolBufferException | RuntimeException e) {
      Http.error(ex, 400, "INVALID_ARGUMENT", "request body for " + name + " is not a "
          + request.getDescriptorForType().getFullName() + " in proto3 JSON: " + e.getMessage());
      return;
    }
    Message response;
    try {
      response = ClientCalls.blockingUnaryCall(backend.channel(caller), method,
          CallOptions.DEFAULT.withDeadlineAfter(timeout.toMillis(), TimeUnit.MILLISECONDS), request.build());
    } catch (StatusRuntimeException e) {
      stats.apiFailed();
      answer(ex, backend, e.getStatus());
      return;
    }
    Http.json(ex, 200, print(response));
  }

  /** The API's status as an HTTP answer: its code, and its words (or the transport trouble in one line). */
  static void answer(HttpExchange ex, Backend backend, Status status) throws IOException {
    int http = switch (status.getCode()) {
      case INVALID_ARGUMENT, FAILED_PRECONDITION, OUT_OF_RANGE -> 400;
      case UNAUTHENTICATED -> 401;
      case PERMISSION_DENIED -> 403;
      case NOT_FOUND -> 404;
      case ALREADY_EXISTS, ABORTED -> 409;
      case RESOURCE_EXHAUSTED -> 429;
      case UNAVAILABLE -> 503;
      case DEADLINE_EXCEEDED -> 504;
      default -> 502;
    };
    String message = status.getCode() == Status.Code.UNAVAILABLE ? backend.explain(status)
        : status.getDescription() == null ? status.getCode().name() : status.getDescription();
    Http.error(ex, http, status.getCode().name(), message);
  }

  static String print(Message m) {
    try {
      return PRINTER.print(m);
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException("cannot print " + m.getDescriptorForType().getFullName(), e);
    }
  }
}
