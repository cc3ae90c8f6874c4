package dev.lockstep.collector.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lockstep.proto.v1.CollectorFrame;
import dev.lockstep.security.Caller;
import dev.lockstep.security.Identity;
import io.grpc.stub.ServerCallStreamObserver;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/** How many frames a stream asks gRPC for: one after each finished, more only within the budget. */
class ReadAheadTest {
  /** Counts what the session asks of the transport. */
  static final class Transport extends ServerCallStreamObserver<CollectorFrame> {
    long requested;

    @Override public void request(int n) { requested += n; }
    @Override public boolean isCancelled() { return false; }
    @Override public void setOnCancelHandler(Runnable r) { }
    @Override public void setCompression(String c) { }
    @Override public boolean isReady() { return true; }
    @Override public void setOnReadyHandler(Runnable r) { }
    @Override public void disableAutoRequest() { }
    @Override public void disableAutoInboundFlowControl() { }
    @Override public void setMessageCompression(boolean e) { }
    @Override public void onNext(CollectorFrame f) { }
    @Override public void onError(Throwable t) { }
    @Override public void onCompleted() { }
  }

  static AgentSession session(Transport t, ReadAhead budget) {
    return new AgentSession(t, "test", new Caller(Identity.anonymousInsecure(), "test"), Instant.EPOCH,
        1, budget);
  }

  @Test
  void beforeTheWelcomeOnlyTheHelloIsAskedFor() {
    Transport t = new Transport();
    AgentSession s = session(t, new ReadAhead(1 << 20, 1 << 20));
    s.start();
    s.delivered(100); // the Hello
    assertThat(t.requested).as("nothing read ahead of an unanswered Hello").isEqualTo(1);
    s.begin().run(); // the Hello handled: welcomed
    assertThat(t.requested).as("the next frame, and read-ahead starts").isGreaterThanOrEqualTo(2);
  }

  @Test
  void aStreamReadsAheadAtMostItsFramesAndOneOutstandingRequestAtATime() {
    Transport t = new Transport();
    ReadAhead budget = new ReadAhead(1 << 30, 1 << 30);
    AgentSession s = session(t, budget);
    s.start();
    s.delivered(10);
    s.begin().run();
    // nothing is handled while frames keep arriving: each arrival may ask for one more
    for (int i = 0; i < 50; i++) {
      if (t.requested > 1 + i) s.delivered(1_000);
    }
    assertThat(s.held()).as("frames delivered and waiting").isEqualTo(ReadAhead.MAX_FRAMES);
    assertThat(t.requested).as("asked for: the Hello and the frames held").isEqualTo(1 + ReadAhead.MAX_FRAMES);
    assertThat(budget.held()).isEqualTo(ReadAhead.MAX_FRAMES * 1_000L);
    s.begin().run();
    assertThat(t.requested).as("one finished, one more asked for").isEqualTo(2 + ReadAhead.MAX_FRAMES);
  }

  @Test
  void theSharedBudgetStopsReadAheadButNeverTheNextFrame() {
    Transport t1 = new Transport();
    Transport t2 = new Transport();
    ReadAhead budget = new ReadAhead(5_000, 1 << 30);
    AgentSession a = session(t1, budget);
    AgentSession b = session(t2, budget);
    for (AgentSession s : new AgentSession[] {a, b}) {
      s.start();
      s.delivered(10);
      s.begin().run();
    }
    // a holds 6,000 bytes: over the shared budget
    for (int i = 0; i < 6; i++) {
      if (t1.requested > 1 + i) a.delivered(1_000);
    }
    assertThat(budget.held()).isGreaterThanOrEqualTo(5_000);
    long before = t2.requested;
    b.delivered(1_000); // the frame b asked for arrives: no read-ahead beyond it now
    assertThat(t2.requested).as("no read-ahead while the budget is spent").isEqualTo(before);
    b.begin().run(); // but the frame after a finished one is always asked for
    assertThat(t2.requested).isEqualTo(before + 1);
    // closing a stream gives its bytes back
    a.close(io.grpc.Status.CANCELLED);
    assertThat(budget.held()).isZero();
  }

  @Test
  void aStreamsOwnShareIsCappedToo() {
    Transport t = new Transport();
    AgentSession s = session(t, new ReadAhead(1L << 30, 3_000));
    s.start();
    s.delivered(10);
    s.begin().run();
    for (int i = 0; i < 20; i++) {
      if (t.requested > 1 + i) s.delivered(1_000);
    }
    assertThat(s.held()).as("frames held once the stream's 3,000 bytes are reached").isEqualTo(3);
  }

  @Test
  void aFrameFinishedTwiceCountsOnceAndNeverFinishesTheFrameAfterIt() {
    Transport t = new Transport();
    AgentSession s = session(t, new ReadAhead(1 << 30, 1 << 30));
    int[] opened = {0};
    s.onFinished(() -> opened[0]++);
    s.start();
    s.delivered(10);
    s.begin().run(); // the Hello
    s.delivered(1_000);
    s.delivered(1_000);
    Runnable first = s.begin();
    first.run();
    long asked = t.requested;
    int held = s.held();
    s.begin(); // the second frame's handling starts, its end is outstanding
    first.run(); // a path that finishes the first frame again
    assertThat(s.held()).as("the second frame is still held").isEqualTo(held);
    assertThat(t.requested).as("nothing more asked for").isEqualTo(asked);
    assertThat(opened[0]).as("the gate opened once per finished frame").isEqualTo(2);
  }
}
