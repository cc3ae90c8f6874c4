package dev.lockstep.collector.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lockstep.proto.store.v1.AgentStopRecord;
import dev.lockstep.proto.v1.StopMode;
import dev.lockstep.proto.v1.StopState;
import org.junit.jupiter.api.Test;

/** The stop table a collector fans out from, as its reader hands it the stops topic. */
class StopFanoutTest {
  static byte[] record(String agent, long generation, StopMode mode) {
    return AgentStopRecord.newBuilder().setAgentId(agent)
        .setDesired(StopState.newBuilder().setGeneration(generation).setMode(mode)).build().toByteArray();
  }

  /**
   * A record read again (the reader hands a failed batch over again, record by record) never
   * takes the table back to an older generation: it would be resent to the agent, a stop it had
   * since been told to leave.
   */
  @Test
  void anOlderGenerationReadAgainDoesNotReplaceANewerOne() throws Exception {
    StopFanout f = new StopFanout();
    f.applied(StateCodec.AGENT + "host-a", record("host-a", 5, StopMode.STOPPED));
    f.applied(StateCodec.AGENT + "host-a", record("host-a", 6, StopMode.RUNNING));
    f.applied(StateCodec.AGENT + "host-a", record("host-a", 5, StopMode.STOPPED));
    assertThat(f.record("host-a").orElseThrow().getDesired().getGeneration()).isEqualTo(6);
    assertThat(f.record("host-a").orElseThrow().getDesired().getMode()).isEqualTo(StopMode.RUNNING);
    // the same generation updated (an ack recorded) is taken
    f.applied(StateCodec.AGENT + "host-a", AgentStopRecord.parseFrom(record("host-a", 6, StopMode.RUNNING))
        .toBuilder().setAck(dev.lockstep.proto.v1.StopAck.newBuilder().setGeneration(6)).build().toByteArray());
    assertThat(f.record("host-a").orElseThrow().hasAck()).isTrue();
  }
}
