package dev.lockstep.security;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * {@code lockstep certs init}: makes (or reuses) a CA in a directory and issues one certificate
 * per agent, operator and viewer plus one for the collector, as PEM files:
 *
 * <pre>
 * ca.pem             CA certificate: every component's --ca (0644)
 * ca-key.pem         CA private key, keep it offline after init (0600)
 * collector.pem      collector certificate, SANs localhost, 127.0.0.1, ::1 + collectorHosts
 * collector-key.pem  (0600, PKCS#8)
 * NAME.pem           one per agent id / operator / viewer, CN=NAME, OU=role
 * NAME-key.pem       (0600, PKCS#8)
 * crl.pem            the CA's revocation list, empty until lockstep certs revoke (0644)
 * </pre>
 *
 * If {@code ca.pem} and {@code ca-key.pem} exist they are reused, so running it again adds or
 * re-issues certificates under the same CA; leaf files are replaced atomically (a running
 * component picks them up at its next reload).
 */
public final class CertsInit {
  public static final String CA_CERT_FILE = "ca.pem";
  public static final String CA_KEY_FILE = "ca-key.pem";
  /** Name (CN and file name) of the collector's certificate. */
  public static final String COLLECTOR_NAME = "collector";

  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._@-]{0,127}");
  private static final Duration MIN_CA_VALIDITY = Duration.ofDays(3650);

  private CertsInit() { }

  /** One certificate written. */
  public record Issued(String name, Role role, Path cert, Path key, Instant notAfter) { }

  /**
   * What {@link #run} wrote.
   *
   * @param caCreated false when an existing CA in the directory was reused
   */
  public record Result(Path dir, Path caCert, Path caKey, boolean caCreated, List<Issued> issued) {
    public Result {
      issued = List.copyOf(issued);
    }

    /** The files component {@code name} (an agent id, an operator, {@code collector}) should use. */
    public TlsFiles tlsFilesFor(String name) {
      for (Issued entry : issued) {
        if (entry.name().equals(name)) {
          return new TlsFiles(caCert, entry.cert(), entry.key());
        }
      }
      throw new IllegalArgumentException("no certificate was issued for " + name);
    }

    /** One line per file, for the command's output. */
    public List<String> describe() {
      List<String> lines = new ArrayList<>();
      lines.add((caCreated ? "created CA   " : "reused CA    ") + caCert + " (key " + caKey + ")");
      for (Issued entry : issued) {
        lines.add(String.format("%-12s %s (key %s, CN=%s, OU=%s, valid until %s)",
            entry.role().label(), entry.cert(), entry.key(), entry.name(), entry.role().label(),
            entry.notAfter()));
      }
      return lines;
    }
  }

  /** {@link #run(Path, List, List, List, List, Duration, Clock)} with the system clock. */
  public static Result run(Path dir, List<String> agents, List<String> operators,
      List<String> viewers, List<String> collectorHosts, Duration validity)
      throws SecuritySetupException {
    return run(dir, agents, operators, viewers, collectorHosts, validity, Clock.systemUTC());
  }

  /**
   * Creates {@code dir} if needed, makes or reuses its CA, and issues certificates valid for
   * {@code validity}. Names must be unique across roles, match {@code [A-Za-z0-9][A-Za-z0-9._@-]*},
   * not be {@code ca}/{@code collector} and not end in {@code -key}.
   */
  public static Result run(Path dir, List<String> agents, List<String> operators,
      List<String> viewers, List<String> collectorHosts, Duration validity, Clock clock)
      throws SecuritySetupException {
    Objects.requireNonNull(dir, "dir");
    if (validity.isNegative() || validity.isZero()) {
      throw new SecuritySetupException("validity must be positive, got " + validity);
    }
    Set<String> seen = new HashSet<>();
    checkNames(agents, "--agents", seen);
    checkNames(operators, "--operators", seen);
    checkNames(viewers, "--viewers", seen);
    for (String host : collectorHosts) {
      if (host.isBlank() || !host.matches("[A-Za-z0-9.:*-]+")) {
        throw new SecuritySetupException("--collector-hosts: \"" + host
            + "\" is not a host name or IP address");
      }
    }
    Path caCert = dir.resolve(CA_CERT_FILE);
    Path caKey = dir.resolve(CA_KEY_FILE);
    try {
      Files.createDirectories(dir);
      CertificateAuthority ca;
      boolean created;
      if (Files.exists(caCert) && Files.exists(caKey)) {
        ca = CertificateAuthority.load(caCert, caKey, clock);
        created = false;
      } else if (Files.exists(caCert) || Files.exists(caKey)) {
        throw new SecuritySetupException("" + dir + " holds only one of " + CA_CERT_FILE
            + " and " + CA_KEY_FILE + "; restore the other or remove it to make a new CA");
      } else {
        Duration caValidity = validity.compareTo(MIN_CA_VALIDITY) > 0 ? validity : MIN_CA_VALIDITY;
        ca = CertificateAuthority.create("Lockstep CA " + dir.toAbsolutePath().getFileName(),
            caValidity, clock);
        ca.write(caCert, caKey);
        created = true;
      }
      List<Issued> issued = new ArrayList<>();
      issued.add(issue(ca, dir, COLLECTOR_NAME, Role.COLLECTOR, collectorHosts, validity));
      for (String name : agents) {
        issued.add(issue(ca, dir, name, Role.AGENT, List.of(), validity));
      }
      for (String name : operators) {
        issued.add(issue(ca, dir, name, Role.OPERATOR, List.of(), validity));
      }
      for (String name : viewers) {
        issued.add(issue(ca, dir, name, Role.VIEWER, List.of(), validity));
      }
      CertsDirectory.ensureCrl(dir, ca);
      return new Result(dir, caCert, caKey, created, issued);
    } catch (IOException e) {
      throw new SecuritySetupException("cannot write to " + dir + ": " + e.getMessage(), e);
    }
  }

  private static Issued issue(CertificateAuthority ca, Path dir, String name, Role role,
      List<String> hosts, Duration validity) throws IOException {
    CertificateAuthority.Issued issued = ca.issue(name, role, hosts, validity);
    TlsFiles files = TlsFiles.inDirectory(dir, name);
    issued.write(files.cert(), files.key());
    return new Issued(name, role, files.cert(), files.key(),
        issued.certificate().getNotAfter().toInstant());
  }

  private static void checkNames(List<String> names, String option, Set<String> seen)
      throws SecuritySetupException {
    for (String name : names) {
      if (!NAME.matcher(name).matches()) {
        throw new SecuritySetupException("" + option + ": \"" + name + "\" is not a valid"
            + " name (letters, digits, . _ @ -, starting with a letter or digit, at most 128)");
      }
      if (name.equals("ca") || name.equals(COLLECTOR_NAME) || name.endsWith("-key")) {
        throw new SecuritySetupException("" + option + ": \"" + name + "\" is reserved"
            + " (ca, collector and names ending in -key would clash with other files)");
      }
      if (!seen.add(name)) {
        throw new SecuritySetupException("" + option + ": \"" + name + "\" is given"
            + " twice; each name gets one certificate with one role");
      }
    }
  }
}
