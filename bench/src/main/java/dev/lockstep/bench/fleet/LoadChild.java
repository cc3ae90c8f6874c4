package dev.lockstep.bench.fleet;

import dev.lockstep.security.Tls;
import dev.lockstep.security.TlsFiles;
import io.grpc.ChannelCredentials;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * One process of the multi-process load generator ({@code bench/run fleet} past one process's
 * file descriptors): holds a share of the simulated agents, each on its own mTLS connection, and
 * does what its parent ({@link LoadProcess}) writes on stdin, one command a line. Every command
 * is answered by one line on stdout starting with the command's name ({@code error ...} when it
 * failed). Times it reports are wall clock, epoch microseconds, so the parent can compare them
 * across processes on this machine.
 *
 * <pre>
 *   connect                       -> connect N MS AGAIN    every agent connected and welcomed
 *   send                          -> send                  agents send health batches (bounded window)
 *   acked                         -> acked ACKED SENT
 *   drain                         -> drain ACKED           sending stopped, all sent acked
 *   golden J RUN ROLE HASH        -> golden WALL_US        agent J sent one golden report
 *   stopacks SECONDS              -> stopacks MISSING T…   each agent's first StopAck (wall us)
 *   resumed SECONDS               -> resumed               every agent back to RUNNING
 *   recheck                       -> recheck LOST          reconnect claiming nothing acked, resend
 *   quit                          (exits)
 * </pre>
 */
public final class LoadChild {
  private final List<String> ids;
  private final List<String> targets;
  private final Path certs;
  private final int batch;
  private final int window;
  private final List<ManagedChannel> channels = new ArrayList<>();
  private final List<SimAgent> sims = new ArrayList<>();

  private LoadChild(List<String> ids, List<String> targets, Path certs, int batch, int window) {
    this.ids = ids;
    this.targets = targets;
    this.certs = certs;
    this.batch = batch;
    this.window = window;
  }

  /** {@code --targets H:P[,H:P] --certs DIR|--insecure --first I --count N --batch B --window W}. */
  public static void main(String[] args) throws Exception {
    List<String> targets = List.of();
    Path certs = null;
    int first = 0;
    int count = 0;
    int batch = 500;
    int window = 4;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--targets" -> targets = List.of(args[++i].split(","));
        case "--certs" -> certs = Path.of(args[++i]);
        case "--insecure" -> certs = null;
        case "--first" -> first = Integer.parseInt(args[++i]);
        case "--count" -> count = Integer.parseInt(args[++i]);
        case "--batch" -> batch = Integer.parseInt(args[++i]);
        case "--window" -> window = Integer.parseInt(args[++i]);
        default -> throw new IllegalArgumentException("load child: unknown argument " + args[i]);
      }
    }
    List<String> ids = new ArrayList<>();
    for (int i = first; i < first + count; i++) ids.add(FleetScale.agentId(i));
    new LoadChild(ids, targets, certs, batch, window).serve();
  }

  private void serve() throws Exception {
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    try {
      for (String line; (line = in.readLine()) != null; ) {
        String[] w = line.trim().split(" ");
        if (w[0].equals("quit")) break;
        String answer;
        try {
          answer = w[0] + answer(w);
        } catch (Exception | Error e) {
          answer = "error " + w[0] + ": " + String.valueOf(e).replace('\n', ' ');
        }
        System.out.println(answer);
        System.out.flush();
      }
    } finally {
      sims.forEach(SimAgent::close);
      for (ManagedChannel c : channels) c.shutdownNow();
      for (ManagedChannel c : channels) c.awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  private String answer(String[] w) throws Exception {
    return switch (w[0]) {
      case "connect" -> connect();
      case "send" -> {
        sims.forEach(SimAgent::startSending);
        yield "";
      }
      case "acked" -> " " + sims.stream().mapToLong(SimAgent::acked).sum() + " "
          + sims.stream().mapToLong(SimAgent::sentSeq).sum();
      case "drain" -> {
        sims.forEach(SimAgent::stopSending);
        await(s -> s.acked() == s.sentSeq(), 120);
        yield " " + sims.stream().mapToLong(SimAgent::acked).sum();
      }
      case "golden" -> {
        long sent = wallMicros();
        sims.get(Integer.parseInt(w[1])).sendGolden(w[2], w[3], w[4]);
        yield " " + sent;
      }
      case "stopacks" -> stopAcks(Integer.parseInt(w[1]));
      case "resumed" -> {
        await(s -> s.stopMode() == dev.lockstep.proto.v1.StopMode.RUNNING, Integer.parseInt(w[1]));
        sims.forEach(SimAgent::resetStopTiming);
        yield "";
      }
      case "recheck" -> recheck();
      default -> throw new IllegalArgumentException("unknown command " + w[0]);
    };
  }

  /**
   * Connects in waves of 100, each welcomed before the next, so handshakes do not pile up. A
   * stream the collector closes before its Welcome (a handshake that outlived the server's
   * timeout on a loaded machine) is connected again, as a real agent would; those are counted.
   */
  private String connect() throws Exception {
    long start = System.nanoTime();
    int again = 0;
    for (int from = 0; from < ids.size(); from += 100) {
      int to = Math.min(ids.size(), from + 100);
      long waveStart = System.nanoTime();
      for (int i = from; i < to; i++) {
        channels.add(channel(ids.get(i), i));
        sims.add(new SimAgent(ids.get(i), batch, window));
        sims.get(i).connect(channels.get(i), 0);
      }
      long built = System.nanoTime();
      for (int i = from; i < to; i++) {
        for (int attempt = 1; ; attempt++) {
          try {
            sims.get(i).welcome().get(300, TimeUnit.SECONDS);
            break;
          } catch (java.util.concurrent.ExecutionException e) {
            if (attempt == 10) throw e;
            System.err.printf(Locale.ROOT, "connect: %s: %s (%s); connecting again%n", ids.get(i), e.getCause(),
                e.getCause().getCause());
            again++;
            channels.get(i).shutdownNow();
            channels.set(i, channel(ids.get(i), i));
            sims.set(i, new SimAgent(ids.get(i), batch, window));
            sims.get(i).connect(channels.get(i), 0);
          }
        }
      }
      System.err.printf(Locale.ROOT, "connect: agents %d..%d welcomed %d ms after their channels were made (%d ms to make them)%n",
          from, to - 1, (System.nanoTime() - built) / 1_000_000, (built - waveStart) / 1_000_000);
    }
    return String.format(Locale.ROOT, " %d %d %d", sims.size(), (System.nanoTime() - start) / 1_000_000, again);
  }

  private ManagedChannel channel(String id, int index) throws Exception {
    return NettyChannelBuilder.forTarget(targets.get(index % targets.size()), credentials(id))
        .directExecutor().maxInboundMessageSize(4 << 20).build();
  }

  private ChannelCredentials credentials(String id) throws Exception {
    return certs == null ? InsecureChannelCredentials.create()
        : Tls.channelCredentials(TlsFiles.inDirectory(certs, id));
  }

  /** Each agent's first StopAck as wall-clock microseconds; those without one are counted missing. */
  private String stopAcks(int seconds) throws InterruptedException {
    try {
      await(s -> s.stopAckNanos() != 0, seconds);
    } catch (IllegalStateException timedOut) {
      // reported as missing below
    }
    long wall = wallMicros();
    long nanos = System.nanoTime();
    StringBuilder times = new StringBuilder();
    int missing = 0;
    for (SimAgent s : sims) {
      long at = s.stopAckNanos();
      if (at == 0) {
        missing++;
      } else {
        times.append(' ').append(wall - (nanos - at) / 1_000);
      }
    }
    return " " + missing + times;
  }

  /**
   * Exactly once: every agent reconnects claiming nothing acked; what the collector no longer
   * knows of its acked events is lost. Each then resends its last acked event (the parent counts
   * duplicates in the collector's ingest counter).
   */
  private String recheck() throws Exception {
    long lost = 0;
    for (int i = 0; i < sims.size(); i++) {
      SimAgent old = sims.get(i);
      old.close();
      SimAgent again = new SimAgent(old.id(), batch, window);
      again.connect(channels.get(i), 0);
      long known = again.welcome().get(60, TimeUnit.SECONDS);
      lost += Math.max(0, old.acked() - known);
      again.resend(old.acked());
      sims.set(i, again);
    }
    await(s -> s.acked() >= s.sentSeq(), 60);
    return " " + lost;
  }

  private void await(Predicate<SimAgent> each, int seconds) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    while (!sims.stream().allMatch(each)) {
      if (System.nanoTime() > deadline) throw new IllegalStateException("not met in " + seconds + " s");
      Thread.sleep(5); // polling interval
    }
  }

  private static long wallMicros() {
    java.time.Instant now = java.time.Instant.now();
    return now.getEpochSecond() * 1_000_000 + now.getNano() / 1_000;
  }
}
