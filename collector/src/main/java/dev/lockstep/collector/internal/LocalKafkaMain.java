package dev.lockstep.collector.internal;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.concurrent.CountDownLatch;

/**
 * {@code ./lockstep kafka DIR [BROKERS] [BOOTSTRAP_FILE]}: real KRaft brokers on loopback for
 * {@code lockstep demo --cluster} (not for production: one machine, plaintext). Writes the
 * bootstrap servers to BOOTSTRAP_FILE (atomically) once every broker serves, then runs until
 * SIGTERM/SIGINT, which stops the brokers.
 */
public final class LocalKafkaMain {
  private LocalKafkaMain() {}

  public static void main(String[] args) throws Exception {
    if (args.length < 1 || args.length > 3) {
      System.err.println("usage: lockstep kafka DIR [BROKERS] [BOOTSTRAP_FILE]");
      System.exit(2);
    }
    Path dir = Path.of(args[0]).toAbsolutePath();
    int brokers = args.length > 1 ? Integer.parseInt(args[1]) : 1;
    LocalKafka kafka = LocalKafka.start(dir, brokers, line -> System.out.println("[kafka] " + line));
    CountDownLatch done = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      kafka.close();
      done.countDown();
    }, "kafka-shutdown"));
    if (args.length > 2) {
      Path file = Path.of(args[2]).toAbsolutePath();
      Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
      Files.writeString(tmp, kafka.bootstrap() + "\n");
      Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }
    System.out.println("[kafka] serving at " + kafka.bootstrap());
    done.await();
  }
}
