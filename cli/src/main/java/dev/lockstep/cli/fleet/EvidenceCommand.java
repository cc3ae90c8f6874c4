package dev.lockstep.cli.fleet;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lockstep.cli.client.ExitCode;
import dev.lockstep.proto.v1.EvidenceFile;
import dev.lockstep.proto.v1.ExportEvidenceRequest;
import dev.lockstep.proto.v1.GetIncidentRequest;
import dev.lockstep.proto.v1.Incident;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code lockstep evidence export ID --out DIR|FILE.tgz}: the playbook's incident directory. */
@Command(
    name = "evidence",
    mixinStandardHelpOptions = true,
    header = "Export an incident's evidence (the playbook's incident dir).",
    synopsisHeading = ManPage.SYNOPSIS,
    descriptionHeading = ManPage.DESCRIPTION,
    commandListHeading = ManPage.COMMANDS,
    footerHeading = ManPage.EXAMPLES,
    description = {"Work with the evidence the collector stored for an incident."},
    footer = {"  lockstep evidence export 7f3a2c --out /root/reports/m4-incident-7f3a2c"},
    subcommands = {EvidenceCommand.Export.class})
final class EvidenceCommand {

  @Command(
      name = "export",
      mixinStandardHelpOptions = true,
      header = "Write an incident's evidence and a manifest to DIR or .tgz.",
      description = {
        "Streams every artifact the collector stored for the incident (golden files, log tails,"
            + " ps_aux.txt, disk_usage.txt, memory.txt, ...) into --out, each under"
            + " AGENT/KIND/NAME, and checks each one's SHA-256 and size against what the collector"
            + " recorded. Names from agents are sanitised: '..' and '.' segments, leading '/',"
            + " backslashes and control characters never reach the file system.",
        "",
        "Then adds, where the data allows: report.md (`lockstep incident report`), incident.json (the Incident message),"
            + " diff_analysis.txt (the same report as `lockstep diff --incident ID`),"
            + " golden_summary.json (`lockstep summary` of the golden files), golden_files.tgz (the"
            + " golden files), and last manifest.json: {\"format\": \"lockstep.evidence/v1\","
            + " \"incident_id\", \"exported_at\", \"collector\", \"files\": [{\"name\", \"kind\","
            + " \"agent_id\", \"size_bytes\", \"sha256\": \"sha256:<hex>\"}], \"skipped\":"
            + " [{\"name\", \"reason\"}], \"renamed\": [{\"from\", \"to\"}]}. Every file in the"
            + " export except manifest.json is listed.",
        "",
        "--out ending in .tgz or .tar.gz writes one archive holding the directory"
            + " incident-ID/. -o json prints the manifest."
      },
      exitCodeList = {
        "0:Every artifact was written and verified.",
        ManPage.EXIT_USAGE + " Also: --out exists and is not empty (use --force), or cannot be written.",
        "3:The collector could not be reached, failed, or an artifact failed its SHA-256 or size check."
      },
      footer = {
        "  lockstep evidence export 7f3a2c --out /root/reports/m4-incident-7f3a2c",
        "  lockstep evidence export 7f3a2c --out m4-incident-7f3a2c.tgz",
        "  cd m4-incident-7f3a2c && jq -r '.files[] | \"\\(.sha256[7:])  \\(.name)\"' manifest.json | sha256sum -c"
      })
  static final class Export extends OnlineCommand {
    static final String MANIFEST = "manifest.json";
    static final String INCIDENT = "incident.json";
    static final String DIFF = "diff_analysis.txt";
    static final String SUMMARY = "golden_summary.json";
    static final String GOLDEN_TGZ = "golden_files.tgz";
    static final String REPORT = "report.md";
    /** Evidence can be large: the whole stream may take this long beyond the per-call timeout. */
    static final Duration STREAM_TIMEOUT = Duration.ofMinutes(10);

    @Parameters(paramLabel = "ID", description = "Incident id.")
    String id;

    @Option(names = "--out", required = true, paramLabel = "DIR|FILE.tgz", description = "Directory to create, or a .tgz/.tar.gz archive to write.")
    Path out;

    @Option(names = "--force", description = "Write into an existing non-empty directory / overwrite the archive.")
    boolean force;

    Clock clock = Clock.systemUTC();

    @Override
    int run(Session session) throws IOException {
      boolean archive = isArchive(out);
      if (!archive && Files.exists(out) && (!Files.isDirectory(out) || (!isEmptyDir(out) && !force))) {
        throw new CommandFailure(ExitCode.USAGE, "--out " + out + " exists and is not an empty directory (use --force)");
      }
      if (archive && Files.exists(out) && !force) {
        throw new CommandFailure(ExitCode.USAGE, "--out " + out + " exists (use --force)");
      }
      Incident incident = session.operator().getIncident(GetIncidentRequest.newBuilder().setId(id).build());
      Path dir;
      Path staging = null;
      if (archive) {
        Path parent = out.toAbsolutePath().getParent();
        Files.createDirectories(parent);
        staging = Files.createTempDirectory(parent, ".lockstep-export-");
        dir = staging.resolve("incident-" + SafeName.of(incident.getId()).replace('/', '_'));
        Files.createDirectories(dir);
      } else {
        dir = out;
        Files.createDirectories(dir);
      }
      try {
        EvidenceExport export = new EvidenceExport(dir.toRealPath(), session, incident, clock, spec.root().commandLine());
        Iterator<EvidenceFile> chunks =
            session.connection().operatorWithoutDeadline()
                .withDeadlineAfter(session.connection().callTimeout().plus(STREAM_TIMEOUT).toMillis(), TimeUnit.MILLISECONDS)
                .exportEvidence(ExportEvidenceRequest.newBuilder().setIncidentId(incident.getId()).build());
        export.receive(chunks);
        export.addDerived();
        export.addReport(archive ? out.toAbsolutePath().toString() : dir.toAbsolutePath().toString());
        ObjectNode manifest = export.writeManifest();
        if (archive) {
          TarGz.writeTree(staging, "", out);
        }
        if (session.json()) {
          session.out().println(new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(manifest));
        } else {
          session.out().println(export.summaryLine(out));
        }
        for (String warning : export.warnings()) {
          session.err().println("lockstep: warning: " + warning);
        }
        return ExitCode.OK;
      } finally {
        if (staging != null) {
          deleteTree(staging);
        }
      }
    }

    static boolean isArchive(Path p) {
      String n = p.getFileName() == null ? "" : p.getFileName().toString().toLowerCase(Locale.ROOT);
      return n.endsWith(".tgz") || n.endsWith(".tar.gz");
    }

    private static boolean isEmptyDir(Path dir) throws IOException {
      try (DirectoryStream<Path> s = Files.newDirectoryStream(dir)) {
        return !s.iterator().hasNext();
      }
    }

    static void deleteTree(Path root) throws IOException {
      try (Stream<Path> walk = Files.walk(root)) {
        for (Path p : (Iterable<Path>) walk.sorted(Comparator.reverseOrder())::iterator) {
          Files.deleteIfExists(p);
        }
      }
    }
  }

  /** Writes one incident's artifacts under {@code root} and keeps the manifest rows. */
  static final class EvidenceExport {
    private final Path root;
    private final Session session;
    private final Incident incident;
    private final Clock clock;
    private final ObjectMapper mapper = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    private final Set<String> used = new HashSet<>();
    private final List<ObjectNode> files = new ArrayList<>();
    private final List<ObjectNode> skipped = new ArrayList<>();
    private final List<ObjectNode> renamed = new ArrayList<>();
    private final List<String> warnings = new ArrayList<>();
    private final List<Path> goldenFiles = new ArrayList<>();
    private final CommandLine top;
    private long artifactBytes;
    private int artifacts;

    EvidenceExport(Path root, Session session, Incident incident, Clock clock, CommandLine top) {
      this.top = top;
      this.root = root;
      this.session = session;
      this.incident = incident;
      this.clock = clock;
      for (String reserved : List.of(Export.MANIFEST, Export.INCIDENT, Export.DIFF, Export.SUMMARY, Export.GOLDEN_TGZ, Export.REPORT)) {
        used.add(reserved.toLowerCase(Locale.ROOT));
      }
    }

    List<String> warnings() {
      return warnings;
    }

    /** Writes each artifact as its chunks arrive and verifies offsets, size and SHA-256. */
    void receive(Iterator<EvidenceFile> chunks) throws IOException {
      String current = null;
      OutputStream stream = null;
      MessageDigest digest = null;
      long written = 0;
      Path file = null;
      String relative = null;
      try {
        while (chunks.hasNext()) {
          EvidenceFile c = chunks.next();
          if (current == null || !current.equals(c.getName())) {
            if (current != null) {
              throw integrity("artifact " + current + " ended without its last chunk");
            }
            current = c.getName();
            relative = allocate(c.getName());
            file = root.resolve(relative).normalize();
            if (!file.startsWith(root)) {
              throw integrity("artifact name " + c.getName() + " escapes the export directory");
            }
            Files.createDirectories(file.getParent());
            if (!file.getParent().toRealPath().startsWith(root)) {
              throw integrity("artifact " + c.getName() + " would be written outside the export directory");
            }
            Files.deleteIfExists(file);
            stream = Files.newOutputStream(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
            digest = sha256();
            written = 0;
          }
          if (c.getOffset() != written) {
            throw integrity("artifact " + current + ": chunk at offset " + c.getOffset() + ", expected " + written);
          }
          byte[] data = c.getData().toByteArray();
          stream.write(data);
          digest.update(data);
          written += data.length;
          if (c.getLast()) {
            stream.close();
            stream = null;
            String actual = "sha256:" + HexFormat.of().formatHex(digest.digest());
            if (c.getTotalBytes() != written) {
              throw integrity("artifact " + current + ": received " + written + " bytes, collector recorded " + c.getTotalBytes());
            }
            if (!normalizeSha(c.getSha256()).equals(actual)) {
              throw integrity("artifact " + current + ": sha256 mismatch, collector recorded " + c.getSha256() + ", received " + actual);
            }
            record(relative, c.getKind(), c.getAgentId(), written, actual);
            if (c.getKind().equals("golden")) {
              goldenFiles.add(file);
            }
            artifacts++;
            artifactBytes += written;
            current = null;
          }
        }
        if (current != null) {
          throw integrity("artifact " + current + " ended without its last chunk");
        }
      } finally {
        if (stream != null) {
          stream.close();
        }
      }
    }

    /** report.md: {@code lockstep incident report}, with the archive checklist item ticked. */
    void addReport(String where) throws IOException {
      try {
        String md = IncidentReport.markdown(IncidentReport.build(session, incident.getId(), clock,
            new IncidentReport.Archive(where, artifacts, artifactBytes)));
        writeDerived(Export.REPORT, md.getBytes(StandardCharsets.UTF_8));
      } catch (RuntimeException e) {
        skip(Export.REPORT, "cannot build the incident report: " + oneLine(e));
      }
    }

    /** incident.json, diff_analysis.txt, golden_summary.json, golden_files.tgz where possible. */
    void addDerived() throws IOException {
      writeDerived(Export.INCIDENT, (Session.Json.pretty(incident) + "\n").getBytes(StandardCharsets.UTF_8));
      try {
        String diff = DiffSource.renderIncident(session, incident.getId());
        writeDerived(Export.DIFF, diff.getBytes(StandardCharsets.UTF_8));
      } catch (RuntimeException e) {
        skip(Export.DIFF, "no diff report: " + oneLine(e));
      }
      if (goldenFiles.isEmpty()) {
        skip(Export.SUMMARY, "no golden files in the evidence");
        skip(Export.GOLDEN_TGZ, "no golden files in the evidence");
        return;
      }
      try {
        writeGoldenSummary();
      } catch (RuntimeException e) {
        skip(Export.SUMMARY, "cannot summarise golden files: " + oneLine(e));
      }
      List<TarGz.Entry> entries = new ArrayList<>();
      for (Path g : goldenFiles) {
        entries.add(new TarGz.Entry("golden/" + root.relativize(g).toString().replace('\\', '/'), g));
      }
      Path tgz = root.resolve(Export.GOLDEN_TGZ);
      TarGz.write(entries, tgz);
      record(Export.GOLDEN_TGZ, "derived", "", Files.size(tgz), sha256Of(tgz));
    }

    /**
     * golden_summary.json exactly as the playbook makes it: the offline {@code lockstep summary
     * --dir golden --out golden_summary.json} over the exported golden files (copied to a
     * scratch tree laid out as in the export), with file paths made relative to the export.
     */
    private void writeGoldenSummary() throws IOException {
      CommandLine summary = top.getSubcommands().get("summary");
      if (summary == null) {
        skip(Export.SUMMARY, "this lockstep has no summary command");
        return;
      }
      Path scratch = Files.createTempDirectory("lockstep-golden-");
      try {
        for (Path g : goldenFiles) {
          Path copy = scratch.resolve(root.relativize(g).toString());
          Files.createDirectories(copy.getParent());
          Files.copy(g, copy);
        }
        Path report = scratch.resolve(".golden_summary.out");
        PrintWriter quiet = new PrintWriter(Writer.nullWriter());
        summary.setOut(quiet);
        summary.setErr(quiet);
        summary.execute("--dir", scratch.toString(), "--out", report.toString(), "-o", "json");
        if (!Files.isRegularFile(report)) {
          skip(Export.SUMMARY, "lockstep summary wrote no report");
          return;
        }
        String prefix = scratch.toString() + java.io.File.separator;
        JsonNode tree = mapper.readTree(report.toFile());
        JsonNode relative = relativize(tree, prefix, scratch.toString());
        writeDerived(Export.SUMMARY, (mapper.writeValueAsString(relative) + "\n").getBytes(StandardCharsets.UTF_8));
      } finally {
        Export.deleteTree(scratch);
      }
    }

    /** Rewrites every string naming a file under {@code prefix} relative to the export root. */
    private JsonNode relativize(JsonNode node, String prefix, String dir) {
      if (node.isTextual()) {
        String t = node.asText();
        if (t.equals(dir)) {
          return mapper.getNodeFactory().textNode(".");
        }
        return t.startsWith(prefix) ? mapper.getNodeFactory().textNode(t.substring(prefix.length()).replace('\\', '/')) : node;
      }
      if (node.isObject()) {
        ObjectNode copy = mapper.createObjectNode();
        node.properties().forEach(e -> copy.set(e.getKey(), relativize(e.getValue(), prefix, dir)));
        return copy;
      }
      if (node.isArray()) {
        ArrayNode copy = mapper.createArrayNode();
        node.forEach(e -> copy.add(relativize(e, prefix, dir)));
        return copy;
      }
      return node;
    }

    ObjectNode writeManifest() throws IOException {
      ObjectNode m = mapper.createObjectNode();
      m.put("format", "lockstep.evidence/v1");
      m.put("incident_id", incident.getId());
      m.put("exported_at", clock.instant().truncatedTo(java.time.temporal.ChronoUnit.SECONDS).toString());
      m.put("collector", session.connection().address().toString());
      ArrayNode f = m.putArray("files");
      files.forEach(f::add);
      ArrayNode s = m.putArray("skipped");
      skipped.forEach(s::add);
      ArrayNode r = m.putArray("renamed");
      renamed.forEach(r::add);
      Files.write(root.resolve(Export.MANIFEST), (mapper.writeValueAsString(m) + "\n").getBytes(StandardCharsets.UTF_8));
      return m;
    }

    String summaryLine(Path out) {
      return "exported " + artifacts + " artifact(s), " + artifactBytes + " bytes, of incident " + incident.getId()
          + " to " + out + " (" + files.size() + " files listed in " + Export.MANIFEST + ")";
    }

    private String allocate(String raw) {
      String safe = SafeName.of(raw);
      String candidate = safe;
      for (int n = 2; used.contains(candidate.toLowerCase(Locale.ROOT)); n++) {
        candidate = safe + "~" + n;
      }
      used.add(candidate.toLowerCase(Locale.ROOT));
      if (!candidate.equals(raw)) {
        ObjectNode r = mapper.createObjectNode();
        r.put("from", raw);
        r.put("to", candidate);
        renamed.add(r);
        warnings.add("artifact name '" + printable(raw) + "' written as '" + candidate + "'");
      }
      return candidate;
    }

    private void writeDerived(String name, byte[] bytes) throws IOException {
      Path file = root.resolve(name);
      Files.write(file, bytes);
      record(name, "derived", "", bytes.length, "sha256:" + HexFormat.of().formatHex(sha256().digest(bytes)));
    }

    private void record(String name, String kind, String agentId, long size, String sha) {
      ObjectNode n = mapper.createObjectNode();
      n.put("name", name);
      n.put("kind", kind);
      n.put("agent_id", agentId);
      n.put("size_bytes", size);
      n.put("sha256", sha);
      files.add(n);
    }

    private void skip(String name, String reason) {
      ObjectNode n = mapper.createObjectNode();
      n.put("name", name);
      n.put("reason", reason);
      skipped.add(n);
    }

    private static String oneLine(RuntimeException e) {
      String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
      return m.replaceAll("\\s+", " ").trim();
    }

    private static String printable(String s) {
      StringBuilder sb = new StringBuilder();
      s.codePoints().forEach(cp -> {
        if (cp < 0x20 || cp == 0x7f) {
          sb.append(String.format("\\x%02x", cp));
        } else {
          sb.appendCodePoint(cp);
        }
      });
      return sb.toString();
    }

    static String normalizeSha(String sha) {
      String s = sha.trim().toLowerCase(Locale.ROOT);
      return s.startsWith("sha256:") ? s : "sha256:" + s;
    }

    static String sha256Of(Path file) throws IOException {
      MessageDigest d = sha256();
      try (var in = Files.newInputStream(file)) {
        byte[] buf = new byte[64 * 1024];
        for (int n; (n = in.read(buf)) > 0; ) {
          d.update(buf, 0, n);
        }
      }
      return "sha256:" + HexFormat.of().formatHex(d.digest());
    }

    private static MessageDigest sha256() {
      try {
        return MessageDigest.getInstance("SHA-256");
      } catch (NoSuchAlgorithmException e) {
        throw new IllegalStateException(e);
      }
    }

    private static CommandFailure integrity(String message) {
      return new CommandFailure(ExitCode.COLLECTOR_ERROR, message);
    }
  }
}
