package dev.lockstep.cli.fleet;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.lockstep.proto.v1.Incident;
import dev.lockstep.proto.v1.IncidentKind;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Evidence export against an Operator server sending what a collector should never send:
 * hostile names and a corrupt checksum. The happy path runs against the real collector in
 * {@link OnlineCommandsTest}.
 */
class EvidenceExportTest {
  @TempDir Path tmp;
  FakeOperator fake;

  @BeforeEach
  void start() throws Exception {
    fake = new FakeOperator();
    fake.incident = Incident.newBuilder().setId("inc-1").setKind(IncidentKind.PROCESS_DIED).setTitle("shadow died").build();
  }

  @AfterEach
  void stop() throws Exception {
    fake.close();
  }

  @Test
  void hostileArtifactNamesAreWrittenInsideTheExportDirectory() throws Exception {
    fake.addArtifact("../../../../tmp/escaped.txt", "log", "host-a", "pwned\n".getBytes(StandardCharsets.UTF_8), null);
    fake.addArtifact("/etc/passwd", "snapshot", "host-a", "root:x:0:0\n".getBytes(StandardCharsets.UTF_8), null);
    fake.addArtifact("host-a/logs/bad\u0007name\n.log", "log", "host-a", "bell\n".getBytes(StandardCharsets.UTF_8), null);
    fake.addArtifact("manifest.json", "log", "host-a", "not the manifest".getBytes(StandardCharsets.UTF_8), null);
    Path out = tmp.resolve("export");

    Cli.Result r = Cli.run("evidence", "export", "inc-1", "--out", out.toString(), "--collector", fake.address(), "--insecure");

    assertThat(r.exitCode()).as(r.err()).isZero();
    assertThat(tmp.resolve("tmp/escaped.txt")).doesNotExist();
    assertThat(Files.readString(out.resolve("tmp/escaped.txt"))).isEqualTo("pwned\n");
    assertThat(Files.readString(out.resolve("etc/passwd"))).isEqualTo("root:x:0:0\n");
    assertThat(out.resolve("host-a/logs/bad_name_.log")).isRegularFile();
    assertThat(Files.readString(out.resolve("manifest.json~2"))).isEqualTo("not the manifest");
    JsonNode manifest = Manifests.verify(out);
    assertThat(manifest.path("renamed").toString()).contains("../../../../tmp/escaped.txt", "etc/passwd");
    assertThat(r.err()).contains("lockstep: warning: artifact name '/etc/passwd' written as 'etc/passwd'");
    assertThat(r.err()).contains("bad\\x07name\\x0a.log");
  }

  @Test
  void anArtifactWhoseChecksumDoesNotMatchFailsTheExportWithExitThree() throws Exception {
    byte[] data = "ps aux output\n".getBytes(StandardCharsets.UTF_8);
    fake.addArtifact("host-a/snapshot/ps_aux.txt", "snapshot", "host-a", data, "sha256:" + "0".repeat(64));

    Cli.Result r = Cli.run("evidence", "export", "inc-1", "--out", tmp.resolve("x").toString(), "--collector", fake.address(), "--insecure");

    assertThat(r.exitCode()).isEqualTo(3);
    assertThat(r.err().strip()).startsWith("lockstep: artifact host-a/snapshot/ps_aux.txt: sha256 mismatch").doesNotContain("\n");
  }

  @Test
  void exportToATgzWritesOneArchiveWithTheIncidentDirectory() throws Exception {
    fake.addArtifact("host-a/snapshot/disk_usage.txt", "snapshot", "host-a", "Filesystem 96%\n".getBytes(StandardCharsets.UTF_8), null);
    fake.addArtifact("host-a/logs/" + "very-long-log-name-".repeat(8) + ".log", "log", "host-a", "x".repeat(5000).getBytes(StandardCharsets.UTF_8), null);
    Path tgz = tmp.resolve("m4-incident.tgz");

    Cli.Result r = Cli.run("evidence", "export", "inc-1", "--out", tgz.toString(), "--collector", fake.address(), "--insecure");

    assertThat(r.exitCode()).as(r.err()).isZero();
    Path unpacked = Files.createDirectories(tmp.resolve("unpacked"));
    Process tar = new ProcessBuilder("tar", "xzf", tgz.toString(), "-C", unpacked.toString()).redirectErrorStream(true).start();
    assertThat(tar.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(tar.exitValue()).as(new String(tar.getInputStream().readAllBytes(), StandardCharsets.UTF_8)).isZero();
    Path dir = unpacked.resolve("incident-inc-1");
    Manifests.verify(dir);
    assertThat(Files.readString(dir.resolve("host-a/snapshot/disk_usage.txt"))).isEqualTo("Filesystem 96%\n");
    assertThat(Files.readString(dir.resolve("incident.json"))).contains("\"title\": \"shadow died\"");
    assertThat(tmp).isDirectoryNotContaining(p -> p.getFileName().toString().startsWith(".lockstep-export-"));
  }

  @Test
  void exportRefusesANonEmptyDirectoryWithoutForce() throws Exception {
    Path out = Files.createDirectories(tmp.resolve("busy"));
    Files.writeString(out.resolve("keep.txt"), "mine");

    Cli.Result r = Cli.run("evidence", "export", "inc-1", "--out", out.toString(), "--collector", fake.address(), "--insecure");

    assertThat(r.exitCode()).isEqualTo(2);
    assertThat(r.err()).contains("exists and is not an empty directory (use --force)");
    assertThat(Files.readString(out.resolve("keep.txt"))).isEqualTo("mine");
  }
}
