package dev.lockstep.collector.host;

import dev.lockstep.collector.core.Input;
import java.util.concurrent.CompletableFuture;

/**
 * Where control inputs (operator actions, evidence completions, alert failures) go: the core,
 * wherever it runs — on this process's core thread (embedded) or in the cluster's core task
 * (cluster mode). The future completes with the core's answer once its transaction committed, or
 * exceptionally with the {@link dev.lockstep.collector.core.Refusal} the core raised.
 */
public interface CoreDoor {
  CompletableFuture<Object> submit(Input in);

  /** Runs {@code task} where it cannot interleave with a commit of the core's state. */
  default CompletableFuture<Object> runOnCore(Runnable task) {
    task.run();
    return CompletableFuture.completedFuture(null);
  }
}
