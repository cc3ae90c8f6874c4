package dev.lockstep.collector.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** One stream's tasks: in order and one at a time, whichever pool each drain runs on. */
class SerialExecutorTest {
  @Test
  void tasksRunInSubmissionOrderOneAtATimeAcrossBothPools() throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(3, r -> new Thread(r, "main"));
    ExecutorService urgentPool = Executors.newFixedThreadPool(2, r -> new Thread(r, "urgent"));
    try {
      Random random = new Random(7);
      int streams = 4;
      int perStream = 5_000;
      List<SerialExecutor> serials = new ArrayList<>();
      List<List<Integer>> ran = new ArrayList<>();
      List<AtomicBoolean> busy = new ArrayList<>();
      AtomicInteger overlaps = new AtomicInteger();
      AtomicInteger urgentOnUrgentPool = new AtomicInteger();
      CountDownLatch done = new CountDownLatch(streams * perStream);
      for (int s = 0; s < streams; s++) {
        serials.add(new SerialExecutor(pool, urgentPool));
        ran.add(new ArrayList<>());
        busy.add(new AtomicBoolean());
      }
      // submitted from several threads at once, each stream from one (as gRPC calls onNext)
      List<Thread> submitters = new ArrayList<>();
      for (int s = 0; s < streams; s++) {
        int stream = s;
        boolean[] urgent = new boolean[perStream];
        for (int i = 0; i < perStream; i++) urgent[i] = random.nextInt(10) == 0;
        submitters.add(new Thread(() -> {
          for (int i = 0; i < perStream; i++) {
            int n = i;
            boolean u = urgent[i];
            serials.get(stream).execute(() -> {
              if (!busy.get(stream).compareAndSet(false, true)) overlaps.incrementAndGet();
              ran.get(stream).add(n);
              if (u && Thread.currentThread().getName().equals("urgent")) urgentOnUrgentPool.incrementAndGet();
              busy.get(stream).set(false);
              done.countDown();
            }, u);
          }
        }));
      }
      submitters.forEach(Thread::start);
      for (Thread t : submitters) t.join();
      assertThat(done.await(30, TimeUnit.SECONDS)).as("every task ran").isTrue();
      assertThat(overlaps.get()).as("tasks of one stream running at the same time").isZero();
      for (int s = 0; s < streams; s++) {
        List<Integer> expected = new ArrayList<>();
        for (int i = 0; i < perStream; i++) expected.add(i);
        synchronized (ran.get(s)) {
          assertThat(ran.get(s)).as("stream %d's order", s).isEqualTo(expected);
        }
      }
      assertThat(urgentOnUrgentPool.get()).as("urgent tasks drained on the urgent pool").isPositive();
    } finally {
      pool.shutdownNow();
      urgentPool.shutdownNow();
    }
  }

  @Test
  void anUrgentTaskRunsWhileTheMainPoolIsBlockedAndTheRoutineTaskAfterItWaitsForTheMainPool()
      throws Exception {
    ExecutorService pool = Executors.newSingleThreadExecutor(r -> new Thread(r, "main"));
    ExecutorService urgentPool = Executors.newSingleThreadExecutor(r -> new Thread(r, "urgent"));
    CountDownLatch release = new CountDownLatch(1);
    try {
      pool.execute(() -> {
        try {
          release.await();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      });
      SerialExecutor serial = new SerialExecutor(pool, urgentPool);
      List<String> ran = java.util.Collections.synchronizedList(new ArrayList<>());
      CountDownLatch urgentRan = new CountDownLatch(1);
      CountDownLatch routineRan = new CountDownLatch(1);
      serial.execute(() -> {
        ran.add("urgent on " + Thread.currentThread().getName());
        urgentRan.countDown();
      }, true);
      serial.execute(() -> {
        ran.add("routine on " + Thread.currentThread().getName());
        routineRan.countDown();
      }, false);
      assertThat(urgentRan.await(10, TimeUnit.SECONDS)).as("the urgent task ran").isTrue();
      release.countDown();
      assertThat(routineRan.await(10, TimeUnit.SECONDS)).as("the routine task ran").isTrue();
      assertThat(ran).containsExactly("urgent on urgent", "routine on main");
    } finally {
      release.countDown();
      pool.shutdownNow();
      urgentPool.shutdownNow();
    }
  }

  @Test
  void aDrainOnTheMainPoolHandsTheStreamToTheUrgentPoolOnceAnUrgentTaskIsQueued() throws Exception {
    ExecutorService pool = Executors.newSingleThreadExecutor(r -> new Thread(r, "main"));
    ExecutorService urgentPool = Executors.newSingleThreadExecutor(r -> new Thread(r, "urgent"));
    CountDownLatch running = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    try {
      SerialExecutor serial = new SerialExecutor(pool, urgentPool);
      List<String> ran = java.util.Collections.synchronizedList(new ArrayList<>());
      CountDownLatch all = new CountDownLatch(4);
      serial.execute(() -> {
        running.countDown();
        try {
          release.await();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        ran.add("routine 1 on " + Thread.currentThread().getName());
        all.countDown();
      }, false);
      assertThat(running.await(10, TimeUnit.SECONDS)).as("the first routine task runs").isTrue();
      serial.execute(() -> {
        ran.add("routine 2 on " + Thread.currentThread().getName());
        all.countDown();
      }, false);
      serial.execute(() -> {
        ran.add("urgent 3 on " + Thread.currentThread().getName());
        all.countDown();
      }, true);
      serial.execute(() -> {
        ran.add("routine 4 on " + Thread.currentThread().getName());
        all.countDown();
      }, false);
      release.countDown();
      assertThat(all.await(10, TimeUnit.SECONDS)).as("every task ran").isTrue();
      // the task ahead of the urgent one goes with it; the one after it goes back
      assertThat(ran).containsExactly("routine 1 on main", "routine 2 on urgent", "urgent 3 on urgent",
          "routine 4 on main");
    } finally {
      release.countDown();
      pool.shutdownNow();
      urgentPool.shutdownNow();
    }
  }

  @Test
  void aFullMainPoolRefusesTheTaskToTheCallerAndTheStreamStillRunsLaterTasks() throws Exception {
    java.util.concurrent.Executor refusing = task -> {
      throw new RejectedExecutionException("full");
    };
    ExecutorService urgentPool = Executors.newSingleThreadExecutor();
    try {
      SerialExecutor serial = new SerialExecutor(refusing, urgentPool);
      org.assertj.core.api.Assertions.assertThatThrownBy(() -> serial.execute(() -> { }, false))
          .isInstanceOf(RejectedExecutionException.class);
      CountDownLatch ran = new CountDownLatch(1);
      serial.execute(ran::countDown, true);
      assertThat(ran.await(10, TimeUnit.SECONDS)).as("an urgent task after the refusal ran").isTrue();
    } finally {
      urgentPool.shutdownNow();
    }
  }

  /**
   * A task that throws (an Error escapes every handler) must not leave the stream's drain marked
   * as running: its owner closes the stream, and the tasks queued after it (the close among them)
   * still run.
   */
  @Test
  void aTaskThatThrowsDoesNotStallTheTasksQueuedAfterIt() throws Exception {
    java.util.concurrent.BlockingQueue<Throwable> uncaught =
        new java.util.concurrent.LinkedBlockingQueue<>();
    ExecutorService pool = Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "main");
      t.setUncaughtExceptionHandler((th, e) -> uncaught.add(e));
      return t;
    });
    try {
      SerialExecutor serial = new SerialExecutor(pool, pool);
      CountDownLatch hold = new CountDownLatch(1);
      CountDownLatch ran = new CountDownLatch(2);
      serial.execute(() -> {
        try {
          hold.await();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        throw new StackOverflowError("from a handler");
      }, false);
      serial.execute(ran::countDown, false);
      serial.execute(ran::countDown, true);
      hold.countDown();
      assertThat(ran.await(10, TimeUnit.SECONDS)).as("the tasks after the one that threw ran")
          .isTrue();
      assertThat(uncaught.poll(10, TimeUnit.SECONDS)).as("the error still reached the thread's handler")
          .isInstanceOf(StackOverflowError.class);
    } finally {
      pool.shutdownNow();
    }
  }

  /**
   * A gated task (one frame's handling) holds back the stream's later tasks until its open(),
   * which comes inside the task or later from another thread (a Kafka callback, room in the core's
   * inbox): the next frame's handling never starts while the one before it is unfinished.
   */
  @Test
  void aGatedTaskHoldsBackLaterTasksUntilItsStreamOpensTheGateFromAnyThread() throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(3, r -> new Thread(r, "main"));
    ExecutorService urgentPool = Executors.newFixedThreadPool(2, r -> new Thread(r, "urgent"));
    ExecutorService completer = Executors.newFixedThreadPool(2, r -> new Thread(r, "completer"));
    try {
      Random random = new Random(11);
      int streams = 3;
      int perStream = 3_000;
      AtomicInteger startedUnfinished = new AtomicInteger();
      AtomicInteger finishedLater = new AtomicInteger();
      CountDownLatch done = new CountDownLatch(streams * perStream);
      List<List<Integer>> ran = new ArrayList<>();
      List<Thread> submitters = new ArrayList<>();
      for (int s = 0; s < streams; s++) {
        SerialExecutor serial = new SerialExecutor(pool, urgentPool);
        AtomicBoolean unfinished = new AtomicBoolean();
        List<Integer> order = new ArrayList<>();
        ran.add(order);
        boolean[] urgent = new boolean[perStream];
        boolean[] later = new boolean[perStream];
        for (int i = 0; i < perStream; i++) {
          urgent[i] = random.nextInt(8) == 0;
          later[i] = random.nextBoolean();
        }
        submitters.add(new Thread(() -> {
          for (int i = 0; i < perStream; i++) {
            int n = i;
            serial.execute(() -> {
              if (!unfinished.compareAndSet(false, true)) startedUnfinished.incrementAndGet();
              synchronized (order) {
                order.add(n);
              }
              Runnable finish = () -> {
                unfinished.set(false);
                done.countDown();
                serial.open();
              };
              if (later[n]) {
                finishedLater.incrementAndGet();
                completer.execute(finish);
              } else {
                finish.run();
              }
            }, urgent[i], true);
          }
        }));
      }
      submitters.forEach(Thread::start);
      for (Thread t : submitters) t.join();
      assertThat(done.await(30, TimeUnit.SECONDS)).as("every task ran and finished").isTrue();
      assertThat(finishedLater.get()).as("tasks finished from another thread").isPositive();
      assertThat(startedUnfinished.get())
          .as("tasks started while the one before them was unfinished").isZero();
      for (int s = 0; s < streams; s++) {
        List<Integer> expected = new ArrayList<>();
        for (int i = 0; i < perStream; i++) expected.add(i);
        synchronized (ran.get(s)) {
          assertThat(ran.get(s)).as("stream %d's order", s).isEqualTo(expected);
        }
      }
    } finally {
      pool.shutdownNow();
      urgentPool.shutdownNow();
      completer.shutdownNow();
    }
  }
}
