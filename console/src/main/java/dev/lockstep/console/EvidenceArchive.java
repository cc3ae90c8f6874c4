package dev.lockstep.console;

import com.google.protobuf.util.Timestamps;
import com.sun.net.httpserver.HttpExchange;
import dev.lockstep.proto.v1.EvidenceFile;
import dev.lockstep.proto.v1.EvidenceInfo;
import dev.lockstep.proto.v1.ExportEvidenceRequest;
import dev.lockstep.proto.v1.GetIncidentRequest;
import dev.lockstep.proto.v1.Incident;
import dev.lockstep.proto.v1.OperatorGrpc;
import dev.lockstep.security.Caller;
import io.grpc.StatusRuntimeException;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.zip.GZIPOutputStream;

/**
 * {@code GET /api/evidence?incident=ID}: one click exports an incident's evidence as
 * {@code incident-ID.tgz} holding {@code incident-ID/AGENT/KIND/NAME} for every stored artifact,
 * {@code incident.json} and {@code manifest.json} (the CLI's {@code lockstep.evidence/v1} manifest:
 * name, kind, agent, size and SHA-256 of every file). The archive is written to a temporary file
 * first and each artifact checked against the size and SHA-256 the collector recorded, so a
 * download either holds verified evidence or is refused with the reason.
 */
final class EvidenceArchive {
  /** Evidence can be large: the whole export may take this long. */
  static final Duration TIMEOUT = Duration.ofMinutes(10);

  private final Backend backend;
  private final Clock clock;
  private final String collector;

  EvidenceArchive(Backend backend, Clock clock, String collector) {
    this.backend = backend;
    this.clock = clock;
    this.collector = collector;
  }

  void export(HttpExchange ex, Caller caller, String incidentId) throws IOException {
    if (incidentId == null || incidentId.isBlank()) {
      Http.error(ex, 400, "INVALID_ARGUMENT", "name the incident: /api/evidence?incident=INC-000001");
      return;
    }
    var operator = OperatorGrpc.newBlockingStub(backend.channel(caller));
    Path tmp = Files.createTempFile("lockstep-console-evidence-", ".tgz");
    try {
      Incident incident;
      try {
        incident = operator.withDeadlineAfter(30, TimeUnit.SECONDS)
            .getIncident(GetIncidentRequest.newBuilder().setId(incidentId).build());
        Iterator<EvidenceFile> chunks = operator.withDeadlineAfter(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)
            .exportEvidence(ExportEvidenceRequest.newBuilder().setIncidentId(incidentId).build());
        try (OutputStream file = new BufferedOutputStream(Files.newOutputStream(tmp));
            TarWriter tar = new TarWriter(new GZIPOutputStream(file, 1 << 16), clock.instant())) {
          write(tar, incident, chunks);
        }
      } catch (StatusRuntimeException e) {
        Api.answer(ex, backend, e.getStatus());
        return;
      } catch (IntegrityException e) {
        Http.error(ex, 502, "DATA_LOSS", "evidence of " + incidentId + " not exported: " + e.getMessage());
        return;
      }
      String name = "incident-" + SafeNames.segment(incident.getId()) + ".tgz";
      ex.getResponseHeaders().set("Content-Type", "application/gzip");
      ex.getResponseHeaders().set("Content-Disposition", "attachment; filename=\"" + name + "\"");
      ex.getResponseHeaders().set("Cache-Control", "no-store");
      ex.sendResponseHeaders(200, Files.size(tmp));
      try (OutputStream out = ex.getResponseBody()) {
        Files.copy(tmp, out);
      }
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  private void write(TarWriter tar, Incident incident, Iterator<EvidenceFile> chunks) throws IOException {
    String root = "incident-" + SafeNames.segment(incident.getId()) + "/";
    List<String> rows = new ArrayList<>();
    Set<String> used = new HashSet<>(Set.of("incident.json", "manifest.json"));
    String current = null;
    String entry = null;
    MessageDigest digest = null;
    long written = 0;
    EvidenceFile first = null;
    while (chunks.hasNext()) {
      EvidenceFile c = chunks.next();
      if (current == null) {
        current = c.getName();
        entry = SafeNames.path(c.getName());
        if (!used.add(entry)) {
          throw new IntegrityException("two artifacts named " + entry);
        }
        digest = sha256();
        written = 0;
        first = c;
        tar.begin(root + entry, c.getTotalBytes());
      } else if (!current.equals(c.getName())) {
        throw new IntegrityException("artifact " + current + " ended without its last chunk");
      }
      if (c.getOffset() != written) {
        throw new IntegrityException("artifact " + current + ": chunk at offset " + c.getOffset() + ", expected " + written);
      }
      byte[] data = c.getData().toByteArray();
      if (written + data.length > first.getTotalBytes()) {
        throw new IntegrityException("artifact " + current + " is longer than the " + first.getTotalBytes()
            + " bytes recorded");
      }
      tar.write(data);
      digest.update(data);
      written += data.length;
      if (c.getLast()) {
        String sha = "sha256:" + HexFormat.of().formatHex(digest.digest());
        String recorded = c.getSha256().startsWith("sha256:") ? c.getSha256() : "sha256:" + c.getSha256();
        if (written != c.getTotalBytes() || !sha.equals(recorded)) {
          throw new IntegrityException("artifact " + current + " failed its check: " + written + " bytes, "
              + sha + "; the collector recorded " + c.getTotalBytes() + " bytes, " + recorded);
        }
        if (!recordedInIncident(incident, c, sha)) {
          throw new IntegrityException("artifact " + current + " is not the one the incident lists");
        }
        tar.end();
        rows.add("{\"name\":" + Http.quote(entry) + ",\"kind\":" + Http.quote(c.getKind()) + ",\"agent_id\":"
            + Http.quote(c.getAgentId()) + ",\"size_bytes\":" + written + ",\"sha256\":" + Http.quote(sha) + "}");
        current = null;
      }
    }
    if (current != null) {
      throw new IntegrityException("the export ended inside artifact " + current);
    }
    byte[] incidentJson = (Api.print(incident) + "\n").getBytes(StandardCharsets.UTF_8);
    tar.file(root + "incident.json", incidentJson);
    rows.add("{\"name\":\"incident.json\",\"kind\":\"incident\",\"agent_id\":\"\",\"size_bytes\":"
        + incidentJson.length + ",\"sha256\":\"sha256:" + HexFormat.of().formatHex(sha256().digest(incidentJson)) + "\"}");
    String manifest = "{\"format\":\"lockstep.evidence/v1\",\"incident_id\":" + Http.quote(incident.getId())
        + ",\"exported_at\":" + Http.quote(Timestamps.toString(Timestamps.fromMillis(clock.millis())))
        + ",\"collector\":" + Http.quote(collector) + ",\"files\":[" + String.join(",", rows)
        + "],\"skipped\":[],\"renamed\":[]}\n";
    tar.file(root + "manifest.json", manifest.getBytes(StandardCharsets.UTF_8));
  }

  /** The artifact must be one the incident lists, with that size and hash (when it lists a hash). */
  private static boolean recordedInIncident(Incident incident, EvidenceFile c, String sha) {
    for (EvidenceInfo e : incident.getEvidenceList()) {
      String name = e.getAgentId() + "/" + e.getName();
      if (name.equals(c.getName()) || e.getName().equals(c.getName())) {
        String recorded = e.getSha256().isEmpty() ? sha
            : e.getSha256().startsWith("sha256:") ? e.getSha256() : "sha256:" + e.getSha256();
        return e.getSizeBytes() == c.getTotalBytes() && recorded.equals(sha);
      }
    }
    // listed after this incident was read (an artifact that arrived meanwhile): checked by hash alone
    return true;
  }

  static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is part of every Java runtime", e);
    }
  }

  static final class IntegrityException extends IOException {
    IntegrityException(String message) {
      super(message);
    }
  }
}
