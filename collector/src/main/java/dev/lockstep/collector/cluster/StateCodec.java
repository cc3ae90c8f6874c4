package dev.lockstep.collector.cluster;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.lockstep.collector.core.Change;
import dev.lockstep.collector.core.Lane;
import dev.lockstep.collector.store.RocksRunStateStore;
import dev.lockstep.collector.store.Store;
import dev.lockstep.proto.store.v1.AgentStopRecord;
import dev.lockstep.proto.store.v1.CaptureRecord;
import dev.lockstep.proto.store.v1.ResumedOrder;
import dev.lockstep.proto.v1.Incident;
import dev.lockstep.proto.v1.StopOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * The core's state as keyed records: how the cluster host keeps it in its Kafka Streams state
 * store (whose changelog every collector reads to keep its own copy) and how a copy turns the
 * records back into {@link Change}s. Keys are {@code kind/id}; a null value deletes. Values are
 * the same bytes embedded mode stores in RocksDB (protobuf, runs as JSON, counters as 8 bytes).
 */
final class StateCodec {
  static final String RUN = "run/";
  static final String HOST = "host/";
  static final String INCIDENT = "inc/";
  static final String COUNTER = "counter/";
  static final String ORDER = "order/";
  static final String RESUMED = "resumed/";
  static final String AGENT = "agent/";
  static final String CAPTURE = "capture/";
  static final String PROCESSED = "processed/";

  /** One keyed write; {@code value} null deletes the key. */
  record Write(String key, byte[] value) {}

  private StateCodec() {}

  /**
   * The writes of one change, in the order they must be applied (a resume writes its record
   * before it deletes the order). Appends (audit, alerts) are not state: empty.
   */
  static List<Write> writes(Change c) {
    List<Write> out = new ArrayList<>(2);
    if (c instanceof Change.PutRun r) {
      out.add(new Write(RUN + r.run().runId(), RocksRunStateStore.encode(r.run())));
    } else if (c instanceof Change.PutHostStats h) {
      out.add(new Write(HOST + h.stats().host(), RocksRunStateStore.encode(h.stats())));
    } else if (c instanceof Change.PutIncident i) {
      out.add(new Write(INCIDENT + i.incident().getId(), i.incident().toByteArray()));
    } else if (c instanceof Change.DeleteIncident d) {
      out.add(new Write(INCIDENT + d.id(), null));
    } else if (c instanceof Change.PutCounter k) {
      out.add(new Write(COUNTER + k.name(), Store.longBytes(k.value())));
    } else if (c instanceof Change.PutOrder o) {
      out.add(new Write(ORDER + o.order().getId(), o.order().toByteArray()));
    } else if (c instanceof Change.ResumeOrder r) {
      out.add(new Write(RESUMED + r.resumed().getOrder().getId(), r.resumed().toByteArray()));
      out.add(new Write(ORDER + r.resumed().getOrder().getId(), null));
    } else if (c instanceof Change.DeleteResumedOrder d) {
      out.add(new Write(RESUMED + d.id(), null));
    } else if (c instanceof Change.PutAgentStop a) {
      out.add(new Write(AGENT + a.record().getAgentId(), a.record().toByteArray()));
    } else if (c instanceof Change.PutCapture p) {
      out.add(new Write(CAPTURE + p.capture().getRequestId(), p.capture().toByteArray()));
    } else if (c instanceof Change.DeleteCapture d) {
      out.add(new Write(CAPTURE + d.requestId(), null));
    } else if (c instanceof Change.Processed p) {
      out.add(new Write(PROCESSED + p.lane() + "/" + p.agentId(), Store.longBytes(p.seq())));
    }
    return out;
  }

  /**
   * The change a keyed record stands for, for a copy of the state; null for records a copy
   * handles itself (a deleted run or order, a deleted incident's tombstone is a change) or cannot
   * read.
   */
  static Change change(String key, byte[] value) throws InvalidProtocolBufferException {
    if (key.startsWith(RUN)) {
      return value == null ? null : new Change.PutRun(RocksRunStateStore.decode(value));
    } else if (key.startsWith(HOST)) {
      var h = RocksRunStateStore.decodeHost(value);
      return h == null ? null : new Change.PutHostStats(h);
    } else if (key.startsWith(INCIDENT)) {
      return value == null ? new Change.DeleteIncident(key.substring(INCIDENT.length()))
          : new Change.PutIncident(Incident.parseFrom(value));
    } else if (key.startsWith(COUNTER)) {
      return value == null ? null
          : new Change.PutCounter(key.substring(COUNTER.length()), Store.bytesLong(value));
    } else if (key.startsWith(ORDER)) {
      return value == null ? null : new Change.PutOrder(StopOrder.parseFrom(value));
    } else if (key.startsWith(RESUMED)) {
      return value == null ? new Change.DeleteResumedOrder(key.substring(RESUMED.length()))
          : new Change.ResumeOrder(ResumedOrder.parseFrom(value));
    } else if (key.startsWith(AGENT)) {
      return value == null ? null : new Change.PutAgentStop(AgentStopRecord.parseFrom(value));
    } else if (key.startsWith(CAPTURE)) {
      return value == null ? new Change.DeleteCapture(key.substring(CAPTURE.length()))
          : new Change.PutCapture(CaptureRecord.parseFrom(value));
    } else if (key.startsWith(PROCESSED)) {
      if (value == null) return null;
      String rest = key.substring(PROCESSED.length());
      int slash = rest.indexOf('/');
      return new Change.Processed(rest.substring(slash + 1), Lane.valueOf(rest.substring(0, slash)),
          Store.bytesLong(value));
    }
    return null;
  }
}
