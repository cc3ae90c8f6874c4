package dev.lockstep.collector.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lockstep.collector.core.Effect;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse;
import org.junit.jupiter.api.Test;

/** What cluster mode does when the core's stream thread fails. */
class CoreStreamsTest {
  /**
   * Counted as the core failing (the alert LockstepCollectorCoreFailed counts those), said, and
   * the thread replaced: before, only a progress line told, and a failure coming back on every
   * retry left a collector that looked healthy and decided nothing.
   */
  @Test
  void aFailedStreamThreadCountsAsTheCoreFailingAndIsReplaced() {
    List<String> failed = new ArrayList<>();
    List<String> lines = new ArrayList<>();
    CoreProcessor.Host host = new CoreProcessor.Host() {
      @Override
      public void effects(List<Effect> effects) {
      }

      @Override
      public void running(boolean running) {
      }

      @Override
      public void failed(String what, Throwable t) {
        failed.add(what + ": " + t.getMessage());
      }
    };
    var response = CoreStreams.threadFailed(host, lines::add)
        .handle(new IllegalStateException("record too large"));
    assertThat(response).isEqualTo(StreamThreadExceptionResponse.REPLACE_THREAD);
    assertThat(failed).containsExactly("core: record too large");
    assertThat(lines).singleElement().asString().contains("the core's stream thread failed", "record too large");
  }
}
