package dev.lockstep.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WebhookSignerTest {
  @TempDir
  Path dir;

  Path secretFile(String content) throws Exception {
    Path file = dir.resolve("webhook.secret");
    Files.writeString(file, content);
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
    return file;
  }

  @Test
  void signsWithHmacSha256AsInRfc4231() {
    WebhookSigner signer = WebhookSigner.ofSecret("Jefe");
    assertThat(signer.sign("what do ya want for nothing?".getBytes(StandardCharsets.US_ASCII)))
        .isEqualTo("sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    assertThat(WebhookSigner.HEADER).isEqualTo("X-Lockstep-Signature");
  }

  @Test
  void aSignatureVerifiesForItsBodyAndNoOtherAcrossRandomBodies() {
    WebhookSigner signer = WebhookSigner.ofSecret("s3cret");
    WebhookSigner otherSecret = WebhookSigner.ofSecret("s3creT");
    Random random = new Random(7);
    for (int i = 0; i < 300; i++) {
      byte[] body = new byte[random.nextInt(2048)];
      random.nextBytes(body);
      String signature = signer.sign(body);

      assertThat(signer.verify(body, signature)).isTrue();
      assertThat(otherSecret.verify(body, signature)).isFalse();
      if (body.length > 0) {
        byte[] tampered = body.clone();
        tampered[random.nextInt(body.length)] ^= (byte) (1 << random.nextInt(8));
        assertThat(signer.verify(tampered, signature)).as("flipped bit in body %d", i).isFalse();
      }
      byte[] extended = java.util.Arrays.copyOf(body, body.length + 1);
      assertThat(signer.verify(extended, signature)).isFalse();
    }
  }

  @Test
  void malformedSignaturesAreRejectedNotThrown() {
    WebhookSigner signer = WebhookSigner.ofSecret("k");
    byte[] body = "{}".getBytes(StandardCharsets.UTF_8);
    String good = signer.sign(body);

    assertThat(signer.verify(body, null)).isFalse();
    assertThat(signer.verify(body, "")).isFalse();
    assertThat(signer.verify(body, good.substring(7))).as("no prefix").isFalse();
    assertThat(signer.verify(body, "sha1=" + good.substring(7))).isFalse();
    assertThat(signer.verify(body, "sha256=zz")).isFalse();
    assertThat(signer.verify(body, good.substring(0, good.length() - 2))).as("truncated").isFalse();
    assertThat(signer.verify(body, "SHA256=" + good.substring(7).toUpperCase())).as("case-insensitive hex").isTrue();
  }

  @Test
  void theSecretFileIsTrimmed() throws Exception {
    WebhookSigner fromFile = WebhookSigner.fromSecretFile(secretFile("  abc123\n"));
    assertThat(fromFile.sign(new byte[] {1, 2})).isEqualTo(WebhookSigner.ofSecret("abc123").sign(new byte[] {1, 2}));
  }

  @Test
  void anEmptySecretFileIsRefused() throws Exception {
    Path file = secretFile(" \n");
    assertThatThrownBy(() -> WebhookSigner.fromSecretFile(file))
        .isInstanceOf(SecuritySetupException.class)
        .hasMessageStartingWith("webhook secret file " + file + ": is empty");
  }

  @Test
  void aWorldReadableSecretFileIsRefused() throws Exception {
    Path file = secretFile("abc");
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
    assertThatThrownBy(() -> WebhookSigner.fromSecretFile(file))
        .isInstanceOf(SecuritySetupException.class)
        .hasMessage("webhook secret file " + file + ": is readable by everyone (mode rw-r--r--);"
            + " run chmod 600 " + file);
  }

  @Test
  void aMissingSecretFileIsNamed() {
    Path file = dir.resolve("absent");
    assertThatThrownBy(() -> WebhookSigner.fromSecretFile(file))
        .isInstanceOf(SecuritySetupException.class)
        .hasMessage("webhook secret file " + file + ": no such file");
  }

  @Test
  void aGeneratedSecretFileIsPrivateAndUsable() throws Exception {
    Path file = dir.resolve("generated.secret");
    WebhookSigner.writeNewSecretFile(file);

    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");
    assertThat(Files.readString(file).strip()).matches("[0-9a-f]{64}");
    WebhookSigner signer = WebhookSigner.fromSecretFile(file);
    assertThat(signer.verify(new byte[] {9}, signer.sign(new byte[] {9}))).isTrue();
  }
}
