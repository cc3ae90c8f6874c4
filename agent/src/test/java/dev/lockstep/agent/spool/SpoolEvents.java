package dev.lockstep.agent.spool;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.lockstep.proto.lite.v1.Event;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/** Test helper: spooled records as Events. */
public final class SpoolEvents {
  private SpoolEvents() {}

  /** Every event after seq, parsed. */
  public static List<Event> after(Spool s, long seq) throws IOException {
    return read(s, seq, Integer.MAX_VALUE, Long.MAX_VALUE);
  }

  public static List<Event> read(Spool s, long after, int maxEvents, long maxBytes) throws IOException {
    List<Event> out = new ArrayList<>();
    for (Spool.Record r : s.readAfter(after, maxEvents, maxBytes)) {
      try {
        Event e = r.event();
        if (e.getSeq() != r.seq()) {
          throw new AssertionError("record seq " + r.seq() + " but event seq " + e.getSeq());
        }
        out.add(e);
      } catch (InvalidProtocolBufferException e) {
        throw new UncheckedIOException(e);
      }
    }
    return out;
  }
}
