package dev.lockstep.agent.stop;

import dev.lockstep.proto.v1.StopAck;
import dev.lockstep.proto.v1.StopMode;
import dev.lockstep.proto.v1.StopOrder;
import dev.lockstep.proto.v1.StopState;
import java.util.List;

/**
 * The stop state this agent enacted or is enacting: the collector's desired state (with the
 * orders it holds), whether the hooks finished ({@code done}) with the ack it answered, and the
 * local sequence number that orders the stop file and the state file (the newer one wins at
 * start-up). {@code local} marks a state the agent took on its own (fail-safe): never acked.
 */
public record EnactedStop(StopState state, StopAck ack, boolean done, boolean local, long localSeq) {
  public static final EnactedStop NONE = new EnactedStop(
      StopState.newBuilder().setGeneration(0).setMode(StopMode.RUNNING).build(),
      StopAck.newBuilder().setGeneration(0).setMode(StopMode.RUNNING).setEnacted(true)
          .setVerified(true).setDetail("never stopped").build(), true, false, 0);

  public long generation() {
    return state.getGeneration();
  }

  public StopMode mode() {
    return state.getMode();
  }

  public boolean stopped() {
    return state.getMode() == StopMode.STOPPED;
  }

  public boolean verified() {
    return ack.getVerified();
  }

  /** Ids of the orders this agent holds (empty when RUNNING). */
  public List<String> heldOrderIds() {
    return stopped() ? state.getOrdersList().stream().map(StopOrder::getId).toList() : List.of();
  }

  /** Whether {@code desired} is the state this records (generation, mode and orders). */
  public boolean sameAs(StopState desired) {
    return !local && desired.getGeneration() == state.getGeneration()
        && desired.getMode() == state.getMode()
        && desired.getOrdersList().stream().map(StopOrder::getId).toList()
            .equals(state.getOrdersList().stream().map(StopOrder::getId).toList());
  }
}
