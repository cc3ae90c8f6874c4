package dev.lockstep.collector.alert;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lockstep.collector.config.CollectorConfig;
import dev.lockstep.collector.metrics.CollectorMetrics;
import dev.lockstep.collector.store.Store;
import dev.lockstep.proto.v1.Incident;
import dev.lockstep.proto.v1.IncidentKind;
import dev.lockstep.security.SecuritySetupException;
import dev.lockstep.security.WebhookSigner;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;

/**
 * Alert delivery through a durable outbox. Every alert is first appended to the local alert log
 * (the playbook's fallback) and written to the OUTBOX column family, one entry per sink; a single
 * delivery thread posts due entries in order, deleting each on a 2xx and otherwise retrying with
 * exponential backoff. A sink that keeps failing ({@code failure_attempts} consecutive failures
 * or {@code failure_after}) is reported once through {@code onSinkFailing} (the P3 "webhook
 * failures" incident); alerts about that incident are not routed to the failing sink itself.
 */
public final class Alerts implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(Alerts.class.getName());
  private static final ObjectMapper JSON = new ObjectMapper()
      .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);
  private static final String ENTRY = "o/";
  private static final String SEQ = "outbox_seq";

  /** A configured destination. {@code format}: json, slack or alertmanager. */
  record Sink(String name, URI url, String format, WebhookSigner signer) {}

  /** One queued delivery. */
  public record Entry(long seq, String sink, String alertId, String body, int attempts,
      long nextAttemptMillis, long firstFailureMillis, String lastError) {}

  private final Store store;
  private final Clock clock;
  private final CollectorMetrics metrics;
  private final Path logFile;
  private final List<Sink> sinks = new ArrayList<>();
  private final int failureAttempts;
  private final Duration failureAfter;
  private final Duration maxBackoff;
  private final Duration baseBackoff;
  private final BiConsumer<String, String> onSinkFailing;
  private final TreeMap<Long, Entry> outbox = new TreeMap<>();
  private final Map<String, Integer> consecutiveFailures = new HashMap<>();
  private final Map<String, Long> firstFailure = new HashMap<>();
  private final Set<String> failing = new HashSet<>();
  private final HttpClient http;
  private final ScheduledExecutorService worker;
  private long sequence;

  public Alerts(CollectorConfig config, Store store, Clock clock, CollectorMetrics metrics,
      BiConsumer<String, String> onSinkFailing) throws IOException {
    this.store = store;
    this.clock = clock;
    this.metrics = metrics;
    this.logFile = config.alertLogFile();
    this.failureAttempts = config.alerts().failureAttempts();
    this.failureAfter = config.alerts().failureAfter();
    this.maxBackoff = config.alerts().maxBackoff();
    this.baseBackoff = maxBackoff.compareTo(Duration.ofMillis(500)) < 0 ? maxBackoff
        : Duration.ofMillis(500);
    this.onSinkFailing = onSinkFailing;
    int n = 0;
    for (CollectorConfig.Webhook w : config.alerts().webhooks()) {
      WebhookSigner secret;
      try {
        secret = w.secretFile() == null ? null : WebhookSigner.fromSecretFile(w.secretFile());
      } catch (SecuritySetupException e) {
        throw new IOException(e.getMessage(), e);
      }
      sinks.add(new Sink("webhook-" + n++ + "(" + w.url().getHost() + ":" + w.url().getPort() + ")",
          w.url(), w.format(), secret));
    }
    if (config.alerts().alertmanager() != null) {
      URI base = config.alerts().alertmanager();
      String s = base.toString().replaceAll("/+$", "");
      URI url = s.endsWith("/api/v2/alerts") ? URI.create(s) : URI.create(s + "/api/v2/alerts");
      sinks.add(new Sink("alertmanager(" + base.getHost() + ":" + base.getPort() + ")", url,
          "alertmanager", null));
    }
    Files.createDirectories(logFile.toAbsolutePath().getParent());
    sequence = Store.bytesLong(store.get(Store.Family.META, SEQ));
    store.scan(Store.Family.OUTBOX, ENTRY, (k, v) -> {
      try {
        Entry e = JSON.readValue(v, Entry.class);
        outbox.put(e.seq(), e);
      } catch (IOException ex) {
        // unreadable entry: dropped
      }
      return true;
    });
    http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(3)).build();
    worker = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "lockstep-alerts");
      t.setDaemon(true);
      return t;
    });
    worker.scheduleWithFixedDelay(this::deliverDue, 100, 100, TimeUnit.MILLISECONDS);
  }

  public synchronized int depth() {
    return outbox.size();
  }

  /** Builds each payload kind once (class loading, JSON init) so the first real alert is fast. */
  public static void warmUp(Incident sample) {
    Instant now = Instant.EPOCH;
    AlertPayloads.json(sample, "opened", now);
    AlertPayloads.slack(sample, "opened");
    AlertPayloads.alertmanager(sample, "opened", now);
    WebhookSigner.ofSecret("warm-up").sign(new byte[] {2});
  }

  /** Names of the configured sinks. */
  public List<String> sinkNames() {
    return sinks.stream().map(Sink::name).toList();
  }

  /** Logs the alert locally and queues it for every sink (durably). Never throws. */
  public void enqueue(Incident incident, String event) {
    List<Staged> staged;
    try (Store.Batch b = store.batch()) {
      staged = stage(b, incident, event, clock.instant());
      b.commit(false);
    } catch (RuntimeException e) {
      metrics.internalErrors.labelValues("outbox").inc();
      LOG.log(System.Logger.Level.ERROR, "cannot queue alert for " + incident.getId() + ": " + e);
      return;
    }
    installed(staged);
  }

  /** Alerts written into a transaction's batch, installed once it committed. */
  public record Staged(Incident incident, String event, Instant at, List<Entry> entries) {}

  /**
   * Adds the outbox entries of one alert (one per sink) to {@code batch}, so the alert commits
   * with the decision that raised it. Call {@link #installed} after the batch committed.
   */
  public List<Staged> stage(Store.Batch batch, Incident incident, String event, Instant now) {
    String alertId = incident.getId() + "/" + event + "/" + now.toEpochMilli();
    List<Entry> entries = new ArrayList<>();
    synchronized (this) {
      for (Sink s : sinks) {
        if (incident.getKind() == IncidentKind.WEBHOOK_FAILURE && failing.contains(s.name())) {
          continue;
        }
        String body = switch (s.format()) {
          case "slack" -> AlertPayloads.slack(incident, event);
          case "alertmanager" -> AlertPayloads.alertmanager(incident, event, now);
          default -> AlertPayloads.json(incident, event, now);
        };
        sequence++;
        Entry e = new Entry(sequence, s.name(), alertId, body, 0, now.toEpochMilli(), 0, "");
        try {
          batch.put(Store.Family.OUTBOX, key(e.seq()), JSON.writeValueAsBytes(e));
        } catch (IOException ex) {
          metrics.internalErrors.labelValues("outbox").inc();
          continue;
        }
        entries.add(e);
      }
      batch.put(Store.Family.META, SEQ, Store.longBytes(sequence));
    }
    return List.of(new Staged(incident, event, now, entries));
  }

  /** The staged alerts committed: log them locally, queue them for delivery. */
  public void installed(List<Staged> staged) {
    for (Staged s : staged) {
      try {
        Files.writeString(logFile, AlertPayloads.json(s.incident(), s.event(), s.at()) + "\n",
            StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
      } catch (IOException e) {
        metrics.internalErrors.labelValues("alert_log").inc();
        LOG.log(System.Logger.Level.ERROR, "cannot append to alert log " + logFile + ": " + e);
      }
      synchronized (this) {
        for (Entry e : s.entries()) outbox.put(e.seq(), e);
      }
    }
    if (!staged.isEmpty()) {
      try {
        worker.execute(this::deliverDue);
      } catch (java.util.concurrent.RejectedExecutionException e) {
        // closing: delivered after the next start
      }
    }
  }

  /**
   * Re-posts every unresolved incident to the Alertmanager sinks only (not to webhooks, not to
   * the alert log), so firing alerts never reach their 24 h endsAt while the incident is open.
   * Skipped for a sink that still has entries queued.
   */
  public void refreshAlertmanager(List<Incident> open) {
    Instant now = clock.instant();
    synchronized (this) {
      for (Sink s : sinks) {
        if (!"alertmanager".equals(s.format())) continue;
        boolean busy = outbox.values().stream().anyMatch(e -> e.sink().equals(s.name()));
        if (busy) continue;
        for (Incident incident : open) {
          sequence++;
          Entry e = new Entry(sequence, s.name(), incident.getId() + "/refresh/" + now.toEpochMilli(),
              AlertPayloads.alertmanager(incident, "firing", now), 0, now.toEpochMilli(), 0, "");
          try (Store.Batch b = store.batch()) {
            b.put(Store.Family.OUTBOX, key(e.seq()), JSON.writeValueAsBytes(e))
                .put(Store.Family.META, SEQ, Store.longBytes(sequence)).commit(false);
          } catch (IOException ex) {
            metrics.internalErrors.labelValues("outbox").inc();
            continue;
          }
          outbox.put(e.seq(), e);
        }
      }
    }
    worker.execute(this::deliverDue);
  }

  private static String key(long seq) {
    return ENTRY + String.format("%020d", seq);
  }

  private void deliverDue() {
    try {
      List<Entry> due = new ArrayList<>();
      long now = clock.millis();
      synchronized (this) {
        for (Entry e : outbox.values()) {
          if (e.nextAttemptMillis() <= now) due.add(e);
        }
      }
      Set<String> failedThisPass = new HashSet<>();
      for (Entry e : due) {
        if (failedThisPass.contains(e.sink())) continue;
        Sink sink = sinks.stream().filter(s -> s.name().equals(e.sink())).findFirst().orElse(null);
        if (sink == null) {
          remove(e);
          continue;
        }
        String error = post(sink, e.body());
        if (error == null) {
          remove(e);
          metrics.alertDeliveries.labelValues(sink.name(), "ok").inc();
          synchronized (this) {
            consecutiveFailures.remove(sink.name());
            firstFailure.remove(sink.name());
            if (failing.remove(sink.name())) {
              LOG.log(System.Logger.Level.INFO, "alert sink " + sink.name() + " recovered");
            }
          }
        } else {
          failedThisPass.add(sink.name());
          metrics.alertDeliveries.labelValues(sink.name(), "error").inc();
          retryLater(e, error);
        }
      }
    } catch (RuntimeException e) {
      metrics.internalErrors.labelValues("alerts").inc();
      LOG.log(System.Logger.Level.ERROR, "alert delivery: " + e, e);
    }
  }

  private void remove(Entry e) {
    synchronized (this) {
      outbox.remove(e.seq());
    }
    store.delete(Store.Family.OUTBOX, key(e.seq()));
  }

  private void retryLater(Entry e, String error) {
    long now = clock.millis();
    int attempts = e.attempts() + 1;
    long backoff = Math.min(maxBackoff.toMillis(),
        baseBackoff.toMillis() * (1L << Math.min(20, attempts - 1)));
    Entry next = new Entry(e.seq(), e.sink(), e.alertId(), e.body(), attempts, now + backoff,
        e.firstFailureMillis() == 0 ? now : e.firstFailureMillis(), error);
    boolean report = false;
    int count;
    synchronized (this) {
      outbox.put(next.seq(), next);
      count = consecutiveFailures.merge(e.sink(), 1, Integer::sum);
      long first = firstFailure.computeIfAbsent(e.sink(), k -> now);
      if ((count >= failureAttempts || now - first >= failureAfter.toMillis())
          && failing.add(e.sink())) {
        report = true;
      }
    }
    try {
      store.put(Store.Family.OUTBOX, key(next.seq()), JSON.writeValueAsBytes(next), false);
    } catch (IOException ex) {
      metrics.internalErrors.labelValues("outbox").inc();
    }
    if (report) {
      LOG.log(System.Logger.Level.WARNING, "alert sink " + e.sink() + " keeps failing: " + error);
      onSinkFailing.accept(e.sink(), count + " consecutive failures, last: " + error);
    }
  }

  /** Posts one body; returns null on a 2xx, otherwise the error. */
  private String post(Sink sink, String body) {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    HttpRequest.Builder rb = HttpRequest.newBuilder(sink.url()).timeout(Duration.ofSeconds(5))
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofByteArray(bytes));
    if (sink.signer() != null) rb.header(WebhookSigner.HEADER, sink.signer().sign(bytes));
    try {
      HttpResponse<String> resp = http.send(rb.build(), HttpResponse.BodyHandlers.ofString());
      if (resp.statusCode() / 100 == 2) return null;
      String b = resp.body() == null ? "" : resp.body();
      return "HTTP " + resp.statusCode() + (b.isEmpty() ? "" : ": " + b.lines().findFirst().orElse(""));
    } catch (IOException e) {
      return e.getClass().getSimpleName() + ": " + e.getMessage();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "interrupted";
    }
  }

  @Override
  public void close() {
    worker.shutdownNow();
    try {
      worker.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
