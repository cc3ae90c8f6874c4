package dev.lockstep.agent.stop;

import dev.lockstep.proto.v1.StopAck;
import dev.lockstep.proto.v1.StopMode;
import dev.lockstep.proto.v1.StopState;

/**
 * The stop state this agent last enacted, with the ack it answered. {@code failsafe} marks a stop
 * the agent took on its own after losing the collector (then {@code state} keeps the last epoch
 * the collector sent, and any state the collector sends next is enacted).
 */
public record EnactedStop(StopState state, StopAck ack, boolean failsafe) {
  public static final EnactedStop NONE = new EnactedStop(
      StopState.newBuilder().setEpoch(0).setMode(StopMode.RUNNING).build(), StopAck.getDefaultInstance(), false);

  public long epoch() {
    return state.getEpoch();
  }

  public StopMode mode() {
    return failsafe ? StopMode.STOPPED : state.getMode();
  }

  public boolean stopped() {
    return mode() == StopMode.STOPPED;
  }

  public boolean verified() {
    return ack.getVerified();
  }
}
