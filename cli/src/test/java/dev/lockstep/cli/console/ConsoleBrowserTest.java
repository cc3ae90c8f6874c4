package dev.lockstep.cli.console;

import static com.microsoft.playwright.assertions.PlaywrightAssertions.assertThat;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.microsoft.playwright.APIResponse;
import com.microsoft.playwright.BrowserContext;
import com.microsoft.playwright.Download;
import com.microsoft.playwright.Locator;
import com.microsoft.playwright.Page;
import com.microsoft.playwright.Response;
import com.microsoft.playwright.Route;
import com.microsoft.playwright.assertions.PlaywrightAssertions;
import com.microsoft.playwright.options.ColorScheme;
import dev.lockstep.cli.fleet.Eventually;
import dev.lockstep.proto.v1.AuditEntry;
import dev.lockstep.proto.v1.AgentStopStatus;
import dev.lockstep.proto.v1.DiffRequest;
import dev.lockstep.proto.v1.EnableStopRequest;
import dev.lockstep.proto.v1.GetIncidentRequest;
import dev.lockstep.proto.v1.GetRunRequest;
import dev.lockstep.proto.v1.Replica;
import dev.lockstep.proto.v1.ResumeStopRequest;
import dev.lockstep.proto.v1.Run;
import dev.lockstep.proto.v1.StopScope;
import dev.lockstep.proto.v1.StopStatus;
import dev.lockstep.proto.v1.StopStatusRequest;
import dev.lockstep.proto.v1.Incident;
import dev.lockstep.proto.v1.ListAuditRequest;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Pattern;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * The web console in a real browser (Debian's chromium, driven by Playwright) against a real
 * collector and real agents under mTLS, both ways in: {@code lockstep console} as a child process
 * with the operator's or the viewer's certificate, and the collector's own HTTPS console with the
 * browser's client certificate. One fleet and one browser for the class; the tests run in order
 * and each leaves the fleet as the next expects. Screenshots go to target/console-screenshots.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ConsoleBrowserTest {
  static final Duration WAIT = ConsoleFleet.WAIT;
  static final Path SHOTS = Path.of("target", "console-screenshots");
  static final String RUN = "billing-7f3a-cycle-0042";
  static final String BIG_RUN = "bulk-export-2025-12-02";
  static final int STEPS = 2500;
  static final int DIVERGENT = 1700;

  @TempDir static Path dir;
  ConsoleFleet fleet;
  Chromium chromium;
  ConsoleProcess aliceConsole;
  String loginUrl;
  String base;
  BrowserContext alice;
  Page page;
  String incidentId;

  @BeforeAll
  void start() throws Exception {
    PlaywrightAssertions.setDefaultAssertionTimeout(WAIT.toMillis());
    Files.createDirectories(SHOTS);
    fleet = new ConsoleFleet(dir);
    chromium = Chromium.launch();
    aliceConsole = ConsoleProcess.start(fleet.grpc, fleet.certs, "alice", Map.of());
    loginUrl = aliceConsole.loginUrl(WAIT);
    base = ConsoleProcess.base(loginUrl);
    alice = chromium.context(ColorScheme.LIGHT);
    page = alice.newPage();
  }

  @AfterAll
  void stop() throws Exception {
    try {
      if (aliceConsole != null) {
        int code = aliceConsole.stop();
        assertThat(code).as("lockstep console exit on SIGTERM (128 + 15): %s", aliceConsole.lines).isEqualTo(143);
        assertThat(aliceConsole.lines).contains("[console] stopped");
      }
    } finally {
      if (chromium != null) {
        chromium.close();
      }
      if (fleet != null) {
        fleet.close();
      }
    }
  }

  // ---- the way in -------------------------------------------------------------------------

  @Test
  @Order(1)
  void theBareAddressIsRefusedTheOneTimeLinkLogsInOnceAndIsThenSpent() {
    try (BrowserContext stranger = chromium.context(ColorScheme.LIGHT)) {
      Page p = stranger.newPage();
      Response bare = p.navigate(base);
      assertThat(bare.status()).isEqualTo(401);
      assertThat(p.content()).contains("one-time link");
      APIResponse api = stranger.request().post(base + "api/rpc/GetStatus");
      assertThat(api.status()).isEqualTo(401);
      APIResponse wrong = stranger.request().get(base + "?token=not-the-token");
      assertThat(wrong.status()).isEqualTo(401);
    }

    Response login = page.navigate(loginUrl);
    assertThat(login.ok()).isTrue();
    assertThat(page.url()).as("the token leaves the address bar").isEqualTo(base);
    assertThat(page.locator("#who")).hasText("alice (operator)");
    assertThat(page.locator("#live")).hasAttribute("data-state", "live");

    try (BrowserContext late = chromium.context(ColorScheme.LIGHT)) {
      Page p = late.newPage();
      Response again = p.navigate(loginUrl);
      assertThat(again.status()).isEqualTo(401);
      assertThat(p.content()).contains("already used");
    }
    assertThat(aliceConsole.lines).anySatisfy(l -> assertThat(l).contains("browser logged in").contains("alice (operator)"));
  }

  @Test
  @Order(2)
  void theFleetPageShowsEveryAgentItsProbesAndTheCollectorsStore() {
    open(page, base + "#/fleet");
    for (String agent : ConsoleFleet.AGENTS) {
      Locator row = page.locator("#agents tr[data-agent='" + agent + "']");
      assertThat(row).hasAttribute("data-connection", "CONNECTED");
      assertThat(row).containsText("DISK");
    }
    Locator store = page.locator("[data-store]");
    assertThat(store).hasAttribute("data-store", "OK");
    assertThat(store).containsText("free");
    for (String agent : ConsoleFleet.AGENTS) {
      // every component of a real agent runs: one "N ok" badge, not a badge per component
      assertThat(page.locator("#agents tr[data-agent='" + agent + "'] [data-components]"))
          .hasAttribute("data-components", "ok", new com.microsoft.playwright.assertions.LocatorAssertions
              .HasAttributeOptions().setTimeout(20_000));
    }
    assertThat(page.locator("section[aria-label='Collector store']")).containsText("LOW below");
    assertThat(page.locator("section[aria-label='Agents']")).containsText("3 connected");
    shoot(page, "fleet");

    // a store that cannot write (issue 18's FAILED), as the collector would report it: the page says
    // so, with the writes held in memory and why
    Page failing = alice.newPage();
    try {
      failing.route("**/api/rpc/GetStatus", route -> {
        APIResponse real = route.fetch();
        try {
          com.fasterxml.jackson.databind.node.ObjectNode status =
              (com.fasterxml.jackson.databind.node.ObjectNode) new ObjectMapper().readTree(real.body());
          status.putObject("store").put("state", "FAILED").put("free_bytes", "0")
              .put("high_watermark_bytes", "2147483648").put("flood_watermark_bytes", "536870912")
              .put("pending_writes", "12").put("detail", "RocksDB: No space left on device");
          route.fulfill(new Route.FulfillOptions().setResponse(real).setBody(status.toString()));
        } catch (IOException e) {
          throw new java.io.UncheckedIOException(e);
        }
      });
      // and an agent whose golden watcher is degraded, as issue 13's component status reports it
      failing.route("**/api/rpc/ListAgents", route -> {
        APIResponse real = route.fetch();
        try {
          com.fasterxml.jackson.databind.node.ObjectNode list =
              (com.fasterxml.jackson.databind.node.ObjectNode) new ObjectMapper().readTree(real.body());
          for (com.fasterxml.jackson.databind.JsonNode a : list.path("agents")) {
            if (!a.path("agent_id").asText().equals("host-b")) continue;
            com.fasterxml.jackson.databind.node.ArrayNode probes = (com.fasterxml.jackson.databind.node.ArrayNode) a.path("probes");
            for (int i = probes.size() - 1; i >= 0; i--) {
              if (probes.get(i).path("target").asText().equals("golden")) probes.remove(i);
            }
            com.fasterxml.jackson.databind.node.ObjectNode degraded = probes.addObject().put("probe", "COMPONENT")
                .put("target", "golden").put("level", "WARN").put("summary", "agent component golden degraded");
            degraded.putObject("component").put("name", "golden").put("state", "DEGRADED")
                .put("reason", "1 of 2 golden dirs failing (/data/g2: permission denied)");
          }
          route.fulfill(new Route.FulfillOptions().setResponse(real).setBody(list.toString()));
        } catch (IOException e) {
          throw new java.io.UncheckedIOException(e);
        }
      });
      open(failing, base + "#/fleet");
      Locator components = failing.locator("#agents tr[data-agent='host-b'] [data-components]");
      assertThat(components).hasAttribute("data-components", "golden");
      assertThat(components).containsText("golden DEGRADED");
      assertThat(components).containsText("/data/g2: permission denied");
      assertThat(failing.locator("#agents tr[data-agent='host-a'] [data-components]"))
          .hasAttribute("data-components", "ok");
      Locator card = failing.locator("section[aria-label='Collector store']");
      assertThat(card.locator("[data-store]")).hasAttribute("data-store", "FAILED");
      assertThat(card.locator(".badge.bad")).hasText("FAILED");
      assertThat(card.locator(".meter.bad")).hasCount(1);
      assertThat(card).containsText("12 writes held in memory");
      assertThat(card).containsText("No space left on device");
      shoot(failing, "fleet-store-failed");
    } finally {
      failing.close();
    }
  }

  // ---- the stop -----------------------------------------------------------------------------

  @Test
  @Order(3)
  void anOperatorsStopWithAReasonReachesEveryAgentAndThePageShowsEachConfirmation() throws Exception {
    open(page, base + "#/stop");
    assertThat(page.locator("#agents-stop tr[data-agent]")).hasCount(3);
    page.evaluate("window.__sameDocument = true");
    recordStatuses(page);
    page.locator("#enable-form textarea[name=reason]").fill("console drill: stop every agent");
    page.locator("#enable-stop").click();
    Locator dialog = page.locator("#dialog");
    assertThat(dialog).isVisible();
    assertThat(dialog).containsText("These 3 agents will STOP");
    for (String agent : ConsoleFleet.AGENTS) {
      assertThat(dialog.locator("li", new Locator.LocatorOptions().setHasText(agent))).hasCount(1);
    }
    assertThat(page.locator("#dialog-ok")).hasText("Stop 3 agents");
    shoot(page, "stop-confirmation");
    page.locator("#dialog-ok").click();

    for (String agent : ConsoleFleet.AGENTS) {
      awaitStopRow(page, agent, "STOPPED", "CONFIRMED");
      assertThat(fleet.stopFile(agent)).as("the real agent enacted the stop").isRegularFile();
    }
    assertThat(page.evaluate("window.__sameDocument === true")).as("updated live, not reloaded").isEqualTo(true);
    @SuppressWarnings("unchecked")
    Map<String, List<String>> seen = (Map<String, List<String>>) page.evaluate("window.__statuses");
    for (String agent : ConsoleFleet.AGENTS) {
      List<String> statuses = seen.get(agent);
      assertThat(statuses).as("what the page showed for %s, in order", agent).isNotNull();
      assertThat(statuses.get(statuses.size() - 1)).isEqualTo("STOPPED CONFIRMED");
      assertThat(statuses).as("the page showed %s waiting for its confirmation first", agent)
          .contains("STOPPED PENDING");
    }
    assertThat(page.locator("#orders-table tr[data-order]")).hasCount(1);
    assertThat(page.locator("#orders-table")).containsText("console drill: stop every agent");
    assertThat(page.locator("#orders-table")).containsText("alice");
    shoot(page, "stop");

    open(page, base + "#/audit");
    Locator enable = page.locator("#audit tr[data-action='EnableStop'][data-who='alice']");
    assertThat(enable).hasCount(1);
    assertThat(enable).hasAttribute("data-result", "OK");
    shoot(page, "audit");
    // a page at a time: the older entries come with "Show older" (ListAudit's next_page_token)
    open(page, base + "#/audit?since=all&page=3");
    assertThat(page.locator("#audit tbody tr")).hasCount(3);
    assertThat(page.locator("#audit-older")).containsText("3 shown");
    page.locator("#audit-older").click();
    assertThat(page.locator("#audit tbody tr")).hasCount(6);
    assertThat(page.locator("#audit-older")).containsText("6 shown");

    open(page, base + "#/stop");
    page.locator("#resume-all").click();
    assertThat(page.locator("#dialog")).containsText("3 agents will RUN again");
    page.locator("#dialog textarea[name=reason]").fill("drill over");
    assertThat(page.locator("#dialog-ok")).hasText("Resume 3 agents");
    page.locator("#dialog-ok").click();
    for (String agent : ConsoleFleet.AGENTS) {
      awaitStopRow(page, agent, "RUNNING", "CONFIRMED");
    }
    Eventually.await(WAIT, "every stop file removed", () ->
        ConsoleFleet.AGENTS.stream().noneMatch(a -> Files.exists(fleet.stopFile(a))));
    // no order left: "Resume all" has nothing to name (the API would refuse an empty resume)
    assertThat(page.locator("#resume-all")).isDisabled();
  }

  // ---- a mismatch, live, and its diff --------------------------------------------------------

  @Test
  @Order(4)
  void aRealMismatchAppearsLiveAndItsDiffShowsTheDivergentPathAndTheFirstDivergentStep() throws Exception {
    open(page, base + "#/incidents");
    assertThat(page.locator("#incidents")).isVisible();
    page.evaluate("window.__sameDocument = true");
    page.evaluate("() => { window.__incidentAt = 0; new MutationObserver(() => { if (!window.__incidentAt"
        + " && document.querySelector(\"#incidents tr[data-severity='P0']\")) window.__incidentAt = Date.now(); })"
        + ".observe(document.getElementById('main'), {subtree: true, childList: true}); }");
    fleet.golden("host-a", RUN + ".primary.golden.json", golden("primary", "[0.12, 0.98]", 7, "10:00:00"));
    long written = System.currentTimeMillis();
    fleet.golden("host-b", RUN + ".shadow.golden.json", golden("shadow", "[0.12, 0.55]", 3, "10:00:04"));

    Locator row = page.locator("#incidents tr[data-severity='P0']");
    assertThat(row).hasCount(1);
    long shownAt = ((Number) page.evaluate("window.__incidentAt")).longValue();
    Incident opened = fleet.incidentOf(RUN);
    System.out.printf(Locale.ROOT, "console: live — the mismatch shown on the Incidents page %d ms after the collector"
            + " opened the incident, %d ms after the second golden file was written (the agent's settle time included)%n",
        shownAt - com.google.protobuf.util.Timestamps.toMillis(opened.getFirstSeen()), shownAt - written);
    assertThat(row).containsText("UNSEEDED_RNG");
    assertThat(page.evaluate("window.__sameDocument === true")).as("appeared live, not on a reload").isEqualTo(true);
    incidentId = row.getAttribute("data-incident");
    shoot(page, "incidents");

    row.locator("a").first().click();
    // the documents arrive as evidence after the incident: the page redraws the diff when they do
    Locator diff = page.locator("#diff");
    assertThat(diff).hasAttribute("data-state", "ready");
    assertThat(page.locator("#first-step")).hasText("step 1 · sample");
    Locator first = page.locator("#first-divergence");
    // the jump lands where the explanation points: the random number step 1 drew differently
    assertThat(first).hasAttribute("data-path", "/steps/1/rng/1");
    assertThat(first.locator("td.gutter")).hasText("▶ first divergence");
    Locator rng = page.locator("#diff-table tr[data-path='/steps/1/rng/1']");
    assertThat(rng).hasClass(java.util.regex.Pattern.compile("\\breal\\b"));
    assertThat(rng.locator("td.a")).hasText("0.98");
    assertThat(rng.locator("td.b")).hasText("0.55");
    Locator time = page.locator("#diff-table tr[data-path='/timestamp']");
    assertThat(time).hasClass(java.util.regex.Pattern.compile("\\bnoise\\b"));
    assertThat(page.locator("#diff-table tr.open[data-path='/steps/1']")).containsText("step 1 · sample");
    assertThat(page.locator("#incident-facts #hosts")).containsText("host-a");
    assertThat(page.locator("#incident-facts #hosts")).containsText("host-b");

    page.locator("body").press("f");
    assertThat(page.evaluate("document.activeElement.id")).isEqualTo("first-divergence");
    page.locator("body").press("n");
    assertThat(page.locator("#diff-position")).containsText("difference 2 of");
    shoot(page, "incident");
    BrowserContext dark = chromium.context(ColorScheme.DARK);
    try {
      Page d = dark.newPage();
      // the operator's own session cookie, in a dark-scheme profile
      dark.addCookies(alice.cookies());
      open(d, base + "#/incident/" + incidentId);
      assertThat(d.locator("#diff")).hasAttribute("data-state", "ready");
      shoot(d, "incident-dark");
    } finally {
      dark.close();
    }

    // evidence: listed with sizes and SHA-256, exported with one click, every file as listed
    Locator evidence = page.locator("#evidence-table tr[data-name]");
    assertThat(evidence.filter(new Locator.FilterOptions().setHasText("golden/" + RUN + ".primary.golden.json")))
        .hasCount(1);
    Incident stored = fleet.operator().getIncident(dev.lockstep.proto.v1.GetIncidentRequest.newBuilder()
        .setId(incidentId).build());
    for (var e : stored.getEvidenceList()) {
      Locator r = page.locator("#evidence-table tr[data-name='" + e.getAgentId() + "/" + e.getName() + "']");
      assertThat(r.locator("td.sha")).hasText(e.getSha256());
    }
    Download download = page.waitForDownload(() -> page.locator("#export").click());
    Path archive = dir.resolve("export.tgz");
    download.saveAs(archive);
    Map<String, byte[]> entries = untar(archive);
    String root = "incident-" + incidentId + "/";
    JsonNode manifest = new ObjectMapper().readTree(entries.get(root + "manifest.json"));
    assertThat(manifest.path("format").asText()).isEqualTo("lockstep.evidence/v1");
    assertThat(manifest.path("files").size()).isEqualTo(stored.getEvidenceCount() + 1);
    for (JsonNode f : manifest.path("files")) {
      byte[] data = entries.get(root + f.path("name").asText());
      assertThat(data).as(f.path("name").asText()).isNotNull();
      assertThat(f.path("sha256").asText()).isEqualTo("sha256:" + sha256(data));
      assertThat(f.path("size_bytes").asLong()).isEqualTo(data.length);
    }
    assertThat(entries).containsKey(root + "host-a/golden/" + RUN + ".primary.golden.json");
  }

  // ---- a viewer --------------------------------------------------------------------------------

  @Test
  @Order(5)
  void aViewerSeesNoActionButtonsAndTheApiRefusesAForgedAction() throws Exception {
    Path opened = dir.resolve("opened-url");
    Path browser = dir.resolve("browser.sh");
    Files.writeString(browser, "#!/bin/sh\nprintf '%s' \"$1\" > '" + opened + ".tmp' && mv '" + opened + ".tmp' '" + opened + "'\n");
    assertThat(browser.toFile().setExecutable(true)).isTrue();
    try (ConsoleProcess bobConsole = ConsoleProcess.start(fleet.grpc, fleet.certs, "bob",
            Map.of("BROWSER", browser.toString()), "--open");
        BrowserContext bob = chromium.context(ColorScheme.LIGHT)) {
      String url = bobConsole.loginUrl(WAIT);
      Eventually.await(WAIT, "--open to start the browser on the URL", () -> Files.exists(opened));
      assertThat(Files.readString(opened)).isEqualTo(url);
      assertThat(bobConsole.lines).anySatisfy(l -> assertThat(l).contains("bob (viewer) (read only)"));
      Page p = bob.newPage();
      p.navigate(url);
      assertThat(p.locator("#who")).hasText("bob (viewer) · read only");
      String bobBase = ConsoleProcess.base(url);

      open(p, bobBase + "#/stop");
      assertThat(p.locator("#read-only")).isVisible();
      assertThat(p.locator("#agents-stop tr[data-agent]")).hasCount(3);
      assertThat(p.locator("#enable-stop")).hasCount(0);
      assertThat(p.locator("main button[data-action], #resume-all")).hasCount(0);
      open(p, bobBase + "#/incidents");
      assertThat(p.locator("#incidents tr[data-incident]")).not().hasCount(0);
      assertThat(p.locator("main button[data-action]")).hasCount(0);
      open(p, bobBase + "#/incident/" + incidentId);
      assertThat(p.locator("#diff")).hasAttribute("data-state", "ready");
      assertThat(p.locator("main button[data-action]")).hasCount(0);
      shoot(p, "incident-viewer");

      Object forged = p.evaluate("async () => { const s = await (await fetch('/api/session')).json();"
          + " const r = await fetch('/api/rpc/EnableStop', {method: 'POST', headers: {'Content-Type': 'application/json',"
          + " 'X-Lockstep-Csrf': s.csrf}, body: JSON.stringify({reason: 'forged', scope: {fleet: true}})});"
          + " return r.status + ' ' + await r.text(); }");
      assertThat(String.valueOf(forged)).startsWith("403 ").contains("PERMISSION_DENIED")
          .contains("operator role required for EnableStop; caller bob is viewer");
      Eventually.await(WAIT, "the refusal audited by the collector", () -> audit().stream().anyMatch(e ->
          e.getWho().equals("bob") && e.getAction().equals("EnableStop") && e.getResult().equals("DENIED")));
      assertThat(fleet.operator().getStopStatus(dev.lockstep.proto.v1.StopStatusRequest.getDefaultInstance())
          .getOrdersList()).noneMatch(o -> o.getReason().equals("forged"));
      assertThat(bobConsole.stop()).isEqualTo(143);
      assertThat(bobConsole.lines).contains("[console] stopped");
    }
    // an action without this page's token (another site making the browser post) is refused
    Object noToken = page.evaluate("async () => { const r = await fetch('/api/rpc/EnableStop', {method: 'POST',"
        + " headers: {'Content-Type': 'application/json'}, body: '{\"reason\": \"csrf\"}'}); return r.status + ' ' + await r.text(); }");
    assertThat(String.valueOf(noToken)).startsWith("403 ").contains("X-Lockstep-Csrf");
  }

  // ---- the collector's own console ------------------------------------------------------------

  @Test
  @Order(6)
  void theCollectorServesTheConsoleToClientCertificatesWithTheSameRolesAndAudit() throws Exception {
    String origin = fleet.consoleOrigin();
    try (BrowserContext nobody = chromium.browser.newContext(Chromium.options(ColorScheme.LIGHT))) {
      Page p = nobody.newPage();
      Response r = p.navigate(origin + "/");
      assertThat(r.status()).isEqualTo(401);
      assertThat(p.content()).contains("client certificate");
    }
    Eventually.await(WAIT, "the certificate-less visit audited", () -> audit().stream().anyMatch(e ->
        e.getAction().equals("ConsoleLogin") && e.getResult().equals("DENIED")));

    try (BrowserContext bob = chromium.contextWithCertificate(origin, fleet.cert("bob"), fleet.key("bob"))) {
      Page p = bob.newPage();
      open(p, origin + "/#/stop");
      assertThat(p.locator("#who")).hasText("bob (viewer) · read only");
      assertThat(p.locator("#read-only")).isVisible();
      Object forged = p.evaluate("async () => { const s = await (await fetch('/api/session')).json();"
          + " const r = await fetch('/api/rpc/ResolveIncident', {method: 'POST', headers: {'Content-Type': 'application/json',"
          + " 'X-Lockstep-Csrf': s.csrf}, body: JSON.stringify({id: '" + incidentId + "', note: 'forged'})});"
          + " return r.status + ' ' + await r.text(); }");
      assertThat(String.valueOf(forged)).startsWith("403 ").contains("caller bob is viewer");
    }
    Eventually.await(WAIT, "the viewer's refusal audited with the browser's address", () -> audit().stream().anyMatch(e ->
        e.getWho().equals("bob") && e.getAction().equals("ResolveIncident") && e.getResult().equals("DENIED")
            && e.getRemoteAddress().endsWith("via console")));

    try (BrowserContext op = chromium.contextWithCertificate(origin, fleet.cert("alice"), fleet.key("alice"))) {
      Page p = op.newPage();
      p.onConsoleMessage(m -> System.out.println("browser console: " + m.text()));
      p.onRequestFailed(r -> System.out.println("request failed: " + r.url() + " " + r.failure()));
      p.onResponse(r -> System.out.println("response: " + r.status() + " " + r.url()));
      open(p, origin + "/#/incident/" + incidentId);
      assertThat(p.locator("#who")).hasText("alice (operator)");
      assertThat(p.locator("#diff")).hasAttribute("data-state", "ready");
      p.locator("button[data-action='ack']").first().click();
      assertThat(p.locator("#dialog")).containsText("ACKNOWLEDGED");
      p.locator("#dialog textarea[name=note]").fill("looking at the rng of step 1");
      p.locator("#dialog-ok").click();
      assertThat(p.locator("main h1")).containsText("ACKNOWLEDGED");
      shoot(p, "incident-collector-console");
    }
    Eventually.await(WAIT, "the operator's ack audited as hers, via the console", () -> audit().stream().anyMatch(e ->
        e.getWho().equals("alice") && e.getAction().equals("AckIncident") && e.getResult().equals("OK")
            && e.getRemoteAddress().endsWith("via console")));
  }

  // ---- a 10 MB golden pair --------------------------------------------------------------------

  @Test
  @Order(7)
  void theIncidentPageOfATenMegabyteGoldenPairIsInteractiveQuickly() throws Exception {
    byte[] a = bigGolden("primary", false);
    byte[] b = bigGolden("shadow", true);
    fleet.golden("host-a", BIG_RUN + ".primary.golden.json", a);
    fleet.golden("host-c", BIG_RUN + ".shadow.golden.json", b);
    Incident big = fleet.incidentOf(BIG_RUN);
    Eventually.await(Duration.ofSeconds(90), "both 10 MB documents captured and drawn side by side", () ->
        !fleet.operator().withDeadlineAfter(60, java.util.concurrent.TimeUnit.SECONDS)
            .diff(DiffRequest.newBuilder().setIncidentId(big.getId()).setSideBySide(true).build())
            .getSideBySideJson().isEmpty());

    // a cold load of the incident page: HTML, styles, scripts, session, incident, diff, drawing
    Page p = alice.newPage();
    long t0 = System.nanoTime();
    open(p, base + "#/incident/" + big.getId());
    assertThat(p.locator("#diff")).hasAttribute("data-state", "ready");
    p.locator("body").press("f");
    assertThat(p.locator("#first-divergence")).isFocused();
    long millis = (System.nanoTime() - t0) / 1_000_000;
    assertThat(p.locator("#first-divergence")).hasAttribute("data-path", "/steps/" + DIVERGENT + "/rng/0");
    assertThat(p.locator("#diff-table tr.noise").count()).as("volatile noise shown dimmed").isPositive();
    Number drawnAt = (Number) p.evaluate("Math.round(window.lockstepIncidentInteractiveAt)");
    int rows = ((Number) p.evaluate("document.querySelectorAll('#diff-table tbody tr').length")).intValue();
    System.out.printf(Locale.ROOT, "console: incident page of a %.1f MB + %.1f MB golden pair (%d rows drawn):"
            + " diff drawn %d ms after navigation start (browser clock), first divergence focused %d ms after"
            + " the test asked for the page; load average %s%n",
        a.length / 1e6, b.length / 1e6, rows, drawnAt.longValue(), millis, loadAverage());
    shoot(p, "incident-10mb");
    p.close();
  }

  // ---- screenshots and page weight --------------------------------------------------------------

  @Test
  @Order(8)
  void everyPageWeighsAtMost300KilobytesBeforeDataAndIsShotInLightAndDark() {
    Map<String, Long> weights = new LinkedHashMap<>();
    Map<String, String> background = new LinkedHashMap<>();
    List<String> elsewhere = new ArrayList<>();
    for (String scheme : List.of("light", "dark")) {
      try (BrowserContext ctx = chromium.context(scheme.equals("dark") ? ColorScheme.DARK : ColorScheme.LIGHT)) {
        ctx.addCookies(alice.cookies());
        for (String route : List.of("fleet", "incidents", "incident/" + incidentId, "runs", "stop", "audit")) {
          Page p = ctx.newPage();
          AtomicLong bytes = new AtomicLong();
          p.onRequest(r -> {
            if (!r.url().startsWith(base) && !r.url().startsWith("data:")) {
              elsewhere.add(r.url());
            }
          });
          p.onResponse(r -> {
            if (!r.url().contains("/api/")) {
              bytes.addAndGet(r.body().length);
            }
          });
          open(p, base + "#/" + route);
          assertThat(p.locator("body")).hasAttribute("data-ready", route.replaceAll("/.*", ""));
          String name = route.replaceAll("/.*", "");
          shoot(p, name + "-" + scheme);
          weights.put(name, bytes.get());
          background.put(scheme, String.valueOf(p.evaluate("getComputedStyle(document.body).backgroundColor")));
          p.close();
        }
      }
    }
    weights.forEach((page, bytes) -> System.out.printf(Locale.ROOT, "console: page %-9s %,7d bytes before data%n", page, bytes));
    assertThat(weights.values()).allSatisfy(b -> assertThat(b).isPositive().isLessThanOrEqualTo(300 * 1024L));
    assertThat(elsewhere).as("requests to anywhere but the console (no CDN, fonts or scripts from outside)").isEmpty();
    assertThat(background.get("dark")).as("dark scheme is dark, light is light").isNotEqualTo(background.get("light"));
    assertThat(background.get("light")).isEqualTo("rgb(255, 255, 255)");
  }

  // ---- live updates from elsewhere, by keyboard -------------------------------------------------

  @Test
  @Order(9)
  void aStopMadeElsewhereAppearsLiveAndTheKeyboardAloneResumesIt() throws Exception {
    // the P0 mismatches above stopped their workflows' agents: the fleet runs again first
    if (fleet.operator().getStopStatus(StopStatusRequest.getDefaultInstance()).getOrdersCount() > 0) {
      fleet.operator().resumeStop(ResumeStopRequest.newBuilder().setAll(true)
          .addAllOrderIds(fleet.operator().getStopStatus(dev.lockstep.proto.v1.StopStatusRequest.getDefaultInstance()).getOrdersList().stream().map(dev.lockstep.proto.v1.StopOrder::getId).toList()).setReason("mismatches handled").build());
    }
    try {
      Eventually.await(WAIT, "every agent running and confirmed", () -> fleet.operator()
          .getStopStatus(StopStatusRequest.getDefaultInstance()).getAgentsList().stream()
          .allMatch(a -> a.getMode().name().equals("RUNNING") && a.getStatus().equals("CONFIRMED")));
    } catch (AssertionError e) {
      throw new AssertionError(e.getMessage() + "; stop status: "
          + fleet.operator().getStopStatus(StopStatusRequest.getDefaultInstance()), e);
    }
    open(page, base + "#/fleet");
    page.keyboard().press("g");
    page.keyboard().press("s");
    assertThat(page.locator("body")).hasAttribute("data-ready", "stop");
    page.evaluate("window.__sameDocument = true");
    // when each row first showed each state, by the browser's clock (the same machine's)
    page.evaluate("() => { window.__seen = {}; const note = () => document.querySelectorAll('#agents-stop tr[data-agent]')"
        + ".forEach((tr) => { const k = tr.dataset.agent + ' ' + tr.dataset.mode + ' ' + tr.dataset.status;"
        + " if (!(k in window.__seen)) window.__seen[k] = Date.now(); }); note();"
        + " new MutationObserver(note).observe(document.getElementById('main'), {subtree: true, childList: true, attributes: true}); }");

    // the CLI's way: only the Watch stream can tell this page
    long asked = System.currentTimeMillis();
    StopStatus enabled = fleet.operator().enableStop(EnableStopRequest.newBuilder().setReason("stopped from the CLI")
        .setScope(StopScope.newBuilder().setAgentId("host-b")).build());
    long answered = System.currentTimeMillis();
    String order = enabled.getOrdersList().stream().filter(o -> o.getReason().equals("stopped from the CLI"))
        .findFirst().orElseThrow().getId();
    awaitStopRow(page, "host-b", "STOPPED", "CONFIRMED");
    assertThat(page.locator("#agents-stop tr[data-agent='host-a']")).hasAttribute("data-mode", "RUNNING");
    assertThat(page.locator("#agents-stop tr[data-agent='host-c']")).hasAttribute("data-mode", "RUNNING");
    assertThat(page.locator("#orders-table tr[data-order='" + order + "']")).containsText("stopped from the CLI");
    assertThat(page.evaluate("window.__sameDocument === true")).as("updated live, not reloaded").isEqualTo(true);
    @SuppressWarnings("unchecked")
    Map<String, Number> seen = (Map<String, Number>) page.evaluate("window.__seen");
    long stoppedShown = seen.entrySet().stream().filter(e -> e.getKey().startsWith("host-b STOPPED"))
        .mapToLong(e -> e.getValue().longValue()).min().orElseThrow();
    long confirmedShown = seen.get("host-b STOPPED CONFIRMED").longValue();
    AgentStopStatus b = fleet.operator().getStopStatus(StopStatusRequest.getDefaultInstance()).getAgentsList().stream()
        .filter(a -> a.getAgentId().equals("host-b")).findFirst().orElseThrow();
    System.out.printf(Locale.ROOT, "console: live — a stop made through the API shown on the Stop page %d ms after the"
            + " API answered (%d ms after it was asked); host-b's confirmation shown %d ms after the collector recorded it%n",
        stoppedShown - answered, stoppedShown - asked,
        confirmedShown - com.google.protobuf.util.Timestamps.toMillis(b.getAckedAt()));

    // the page's own stop of one agent names just that agent; Escape cancels it
    page.locator("#enable-form select[name=scope]").selectOption("agent");
    page.locator("#enable-form textarea[name=reason]").fill("only host-c");
    page.locator("#enable-form input[name=value]").fill("host-c");
    page.locator("#enable-form input[name=value]").press("Enter");
    Locator dialog = page.locator("#dialog");
    assertThat(dialog).isVisible();
    assertThat(dialog).containsText("This agent will STOP");
    assertThat(dialog.locator("li")).hasCount(1);
    assertThat(dialog.locator("li")).hasText("host-c");
    assertThat(page.locator("#dialog-ok")).hasText("Stop 1 agent");
    page.keyboard().press("Escape");
    assertThat(dialog).isHidden();
    assertThat(page.locator("#orders-table tr[data-order]")).hasCount(1);
    assertThat(fleet.operator().getStopStatus(StopStatusRequest.getDefaultInstance()).getOrdersCount())
        .as("a cancelled confirmation stops nothing").isEqualTo(1);

    // resume host-b's order with the keyboard alone
    page.locator("#orders-table tr[data-order='" + order + "'] button[data-action='resume-order']").focus();
    page.keyboard().press("Enter");
    assertThat(dialog).containsText("Removes 1 order: " + order);
    assertThat(dialog).containsText("1 agent will RUN again");
    assertThat(dialog.locator("li")).hasText("host-b");
    assertThat(page.locator("#dialog textarea[name=reason]")).isFocused();
    page.keyboard().type("host-b checked");
    page.keyboard().press("Tab");
    page.keyboard().press("Tab");
    assertThat(page.locator("#dialog-ok")).isFocused();
    assertThat(page.locator("#dialog-ok")).hasText("Resume 1 agent");
    page.keyboard().press("Enter");
    awaitStopRow(page, "host-b", "RUNNING", "CONFIRMED");
    assertThat(page.locator("#orders-table tr[data-order]")).hasCount(0);
    Eventually.await(WAIT, "host-b's stop file removed", () -> !Files.exists(fleet.stopFile("host-b")));
    Eventually.await(WAIT, "the resume audited with its reason", () -> audit().stream().anyMatch(e ->
        e.getWho().equals("alice") && e.getAction().equals("ResumeStop") && e.getResult().equals("OK")
            && e.getTarget().equals(order)));
  }

  @Test
  @Order(10)
  void incidentsAreFilteredByTheApiAndResolvedWithANote() throws Exception {
    open(page, base + "#/fleet");
    page.keyboard().press("g");
    page.keyboard().press("i");
    assertThat(page.locator("body")).hasAttribute("data-ready", "incidents");
    page.keyboard().press("/");
    assertThat(page.locator("#main input[name=category]")).isFocused();
    page.keyboard().type("EXTERNAL_CALL");
    page.keyboard().press("Enter");
    assertThat(page).hasURL(Pattern.compile("#/incidents\\?category=EXTERNAL_CALL$"));
    assertThat(page.locator("body")).hasAttribute("data-ready", "incidents");
    assertThat(page.locator("#incidents tr[data-incident]")).hasCount(0);
    assertThat(page.locator("#main")).containsText("No incident matches.");

    open(page, base + "#/incidents?category=UNSEEDED_RNG");
    assertThat(page.locator("#incidents tr[data-incident]")).hasCount(2);
    open(page, base + "#/incidents?category=UNSEEDED_RNG&workflow=billing.reconcile");
    Locator row = page.locator("#incidents tr[data-incident]");
    assertThat(row).hasCount(1);
    assertThat(row).hasAttribute("data-incident", incidentId);
    open(page, base + "#/incidents?severity=P3");
    assertThat(page.locator("#incidents tr[data-incident]")).hasCount(0);

    String state = fleet.operator().getIncident(GetIncidentRequest.newBuilder().setId(incidentId).build()).getState().name();
    open(page, base + "#/incidents?state=" + state);
    row = page.locator("#incidents tr[data-incident='" + incidentId + "']");
    row.locator("button[data-action='resolve']").click();
    Locator dialog = page.locator("#dialog");
    assertThat(dialog).containsText("Marks " + incidentId);
    assertThat(dialog).containsText("RESOLVED");
    assertThat(dialog).containsText("Stop orders are not touched");
    page.locator("#dialog textarea[name=note]").fill("rng seeded from the run id since 1.4.2");
    page.locator("#dialog-ok").click();
    assertThat(dialog).isHidden();
    assertThat(page.locator("#incidents tr[data-incident='" + incidentId + "']")).hasCount(0);
    Incident resolved = fleet.operator().getIncident(GetIncidentRequest.newBuilder().setId(incidentId).build());
    assertThat(resolved.getState().name()).isEqualTo("RESOLVED");
    assertThat(resolved.getNotesList()).anySatisfy(n -> assertThat(n.getNote()).isEqualTo("rng seeded from the run id since 1.4.2"));
    open(page, base + "#/incidents?state=RESOLVED");
    assertThat(page.locator("#incidents tr[data-incident='" + incidentId + "']")).hasAttribute("data-state", "RESOLVED");
    assertThat(page.locator("#incidents tr[data-incident='" + incidentId + "'] button[data-action]")).hasCount(0);
  }

  @Test
  @Order(11)
  void runsAreFoundByRunIdWithTheirReplicasHashesAndVerdict() {
    open(page, base + "#/runs");
    page.keyboard().press("/");
    page.keyboard().type(RUN.substring(0, 12));
    page.keyboard().press("Enter");
    assertThat(page).hasURL(Pattern.compile("prefix=" + RUN.substring(0, 12)));
    assertThat(page.locator("body")).hasAttribute("data-ready", "runs");
    Locator rows = page.locator("#runs tr[data-run]");
    assertThat(rows).hasCount(1);
    Locator row = page.locator("#runs tr[data-run='" + RUN + "']");
    assertThat(row).hasAttribute("data-verdict", "MISMATCH");
    assertThat(row).containsText("UNSEEDED_RNG");
    assertThat(row).containsText(incidentId);
    row.locator("button").click();
    Locator detail = page.locator("#runs tr[data-run='" + RUN + "'] + tr.detail");
    assertThat(detail).isVisible();
    Run run = fleet.operator().getRun(GetRunRequest.newBuilder().setRunId(RUN).build());
    assertThat(run.getReplicasCount()).isEqualTo(2);
    for (Replica r : run.getReplicasList()) {
      assertThat(detail).containsText(r.getReport().getCanonicalHash());
      assertThat(detail).containsText(r.getAgentId());
      assertThat(detail).containsText(r.getRole());
    }
    shoot(page, "runs-search");
  }

  @Test
  @Order(12)
  void aPageStillLoadingWhenTheRouteChangesNeverDrawsOverTheNextOne() {
    Page p = alice.newPage();
    try {
      open(p, base + "#/audit");
      // the Fleet page's GetStatus is held until the Stop page has drawn
      List<Route> held = new ArrayList<>();
      p.route("**/api/rpc/GetStatus", held::add);
      p.evaluate("() => { window.__ready = []; new MutationObserver(() => window.__ready.push(document.body.dataset.ready || ''))"
          + ".observe(document.body, {attributes: true, attributeFilter: ['data-ready']});"
          + " const text = Response.prototype.text; Response.prototype.text = function () { return text.call(this).then((t) => {"
          + " if (this.url.endsWith('/api/rpc/GetStatus')) window.__statusRead = true; return t; }); }; }");
      p.evaluate("location.hash = '#/fleet'");
      p.waitForCondition(() -> !held.isEmpty());
      p.evaluate("location.hash = '#/stop'");
      assertThat(p.locator("body")).hasAttribute("data-ready", "stop");
      held.forEach(Route::resume);
      // the held answer read: the Fleet page's render has run to its end (the rest are microtasks)
      p.waitForCondition(() -> Boolean.TRUE.equals(p.evaluate("window.__statusRead === true")));
      assertThat(p.locator("body")).hasAttribute("data-ready", "stop");
      assertThat(p.locator("#main h1")).hasText("Emergency stop");
      assertThat(p.locator("#main #agents")).hasCount(0);
      assertThat(String.valueOf(p.evaluate("window.__ready.filter((r) => r).join(' ')"))).isEqualTo("stop");
    } finally {
      p.close();
    }
  }

  @Test
  @Order(13)
  void aSessionAnswerLostOnTheWayIsRetriedAndARefusalEndsTheLoadingAtOnce() {
    Page p = alice.newPage();
    try {
      // the first answer never arrives (a connection reset on the way), the second is a proxy's 503
      AtomicInteger asked = new AtomicInteger();
      p.route("**/api/session", route -> {
        int n = asked.incrementAndGet();
        if (n == 1) {
          route.abort("connectionreset");
        } else if (n == 2) {
          route.fulfill(new Route.FulfillOptions().setStatus(503).setBody("upstream TLS failed"));
        } else {
          route.resume();
        }
      });
      p.navigate(base + "#/stop");
      assertThat(p.locator("body")).hasAttribute("data-ready", "stop");
      assertThat(asked.get()).as("session requests: one lost, one 503, one answered").isEqualTo(3);
      assertThat(p.locator("#who")).hasText("alice (operator)");
      assertThat(p.locator("#main h1")).hasText("Emergency stop");

      // a refusal is final: the page says why and is done, it does not spin
      p.unrouteAll();
      p.route("**/api/session", route -> route.fulfill(new Route.FulfillOptions().setStatus(401).setBody("{}")));
      p.navigate(base + "#/fleet");
      p.reload();
      assertThat(p.locator("body")).hasAttribute("data-ready", "login");
      assertThat(p.locator("#main h1")).hasText("Not logged in");
      assertThat(p.locator("#main [role=alert]")).containsText("session expired");
    } finally {
      p.close();
    }
  }

  // ---- helpers ---------------------------------------------------------------------------------

  /** Navigates to a console route and waits until its page has rendered with its data. */
  static void open(Page p, String url) {
    p.navigate(url);
    String route = url.substring(url.indexOf("#/") + 2).replaceAll("[/?].*", "");
    try {
      assertThat(p.locator("body")).hasAttribute("data-ready", route);
    } catch (AssertionError e) {
      // say what the browser shows instead (a refusal page, a retry note, an error), not only "null"
      throw new AssertionError(url + " never became ready as " + route + "; the page at " + p.url() + " shows: "
          + p.locator("body").innerText().replaceAll("\\s+", " "), e);
    }
  }

  /** Waits until the agent's Stop row shows {@code mode} and an answer, then checks it is {@code status}. */
  static void awaitStopRow(Page p, String agent, String mode, String status) {
    Locator row = p.locator("#agents-stop tr[data-agent='" + agent + "']");
    assertThat(row).hasAttribute("data-mode", mode);
    assertThat(row).not().hasAttribute("data-status", "PENDING");
    assertThat(row.getAttribute("data-status")).as("%s: %s", agent, row.innerText()).isEqualTo(status);
  }

  /** Records, per agent row of the Stop page, every "MODE STATUS" it shows, in order. */
  static void recordStatuses(Page p) {
    p.evaluate("() => { window.__statuses = {}; const note = () => document.querySelectorAll('#agents-stop tr[data-agent]')"
        + ".forEach((tr) => { const s = tr.dataset.mode + ' ' + tr.dataset.status; const l = (window.__statuses[tr.dataset.agent] ||= []);"
        + " if (l[l.length - 1] !== s) l.push(s); }); note();"
        + " new MutationObserver(note).observe(document.getElementById('main'), {subtree: true, childList: true, attributes: true}); }");
  }

  List<AuditEntry> audit() {
    return fleet.operator().listAudit(ListAuditRequest.newBuilder().setLimit(10_000).build()).getEntriesList();
  }

  static void shoot(Page p, String name) {
    p.screenshot(new Page.ScreenshotOptions().setPath(SHOTS.resolve(name + ".png")).setFullPage(false));
  }

  static String golden(String role, String rng, int pick, String time) {
    return "{\"format\": \"lockstep.golden/v1\", \"run_id\": \"" + RUN + "\", \"workflow\": \"billing.reconcile\","
        + " \"role\": \"" + role + "\", \"seed\": 1234567, \"timestamp\": \"2025-12-02T" + time + "Z\","
        + " \"duration_ms\": " + (1500 + pick) + ", \"steps\": ["
        + "{\"index\": 0, \"name\": \"load_accounts\", \"kind\": \"compute\", \"output\": {\"n\": 3}},"
        + "{\"index\": 1, \"name\": \"sample\", \"kind\": \"compute\", \"rng\": " + rng + ", \"output\": {\"pick\": " + pick + "}},"
        + "{\"index\": 2, \"name\": \"post\", \"kind\": \"compute\", \"output\": {\"total\": 42}}"
        + "], \"output\": {\"total\": 42}}";
  }

  /**
   * About 10 MB: 2,500 steps of a bulk export, 4 KB each. The shadow started every step at another
   * time (a volatile field: 2,500 differences of noise) and drew another random number in step 1700.
   */
  static byte[] bigGolden(String role, boolean shadow) {
    StringBuilder sb = new StringBuilder(11_000_000);
    sb.append("{\"format\":\"lockstep.golden/v1\",\"run_id\":\"").append(BIG_RUN)
        .append("\",\"workflow\":\"bulk.export\",\"role\":\"").append(role).append("\",\"seed\":77,")
        .append("\"timestamp\":\"2025-12-02T11:00:0").append(shadow ? 9 : 0).append("Z\",\"steps\":[");
    for (int i = 0; i < STEPS; i++) {
      if (i > 0) {
        sb.append(',');
      }
      sb.append("{\"index\":").append(i).append(",\"name\":\"export-").append(i)
          .append("\",\"kind\":\"compute\",\"started_at\":\"2025-12-02T11:").append(shadow ? "05" : "00")
          .append(":00.").append(i).append("Z\",\"rng\":[").append(i == DIVERGENT && shadow ? "0.5" : "0.25")
          .append("],\"output\":{\"rows\":[");
      for (int k = 0; k < 45; k++) {
        sb.append(k == 0 ? "" : ",").append("{\"id\":").append(i * 10 + k).append(",\"amount\":").append(i * 7 % 1000)
            .append('.').append(k).append(",\"currency\":\"EUR\",\"memo\":\"ledger line ").append(i).append('/').append(k)
            .append(" settled\"}");
      }
      sb.append("]}}");
    }
    sb.append("],\"output\":{\"exported\":").append(STEPS).append("}}");
    return sb.toString().getBytes(StandardCharsets.UTF_8);
  }

  static String loadAverage() {
    try {
      String[] f = Files.readString(Path.of("/proc/loadavg")).split(" ");
      return f[0] + " " + f[1] + " " + f[2] + " (" + Runtime.getRuntime().availableProcessors() + " cores)";
    } catch (IOException e) {
      return "unknown";
    }
  }

  static String sha256(byte[] data) throws Exception {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
  }

  /** The entries of a .tgz (ustar, pax path headers), by name. */
  static Map<String, byte[]> untar(Path tgz) throws IOException {
    Map<String, byte[]> out = new LinkedHashMap<>();
    try (InputStream in = new GZIPInputStream(Files.newInputStream(tgz))) {
      String paxPath = null;
      while (true) {
        byte[] h = in.readNBytes(512);
        if (h.length < 512 || h[0] == 0) {
          return out;
        }
        String name = new String(h, 0, 100, StandardCharsets.UTF_8).replace("\0", "");
        long size = Long.parseLong(new String(h, 124, 11, StandardCharsets.US_ASCII).trim(), 8);
        byte[] data = in.readNBytes((int) size);
        in.readNBytes((int) ((512 - size % 512) % 512));
        if (h[156] == 'x') {
          for (String rec : new String(data, StandardCharsets.UTF_8).split("\n")) {
            int eq = rec.indexOf("path=");
            if (eq >= 0) {
              paxPath = rec.substring(eq + 5);
            }
          }
          continue;
        }
        out.put(paxPath != null ? paxPath : name, data);
        paxPath = null;
      }
    }
  }
}
