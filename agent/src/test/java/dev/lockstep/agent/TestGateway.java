package dev.lockstep.agent;

import dev.lockstep.proto.lite.v1.Ack;
import dev.lockstep.proto.lite.v1.AgentFrame;
import dev.lockstep.proto.lite.v1.AgentGatewayGrpc;
import dev.lockstep.proto.lite.v1.CaptureRequest;
import dev.lockstep.proto.lite.v1.CollectorFrame;
import dev.lockstep.proto.lite.v1.Event;
import dev.lockstep.proto.lite.v1.EvidenceChunk;
import dev.lockstep.proto.lite.v1.Hello;
import dev.lockstep.proto.lite.v1.Pins;
import dev.lockstep.proto.lite.v1.StopAck;
import dev.lockstep.proto.lite.v1.StopCommand;
import dev.lockstep.proto.lite.v1.StopMode;
import dev.lockstep.proto.lite.v1.StopOrder;
import dev.lockstep.proto.lite.v1.StopScope;
import dev.lockstep.proto.lite.v1.StopState;
import dev.lockstep.proto.lite.v1.Welcome;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A test-only AgentGateway: a real grpc-netty-shaded server on loopback that stores events in
 * memory (dropping duplicate seqs, as the collector does), acks them, and can push stop states,
 * capture requests and pins. Its storage survives {@link #stop()}/{@link #start()} on the same port.
 */
public final class TestGateway implements AutoCloseable {
  private final Map<String, TreeMap<Long, Event>> events = new ConcurrentHashMap<>();
  private final AtomicLong duplicates = new AtomicLong();
  private final List<Hello> hellos = new CopyOnWriteArrayList<>();
  private final List<StopAck> stopAcks = new CopyOnWriteArrayList<>();
  private final List<EvidenceChunk> evidence = new CopyOnWriteArrayList<>();
  private final List<Conn> conns = new CopyOnWriteArrayList<>();
  private volatile StopState stop = StopState.newBuilder().setGeneration(1).setMode(StopMode.RUNNING).build();
  private final List<StopOrder> active = new CopyOnWriteArrayList<>();
  private volatile boolean holdAcks;
  private volatile int port;
  private Server server;

  private final class Conn {
    final ServerCallStreamObserver<CollectorFrame> out;
    volatile String agent;

    Conn(ServerCallStreamObserver<CollectorFrame> out) {
      this.out = out;
    }

    void send(CollectorFrame f) {
      synchronized (this) {
        try {
          out.onNext(f);
        } catch (RuntimeException e) {
          // stream gone
        }
      }
    }
  }

  private final io.grpc.ServerCredentials credentials;

  public TestGateway() throws IOException {
    this(io.grpc.InsecureServerCredentials.create());
  }

  /** A gateway speaking TLS (or mTLS) with the given credentials. */
  public TestGateway(io.grpc.ServerCredentials credentials) throws IOException {
    this.credentials = credentials;
    start();
  }

  /** (Re)starts on the same port as before (any free port the first time). */
  public synchronized void start() throws IOException {
    server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", port), credentials)
        .permitKeepAliveTime(20, TimeUnit.SECONDS)
        .permitKeepAliveWithoutCalls(true)
        .maxInboundMessageSize(4 * 1024 * 1024)
        .addService(new AgentGatewayGrpc.AgentGatewayImplBase() {
          @Override
          public StreamObserver<AgentFrame> connect(StreamObserver<CollectorFrame> responses) {
            Conn c = new Conn((ServerCallStreamObserver<CollectorFrame>) responses);
            conns.add(c);
            return new StreamObserver<>() {
              @Override
              public void onNext(AgentFrame f) {
                receive(c, f);
              }

              @Override
              public void onError(Throwable t) {
                conns.remove(c);
              }

              @Override
              public void onCompleted() {
                conns.remove(c);
                try {
                  c.out.onCompleted();
                } catch (RuntimeException e) {
                  // already closed
                }
              }
            };
          }
        })
        .build()
        .start();
    port = server.getPort();
  }

  /** Shuts the server down hard (like a collector crash); storage is kept. */
  public synchronized void stop() throws InterruptedException {
    server.shutdownNow();
    server.awaitTermination(5, TimeUnit.SECONDS);
    conns.clear();
  }

  public int port() {
    return port;
  }

  public String target() {
    return "127.0.0.1:" + port;
  }

  private void receive(Conn c, AgentFrame f) {
    switch (f.getFrameCase()) {
      case HELLO -> {
        c.agent = f.getHello().getAgentId();
        hellos.add(f.getHello());
        c.send(CollectorFrame.newBuilder().setWelcome(Welcome.newBuilder().setStop(stop)
            .setAckedSeq(welcomeAt >= 0 ? welcomeAt : Math.max(0, highest(c.agent) - welcomeBehind)).setMaxBatchEvents(500).setMaxFrameBytes(4 * 1024 * 1024)
            .setCollectorVersion("test")).build());
      }
      case EVENTS -> {
        if (holdRoutineMillis > 0 && f.getEvents().getEventsList().stream().noneMatch(Event::hasGolden)
            && !f.getEvents().getLeadsToDecisive()) {
          // as a cluster whose core is behind: routine batches wait, nothing of them is stored
          c.send(CollectorFrame.newBuilder().setBackoff(dev.lockstep.proto.lite.v1.Backoff.newBuilder()
              .setId(backoffsSent.incrementAndGet()).setResendAfterSeq(highest(c.agent))
              .setRetryAfterMs(holdRoutineMillis).setReason("test: core behind").setDecisiveTaken(true))
              .build());
          return;
        }
        TreeMap<Long, Event> m = events.computeIfAbsent(c.agent, k -> new TreeMap<>());
        long last = 0;
        synchronized (m) {
          for (Event e : f.getEvents().getEventsList()) {
            if (m.putIfAbsent(e.getSeq(), e) != null) {
              duplicates.incrementAndGet();
            }
            last = Math.max(last, e.getSeq());
          }
        }
        if (!holdAcks) {
          c.send(CollectorFrame.newBuilder().setAck(Ack.newBuilder().setUptoSeq(last)).build());
        }
      }
      case STOP_ACK -> stopAcks.add(f.getStopAck());
      case EVIDENCE -> evidence.add(f.getEvidence());
      default -> { }
    }
  }

  private volatile int holdRoutineMillis;
  private final AtomicLong backoffsSent = new AtomicLong();

  /** Answers every routine batch with a Backoff of {@code millis} (0: stores them again). */
  public void holdRoutine(int millis) {
    this.holdRoutineMillis = millis;
  }

  /** Backoffs sent so far (on every stream). */
  public long backoffsSent() {
    return backoffsSent.get();
  }

  private volatile long welcomeBehind;
  private volatile long welcomeAt = -1;

  /** Welcomes with this acked seq whatever it holds (a mark that stopped moving); -1: as it holds. */
  public void welcomeAt(long seq) {
    this.welcomeAt = seq;
  }

  /** Welcomes with an acked seq {@code n} below what it holds (cluster mode's lagging mark). */
  public void welcomeBehindBy(long n) {
    this.welcomeBehind = n;
  }

  private long highest(String agent) {
    TreeMap<Long, Event> m = events.get(agent);
    if (m == null) {
      return 0;
    }
    synchronized (m) {
      // like the collector: the highest seq of this agent it holds
      return m.isEmpty() ? 0 : m.lastKey();
    }
  }

  /** Stops acking (events are still stored); releasing acks everything held so far. */
  public void holdAcks(boolean hold) {
    this.holdAcks = hold;
    if (!hold) {
      for (Conn c : conns) {
        if (c.agent != null) {
          c.send(CollectorFrame.newBuilder().setAck(Ack.newBuilder().setUptoSeq(highest(c.agent))).build());
        }
      }
    }
  }

  /**
   * Plays the collector's stop orders for every agent at once: STOPPED issues a fleet order (the
   * desired state names every active order), RUNNING resumes them all (and releases them). Each
   * change takes the next generation and is pushed to every connected agent.
   */
  public synchronized StopState setStop(StopMode mode, String incident, String reason) {
    long g = stop.getGeneration() + 1;
    StopState.Builder b = StopState.newBuilder().setGeneration(g).setMode(mode).setReason(reason)
        .setChangedBy("test");
    if (mode == StopMode.STOPPED) {
      active.add(StopOrder.newBuilder().setId("ORD-" + g).setScope(StopScope.newBuilder().setFleet(true))
          .setIncidentId(incident).setReason(reason).setIssuedBy("test").build());
      b.addAllOrders(active);
    } else {
      active.forEach(o -> b.addReleasedOrderIds(o.getId()));
      active.clear();
    }
    return push(b.build());
  }

  /** Makes {@code s} the desired state of every agent and pushes it (any state, even odd ones). */
  public synchronized StopState push(StopState s) {
    stop = s;
    for (Conn c : conns) {
      c.send(CollectorFrame.newBuilder().setStop(StopCommand.newBuilder().setState(s)).build());
    }
    return s;
  }

  public StopState desired() {
    return stop;
  }

  public void capture(CaptureRequest r) {
    for (Conn c : conns) {
      c.send(CollectorFrame.newBuilder().setCapture(r).build());
    }
  }

  public void pins(Pins p) {
    for (Conn c : conns) {
      c.send(CollectorFrame.newBuilder().setPins(p).build());
    }
  }

  public List<Event> events(String agent) {
    TreeMap<Long, Event> m = events.get(agent);
    if (m == null) {
      return List.of();
    }
    synchronized (m) {
      return new ArrayList<>(m.values());
    }
  }

  public List<Event> events(String agent, Event.BodyCase kind) {
    return events(agent).stream().filter(e -> e.getBodyCase() == kind).toList();
  }

  public long duplicates() {
    return duplicates.get();
  }

  public List<Hello> hellos() {
    return hellos;
  }

  public List<StopAck> stopAcks() {
    return stopAcks;
  }

  public List<EvidenceChunk> evidence() {
    return evidence;
  }

  public int connections() {
    return conns.size();
  }

  @Override
  public void close() {
    try {
      stop();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
