package dev.lockstep.agent;

import dev.lockstep.agent.config.AgentConfig;
import dev.lockstep.agent.config.ConfigException;
import dev.lockstep.agent.evidence.EvidenceCapture;
import dev.lockstep.agent.evidence.Prefetch;
import dev.lockstep.agent.evidence.Retention;
import dev.lockstep.agent.internal.CrashPoint;
import dev.lockstep.agent.internal.ProtoTime;
import dev.lockstep.agent.logs.LogTailer;
import dev.lockstep.agent.metrics.AgentMetrics;
import dev.lockstep.agent.probe.HealthProbes;
import dev.lockstep.agent.spool.Spool;
import dev.lockstep.agent.stop.EnactedStop;
import dev.lockstep.agent.stop.StopEnactor;
import dev.lockstep.agent.supervise.Components;
import dev.lockstep.agent.supervise.FatalExit;
import dev.lockstep.agent.supervise.Supervisor;
import dev.lockstep.agent.uplink.Uplink;
import dev.lockstep.agent.watch.GoldenWatcher;
import dev.lockstep.proto.lite.v1.AgentFrame;
import dev.lockstep.proto.lite.v1.AgentNotice;
import dev.lockstep.proto.lite.v1.CaptureRequest;
import dev.lockstep.proto.lite.v1.ComponentStatus;
import dev.lockstep.proto.lite.v1.Event;
import dev.lockstep.proto.lite.v1.Hello;
import dev.lockstep.proto.lite.v1.Pins;
import dev.lockstep.proto.lite.v1.StopState;
import dev.lockstep.proto.lite.v1.Welcome;
import dev.lockstep.security.CertificateDates;
import dev.lockstep.security.CertificateExpiry;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * One running lockstep-agent: golden watcher, log tailer, health probes, durable spool, uplink to
 * the collector, stop enactor, evidence capture, retention and metrics, started in that
 * dependency order and closed in reverse. After {@link #start} returns, nothing throws into the
 * caller: failures are logged once and counted in {@code lockstep_agent_errors_total}.
 */
public final class Agent implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(Agent.class.getName());
  public static final String VERSION = "0.1.0";

  private final AgentConfig config;
  private final Clock clock;
  /** Monotonic time (System.nanoTime in production): what durations are measured with. */
  private final LongSupplier nanoTime;
  private final Consumer<String> progress;
  private final Deque<AutoCloseable> closeables = new ArrayDeque<>();
  private AgentMetrics metrics;
  private volatile Spool spool;
  private final java.util.List<AgentNotice> earlyNotices = new java.util.ArrayList<>();
  private StopEnactor stop;
  private LogTailer tailer;
  private GoldenWatcher watcher;
  private Retention retention;
  private EvidenceCapture evidence;
  private java.util.concurrent.ThreadPoolExecutor evidenceReaders;
  private HealthProbes probes;
  private dev.lockstep.agent.remediate.Remediator remediator;
  private Uplink uplink;
  private Components components;
  private Supervisor work;
  private Supervisor retentionWork;
  private int metricsPort;
  /** When the agent was last connected ({@link #nanoTime}): a wall clock set back must not delay the fail-safe. */
  private volatile long lastConnectedNanos;
  private long reportedSeq = -1;
  private long reportedAck = -1;
  private long reportedAtNanos = System.nanoTime() - 5_000_000_000L;

  private Agent(AgentConfig config, Clock clock, LongSupplier nanoTime, Consumer<String> progress) {
    this.config = config;
    this.clock = clock;
    this.nanoTime = nanoTime;
    this.progress = progress;
  }

  /** Starts an agent; progress lines go to the System.Logger at INFO. */
  public static Agent start(AgentConfig config, Clock clock) throws IOException, ConfigException {
    return start(config, clock, line -> LOG.log(System.Logger.Level.INFO, line));
  }

  /** Starts an agent that reports progress lines (connected, events acked, stop enacted) to progress. */
  public static Agent start(AgentConfig config, Clock clock, Consumer<String> progress) throws IOException, ConfigException {
    return start(config, clock, System::nanoTime, progress);
  }

  /**
   * Starts an agent whose wall clock ({@code clock}: timestamps shown and recorded) and monotonic
   * time ({@code nanoTime}, as System.nanoTime: how long it has been disconnected, the stop's
   * retries) tests can move independently.
   */
  public static Agent start(AgentConfig config, Clock clock, LongSupplier nanoTime, Consumer<String> progress)
      throws IOException, ConfigException {
    config.validate();
    for (String w : config.warnings()) progress.accept("WARNING: agent.yaml: " + w);
    Agent a = new Agent(config, clock, nanoTime, progress);
    try {
      a.startAll();
    } catch (IOException | RuntimeException e) {
      a.close();
      throw e;
    }
    return a;
  }

  private void startAll() throws IOException {
    Files.createDirectories(config.stateDir());
    FileChannel lockChannel = FileChannel.open(config.stateDir().resolve("agent.lock"),
        StandardOpenOption.CREATE, StandardOpenOption.WRITE);
    FileLock lock = lockChannel.tryLock();
    if (lock == null) {
      lockChannel.close();
      throw new IOException("state dir " + config.stateDir() + " is in use by another agent");
    }
    closeables.push(lockChannel);

    // The stop first: a stopped host is put back in force before anything that can fail
    // (metrics port, spool, network).
    metrics = new AgentMetrics();
    closeables.push(metrics);
    components = new Components(clock, metrics, config.probes().heartbeat(), progress);
    stop = new StopEnactor(config.agentId(), config.stop(), config.stateDir(), clock, metrics,
        ack -> {
          Uplink u = uplink;
          if (u != null) {
            u.sendDirect(AgentFrame.newBuilder().setStopAck(ack).build());
          }
        },
        this::notice, progress);
    closeables.push(stop);

    if (!config.collector().insecure()) {
      CertificateDates dates = new CertificateDates(List.of(config.collector().caFile(), config.collector().certFile()));
      metrics.gaugeCallback(CertificateExpiry.METRIC, CertificateExpiry.HELP, new String[] {"file", "subject"},
          sink -> dates.forEach(e -> sink.sample(e.notAfterSeconds(), e.file().toString(), e.subject())));
    }
    metricsPort = metrics.serve(config.metrics().bind(), config.metrics().port());

    Spool opened = Spool.open(config.spool().dir(), config.spool().capBytes(), metrics, clock);
    closeables.push(opened);
    synchronized (earlyNotices) {
      spool = opened;
    }
    earlyNotices.forEach(this::notice);
    earlyNotices.clear();

    tailer = new LogTailer(config.logs(), config.stateDir(), spool, metrics, clock, this::notice);
    watcher = new GoldenWatcher(config.golden(), config.goldenConfig(), config.stateDir(), spool, metrics, clock,
        this::notice);
    // closed after the work thread that ticks it has stopped (closeables close last-in first-out),
    // so its close saves every batch that was spooled
    closeables.push(watcher);
    // one pass over what the spool still holds: reports and matches spooled just before a crash
    // are not spooled again
    spool.forEachRetained(e -> {
      watcher.adopt(e);
      tailer.adopt(e);
    });
    retention = new Retention(config.retention(), watcher, metrics, clock, this::notice);
    evidence = new EvidenceCapture(config, watcher, tailer::currentFiles, clock);
    java.util.concurrent.ThreadPoolExecutor readers = new java.util.concurrent.ThreadPoolExecutor(2, 2, 60,
        java.util.concurrent.TimeUnit.SECONDS, new java.util.concurrent.LinkedBlockingQueue<>(), r -> {
          Thread t = new Thread(r, "lockstep-evidence");
          t.setDaemon(true);
          return t;
        });
    readers.allowCoreThreadTimeOut(true);
    evidenceReaders = readers;
    closeables.push(readers::shutdownNow);
    probes = new HealthProbes(config, tailer::stats, spool, metrics, clock, this::diskCritical);
    java.util.List<dev.lockstep.agent.remediate.Remediator.Policy> policies = config.processes().stream()
        .map(AgentConfig.ProcessWatch::remediate).filter(java.util.Objects::nonNull).toList();
    if (!policies.isEmpty()) {
      remediator = new dev.lockstep.agent.remediate.Remediator(policies, config.stateDir().resolve("remediation.log"),
          remediationHost(), clock);
      closeables.push(remediator);
      probes.remediateWith(remediator);
      progress.accept("remediation on for " + policies.stream().map(
          dev.lockstep.agent.remediate.Remediator.Policy::process).toList());
    }

    uplink = new Uplink(config.collector(), spool, metrics, this::hello, new Uplink.Handler() {
      @Override
      public void welcomed(Welcome welcome) {
        lastConnectedNanos = nanoTime.getAsLong();
        stop.offer(welcome.getStop(), true);
      }

      @Override
      public void stopCommand(StopState state) {
        stop.offer(state, false);
      }

      @Override
      public void capture(CaptureRequest request) {
        progress.accept("evidence: capture " + request.getRequestId() + " for incident " + request.getIncidentId()
            + " (" + request.getRunIdsCount() + " runs)");
        // read on the evidence threads: a file that blocks must not hold up the uplink thread,
        // which takes the stop commands
        uplink.sendStream(new Prefetch(evidenceReaders, () -> evidence.answer(request), uplink::wake));
      }

      @Override
      public void pins(Pins pins) {
        retention.pins(pins);
      }

      @Override
      public void disconnected() {
        lastConnectedNanos = nanoTime.getAsLong();
      }
    }, progress);
    closeables.push(uplink);
    closeables.push(tailer);

    FatalExit fatalExit = new FatalExit(this::fatalNotice, progress, Duration.ofSeconds(2));
    work = new Supervisor("lockstep-agent-work", fatalExit);
    stop.onFatal(fatalExit);
    closeables.push(work);
    lastConnectedNanos = nanoTime.getAsLong();
    uplink.start();
    Components.Component golden = components.add("golden", new Components.Condition() {
      @Override
      public String degraded() {
        return watcher.problem();
      }

      @Override
      public boolean failed() {
        return watcher.blind();
      }
    });
    Components.Component logs = components.add("logs", tailer::problem);
    Components.Component probing = components.add("probes", () -> null);
    Components.Component spooling = components.add("spool", spool::problem);
    Components.Component uplinking = components.add("uplink", this::uplinkProblem);
    Components.Component stopping = components.add("stop", this::stopProblem);
    Components.Component reporting = components.add("agent", () -> null);
    long probeMs = config.probes().interval().toMillis();
    long tailMs = Math.max(20, Math.min(500, probeMs));
    work.now(golden, () -> goldenTick(golden));
    work.every(logs, Duration.ofMillis(tailMs), tailer::poll);
    work.every(probing, Duration.ofMillis(probeMs), () -> {
      CrashPoint.injectError("probes");
      probes.run();
    });
    work.every(reporting, Duration.ofSeconds(1), () -> {
      report();
      spooling.refresh();
      uplinking.refresh();
      stopping.refresh();
      publishComponents();
    });
    stop.startGuard(() -> uplink.isConnected() ? null : disconnectedFor(), nanoTime);
    if (config.retention().enabled()) {
      // tar+gzip of thousands of files takes a while: retention has a thread of its own
      Components.Component retaining = components.add("retention", () -> null);
      retentionWork = new Supervisor("lockstep-retention", new FatalExit(this::fatalNotice, progress,
          Duration.ofSeconds(2)));
      closeables.push(retentionWork);
      retentionWork.every(retaining, config.retention().interval(), retention::runOnce);
    }
    progress.accept("agent " + config.agentId() + " started (state " + config.stateDir() + ", spool "
        + spool.lastAckedSeq() + "/" + spool.lastSeq() + " acked/spooled, stop generation " + stop.current().generation()
        + " " + stop.current().mode() + (metricsPort > 0 ? ", metrics on :" + metricsPort : "") + ")");
  }

  /** One golden round, then the next when it is due (at once while a backlog is being read). */
  private void goldenTick(Components.Component golden) throws IOException {
    try {
      watcher.tick();
    } finally {
      work.after(golden, watcher.tickDelayMillis(), () -> goldenTick(golden));
    }
  }

  /** How long since the agent was last connected, in monotonic time (the wall clock may jump). */
  private Duration disconnectedFor() {
    return Duration.ofNanos(nanoTime.getAsLong() - lastConnectedNanos);
  }

  private String uplinkProblem() {
    if (uplink.isConnected()) {
      return null;
    }
    Duration off = disconnectedFor();
    return off.compareTo(Duration.ofSeconds(30)) < 0 ? null
        : "not connected to " + config.collector().target() + " for " + off.toSeconds() + " s (events stay spooled)";
  }

  private String stopProblem() {
    EnactedStop e = stop.current();
    if (!e.done() || e.local() || e.generation() == 0 || (e.ack().getEnacted() && e.ack().getVerified())) {
      return null;
    }
    return "generation " + e.generation() + " " + e.mode() + " not " + (e.ack().getEnacted() ? "verified" : "enacted")
        + ": " + e.ack().getDetail();
  }

  /** Spools the component samples that changed or whose heartbeat is due. */
  private void publishComponents() throws IOException {
    List<Event> due = components.due();
    if (!due.isEmpty()) {
      Spool.Appended a = spool.append(due);
      if (a.accepted() || a.admission() == Spool.Admission.DROPPED) {
        components.published(due);
      }
    }
  }

  /** The fatal notice: spooled; the returned condition holds once the collector acked it. */
  private java.util.function.BooleanSupplier fatalNotice(String component, Throwable error) {
    AgentNotice n = AgentNotice.newBuilder().setKind(AgentNotice.Kind.FATAL_ERROR)
        .setMessage("component " + component + " hit " + error + "; the agent exits (" + FatalExit.EXIT_CODE
            + ") for its supervisor to restart it").setCount(1).build();
    try {
      Spool.Appended a = spool.append(Event.newBuilder().setObservedAt(ProtoTime.of(clock.instant())).setNotice(n).build());
      long seq = a.seqs().isEmpty() ? Long.MAX_VALUE : a.seqs().get(0);
      return () -> spool.lastAckedSeq() >= seq;
    } catch (IOException | RuntimeException e) {
      return () -> true;
    }
  }

  private Hello hello() {
    EnactedStop e = stop.current();
    return Hello.newBuilder().setAgentId(config.agentId()).setHostname(hostName()).putAllLabels(config.labels())
        .setVersion(VERSION).setLastAckedSeq(spool.lastAckedSeq()).setEnactedStop(e.state()).build();
  }

  private static String hostName() {
    try {
      return InetAddress.getLocalHost().getHostName();
    } catch (IOException e) {
      String h = System.getenv("HOSTNAME");
      return h == null ? "unknown" : h;
    }
  }

  private void notice(AgentNotice n) {
    Spool sp = spool;
    if (sp == null) {
      synchronized (earlyNotices) {
        if (spool == null) {
          earlyNotices.add(n);
          return;
        }
      }
      sp = spool;
    }
    try {
      sp.append(Event.newBuilder().setObservedAt(ProtoTime.of(clock.instant())).setNotice(n).build());
    } catch (IOException e) {
      metrics.errors.labelValues("agent").inc();
    }
  }


  private volatile long diskCriticalRetentionAt;

  private void diskCritical() {
    // at most one extra retention pass per minute when a disk is critical
    long now = System.nanoTime();
    if (config.retention().enabled() && now - diskCriticalRetentionAt > TimeUnit.MINUTES.toNanos(1)) {
      diskCriticalRetentionAt = now;
      retentionWork.now(components.get("retention"), retention::runOnce);
    }
  }

  private void report() {
    long seq = spool.lastSeq();
    long acked = spool.lastAckedSeq();
    long now = System.nanoTime();
    if ((seq != reportedSeq || acked != reportedAck) && now - reportedAtNanos >= 5_000_000_000L) {
      reportedAtNanos = now;
      reportedSeq = seq;
      reportedAck = acked;
      progress.accept("events: spooled up to seq " + seq + ", acked up to " + acked + " ("
          + (seq - acked) + " pending, spool " + spool.sizeBytes() / 1024 + " KiB)");
    }
  }

  // ------------------------------------------------------------------------------ accessors

  public AgentConfig config() {
    return config;
  }

  /** Highest seq the collector has acked. */
  public long lastAckedSeq() {
    return spool.lastAckedSeq();
  }

  /** Highest seq assigned to a spooled event. */
  public long lastSpooledSeq() {
    return spool.lastSeq();
  }

  /** The stop state last enacted (generation, mode, orders; NONE before any). */
  public EnactedStop enactedStop() {
    return stop.current();
  }

  /** Whether a stream to the collector is open and welcomed. */
  public boolean isConnected() {
    return uplink != null && uplink.isConnected();
  }

  /** The bound Prometheus port, 0 when off. */
  public int metricsPort() {
    return metricsPort;
  }

  /** Runs one retention pass now; returns how many files were archived. */
  public int runRetention() {
    return retention.runOnce();
  }

  /** The pins last received from the collector. */
  Pins currentPins() {
    return retention.pins();
  }

  /** Runs every health probe once now (they also run on their interval). */
  public void probeNow() {
    work.now(components.get("probes"), probes::run);
  }

  /** Each component's state (running, degraded with a reason, failed), as /metrics and the collector see it. */
  public List<ComponentStatus> components() {
    return components.statuses();
  }

  /** Every metric in Prometheus text format, as /metrics serves it. */
  public String scrapeMetrics() {
    return metrics.scrape();
  }

  /** What remediation may see of this agent: its processes, its stop state, its spool. */
  private dev.lockstep.agent.remediate.Remediator.Host remediationHost() {
    java.util.Map<String, AgentConfig.ProcessWatch> byName = new java.util.HashMap<>();
    config.processes().forEach(w -> byName.put(w.name(), w));
    return new dev.lockstep.agent.remediate.Remediator.Host() {
      @Override
      public java.util.List<dev.lockstep.agent.probe.ProcFs.Proc> find(String process) {
        AgentConfig.ProcessWatch w = byName.get(process);
        return w == null ? java.util.List.of() : probes.find(w);
      }

      @Override
      public java.util.Optional<String> stopCovering() {
        dev.lockstep.agent.stop.EnactedStop e = stop.current();
        if (e.stopped() || !e.heldOrderIds().isEmpty()) {
          return java.util.Optional.of("stop order " + String.join(", ", e.heldOrderIds()) + " covers this host"
              + " (enacted generation " + e.generation() + " " + e.mode() + ")");
        }
        if (config.stop().file() != null && java.nio.file.Files.exists(config.stop().file())) {
          return java.util.Optional.of("the stop file " + config.stop().file() + " is present");
        }
        return java.util.Optional.empty();
      }

      @Override
      public dev.lockstep.agent.stop.StopEnactor.Restart unlessStopped(
          java.util.function.Supplier<dev.lockstep.agent.stop.Hook.Running> start, java.time.Duration timeout) {
        return stop.unlessStopped(this::stopCovering, start, timeout);
      }

      @Override
      public void report(dev.lockstep.proto.lite.v1.Remediation r) {
        try {
          spool.append(Event.newBuilder().setObservedAt(ProtoTime.of(clock.instant())).setRemediation(r).build());
        } catch (IOException e) {
          LOG.log(System.Logger.Level.ERROR, "remediation: cannot spool " + r.getProcess() + " " + r.getOutcome()
              + ": " + e);
        }
      }
    };
  }

  /** Remediation decisions made so far (0 when no process has remediate:). */
  public int remediationDecisions() {
    return remediator == null ? 0 : remediator.decisions();
  }

  @Override
  public void close() {
    while (!closeables.isEmpty()) {
      AutoCloseable c = closeables.pop();
      try {
        c.close();
      } catch (Exception e) {
        LOG.log(System.Logger.Level.WARNING, "agent: closing " + c.getClass().getSimpleName() + ": " + e);
      }
    }
  }
}
