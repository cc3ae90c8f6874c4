package dev.lockstep.cli.fleet;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageOrBuilder;
import com.google.protobuf.util.JsonFormat;
import dev.lockstep.cli.client.CollectorConnection;
import dev.lockstep.proto.v1.OperatorGrpc;
import java.io.PrintWriter;

/** What a running online command works with: the connection, the output format and streams. */
final class Session {
  private final CollectorConnection connection;
  private final OutputFormat format;
  private final PrintWriter out;
  private final PrintWriter err;

  Session(CollectorConnection connection, OutputFormat format, PrintWriter out, PrintWriter err) {
    this.connection = connection;
    this.format = format;
    this.out = out;
    this.err = err;
  }

  CollectorConnection connection() {
    return connection;
  }

  /** The Operator stub with a fresh deadline for one call. */
  OperatorGrpc.OperatorBlockingStub operator() {
    return connection.operator();
  }

  boolean json() {
    return format == OutputFormat.JSON;
  }

  PrintWriter out() {
    return out;
  }

  PrintWriter err() {
    return err;
  }

  /** Prints {@code message} as pretty proto3 JSON (proto field names, defaults included). */
  void printJson(MessageOrBuilder message) {
    out.println(Json.pretty(message));
  }

  /** The proto3 JSON mapping the CLI promises: proto field names, every field present. */
  static final class Json {
    private static final JsonFormat.Printer PRETTY =
        JsonFormat.printer().preservingProtoFieldNames().alwaysPrintFieldsWithNoPresence();
    private static final JsonFormat.Printer COMPACT = PRETTY.omittingInsignificantWhitespace();

    private Json() {}

    static String pretty(MessageOrBuilder message) {
      try {
        return PRETTY.print(message);
      } catch (InvalidProtocolBufferException e) {
        throw new IllegalStateException("cannot print JSON: " + e.getMessage(), e);
      }
    }

    static String compact(MessageOrBuilder message) {
      try {
        return COMPACT.print(message);
      } catch (InvalidProtocolBufferException e) {
        throw new IllegalStateException("cannot print JSON: " + e.getMessage(), e);
      }
    }
  }
}
