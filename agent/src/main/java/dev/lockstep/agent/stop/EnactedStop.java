package dev.lockstep.agent.stop;

import dev.lockstep.proto.lite.v1.StopAck;
import dev.lockstep.proto.lite.v1.StopMode;
import dev.lockstep.proto.lite.v1.StopOrder;
import dev.lockstep.proto.lite.v1.StopState;
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

  /**
   * Whether {@code desired} is the state this records: its generation and mode, and every order
   * it names held (this agent may hold more: orders it kept because nothing released them).
   */
  public boolean sameAs(StopState desired) {
    return !local && desired.getGeneration() == state.getGeneration()
        && desired.getMode() == state.getMode()
        && heldOrderIds().containsAll(desired.getOrdersList().stream().map(StopOrder::getId).toList());
  }

  /** The orders this agent holds (empty when RUNNING). */
  public List<StopOrder> heldOrders() {
    return stopped() ? state.getOrdersList() : List.of();
  }

  /**
   * What enacting {@code target} makes this agent hold. A STOPPED state adds its orders to those
   * held and not released: an order is let go only when a state releases it (a fail-safe order,
   * or one the collector did not know when it sent this state, is kept and reported, so the
   * collector adopts it). RUNNING is enacted only when it releases every held order.
   */
  public StopState merged(StopState target) {
    if (target.getMode() != StopMode.STOPPED || !stopped()) return target;
    java.util.Set<String> named = new java.util.HashSet<>();
    target.getOrdersList().forEach(o -> named.add(o.getId()));
    StopState.Builder b = target.toBuilder();
    for (StopOrder o : state.getOrdersList()) {
      if (!named.contains(o.getId()) && !target.getReleasedOrderIdsList().contains(o.getId())) {
        b.addOrders(o);
      }
    }
    return b.build();
  }
}
