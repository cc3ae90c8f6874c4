package dev.lockstep.cli.console;

import static org.assertj.core.api.Assertions.assertThat;

import com.microsoft.playwright.Browser;
import com.microsoft.playwright.BrowserContext;
import com.microsoft.playwright.BrowserType;
import com.microsoft.playwright.Playwright;
import com.microsoft.playwright.options.ClientCertificate;
import com.microsoft.playwright.options.ColorScheme;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Debian's chromium driven by Playwright: one browser per test class, a fresh context (its own
 * cookies, its own client certificate) per person. The browser is never downloaded
 * (PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD); .ci/run installs the Debian package, and a missing one fails
 * the test rather than skipping it. Playwright's launch gives the browser a fresh, empty
 * user-data-dir of its own.
 */
final class Chromium implements AutoCloseable {
  static final Path EXECUTABLE = Path.of("/usr/bin/chromium");
  static final List<String> ARGS = List.of("--headless", "--no-sandbox", "--disable-gpu",
      "--disable-background-networking", "--disable-component-update", "--no-first-run");

  final Playwright playwright;
  final Browser browser;

  private Chromium(Playwright playwright, Browser browser) {
    this.playwright = playwright;
    this.browser = browser;
  }

  static Chromium launch() {
    assertThat(Files.isExecutable(EXECUTABLE))
        .as("the console's browser tests need Debian's chromium at %s (apt-get install chromium; .ci/run installs it)",
            EXECUTABLE)
        .isTrue();
    Playwright playwright = Playwright.create(new Playwright.CreateOptions()
        .setEnv(Map.of("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")));
    try {
      Browser browser = playwright.chromium().launch(new BrowserType.LaunchOptions()
          .setExecutablePath(EXECUTABLE).setHeadless(true).setArgs(ARGS));
      return new Chromium(playwright, browser);
    } catch (RuntimeException e) {
      playwright.close();
      throw e;
    }
  }

  /** A fresh browser profile in the given colour scheme (downloads allowed). */
  BrowserContext context(ColorScheme scheme) {
    return browser.newContext(options(scheme));
  }

  /** A fresh profile that presents {@code cert}/{@code key} to {@code origin} (https://host:port). */
  BrowserContext contextWithCertificate(String origin, Path cert, Path key) {
    return browser.newContext(options(ColorScheme.LIGHT).setIgnoreHTTPSErrors(true)
        .setClientCertificates(List.of(new ClientCertificate(origin).setCertPath(cert).setKeyPath(key))));
  }

  static Browser.NewContextOptions options(ColorScheme scheme) {
    return new Browser.NewContextOptions().setViewportSize(1440, 900).setAcceptDownloads(true)
        .setColorScheme(scheme).setIgnoreHTTPSErrors(true);
  }

  @Override
  public void close() {
    try {
      browser.close();
    } finally {
      playwright.close();
    }
  }
}
