package dev.lockstep.collector;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Descriptors.FileDescriptor;
import com.google.protobuf.Descriptors.OneofDescriptor;
import com.google.protobuf.DynamicMessage;
import com.google.protobuf.Message;
import dev.lockstep.proto.v1.AgentGatewayGrpc;
import dev.lockstep.proto.v1.Event;
import dev.lockstep.proto.v1.StopState;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The agent speaks the protocol with lite messages (proto-lite: dev.lockstep.proto.lite.v1, built
 * from proto/'s agent_gateway.proto and common.proto with only their Java package changed), the
 * collector with the full ones. Every message of those two files, with every field set (one variant
 * per oneof member), goes full -> lite -> full: the bytes must come back identical. A field the lite
 * classes did not know would come back as an unknown field, written after the known ones, so the
 * bytes would differ.
 */
class ProtoLiteWireTest {
  private static final String LITE = "dev.lockstep.proto.lite.v1.";

  @Test
  void everyAgentProtocolMessageSurvivesTheLiteClassesByteForByte() throws Exception {
    List<Descriptor> types = new ArrayList<>();
    for (FileDescriptor file : List.of(Event.getDescriptor().getFile(), StopState.getDescriptor().getFile())) {
      for (Descriptor d : file.getMessageTypes()) {
        collect(d, types);
      }
    }
    assertThat(types).extracting(Descriptor::getName).contains("AgentFrame", "CollectorFrame", "Event", "GoldenReport",
        "StopOrder", "StopAck", "Hello", "Welcome");
    int checked = 0;
    for (Descriptor d : types) {
      Class<?> lite = Class.forName(LITE + d.getFullName().substring("lockstep.v1.".length()).replace('.', '$'));
      for (Message full : variants(d, 0)) {
        byte[] bytes = full.toByteArray();
        Object parsed = lite.getMethod("parseFrom", byte[].class).invoke(null, (Object) bytes);
        byte[] again = (byte[]) lite.getMethod("toByteArray").invoke(parsed);
        assertThat(again).as("%s through %s: %s", d.getFullName(), lite.getName(), full).isEqualTo(bytes);
        assertThat(DynamicMessage.parseFrom(d, again)).isEqualTo(full);
        checked++;
      }
    }
    assertThat(checked).isGreaterThan(types.size());
  }

  @Test
  void theAgentCallsTheCollectorsServiceMethod() {
    assertThat(dev.lockstep.proto.lite.v1.AgentGatewayGrpc.getConnectMethod().getFullMethodName())
        .isEqualTo(AgentGatewayGrpc.getConnectMethod().getFullMethodName()).isEqualTo("lockstep.v1.AgentGateway/Connect");
  }

  private static void collect(Descriptor d, List<Descriptor> into) {
    if (d.getOptions().getMapEntry()) {
      return;
    }
    into.add(d);
    for (Descriptor nested : d.getNestedTypes()) {
      collect(nested, into);
    }
  }

  /** The message with every field outside a oneof set, then once more per oneof member. */
  private static List<Message> variants(Descriptor d, int depth) {
    List<Message> out = new ArrayList<>();
    out.add(fill(d, depth, null).build());
    for (OneofDescriptor o : d.getRealOneofs()) {
      for (FieldDescriptor f : o.getFields()) {
        out.add(fill(d, depth, f).build());
      }
    }
    return out;
  }

  private static DynamicMessage.Builder fill(Descriptor d, int depth, FieldDescriptor member) {
    DynamicMessage.Builder b = DynamicMessage.newBuilder(d);
    if (depth > 3) {
      return b;
    }
    for (FieldDescriptor f : d.getFields()) {
      if (f.getRealContainingOneof() != null && f != member) {
        continue;
      }
      if (f.isMapField()) {
        Descriptor entry = f.getMessageType();
        for (int i = 0; i < 2; i++) {
          DynamicMessage.Builder e = DynamicMessage.newBuilder(entry);
          e.setField(entry.findFieldByName("key"), value(entry.findFieldByName("key"), i, depth));
          e.setField(entry.findFieldByName("value"), value(entry.findFieldByName("value"), i, depth));
          b.addRepeatedField(f, e.build());
        }
      } else if (f.isRepeated()) {
        for (int i = 0; i < 2; i++) {
          b.addRepeatedField(f, value(f, i, depth));
        }
      } else {
        b.setField(f, value(f, 0, depth));
      }
    }
    return b;
  }

  private static Object value(FieldDescriptor f, int i, int depth) {
    int n = f.getNumber() * 10 + i + 1;
    switch (f.getJavaType()) {
      case INT: return n;
      case LONG: return (long) n << 33;
      case FLOAT: return n + 0.5f;
      case DOUBLE: return n + 0.25;
      case BOOLEAN: return true;
      case STRING: return f.getName() + "-" + i + "-\u00e9";
      case BYTE_STRING: return ByteString.copyFromUtf8("bytes-" + n);
      case ENUM: {
        var values = f.getEnumType().getValues();
        return values.get(values.size() - 1 - (i % values.size()));
      }
      case MESSAGE: return fill(f.getMessageType(), depth + 1, null).build();
      default: throw new AssertionError(f);
    }
  }
}
