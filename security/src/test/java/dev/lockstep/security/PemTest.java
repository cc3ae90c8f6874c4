package dev.lockstep.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.File;
import java.io.StringWriter;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.RSAPrivateCrtKey;
import java.security.spec.ECGenParameterSpec;
import java.util.ArrayList;
import java.util.List;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.junit.jupiter.api.Test;

/**
 * Pem reads the key formats Lockstep accepts with JDK APIs only: the agent runs without
 * BouncyCastle on its class path (agent/pom.xml), so its mTLS key and certificates must be read
 * without it. The reads run in a class loader that cannot see org.bouncycastle.
 */
class PemTest {
  private static final Path FILE = Path.of("key.pem");

  /** Pem loaded by a class loader over the test class path without BouncyCastle's jars. */
  private static Class<?> pemWithoutBouncyCastle() throws Exception {
    String cp = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
    List<URL> urls = new ArrayList<>();
    for (String entry : cp.split(File.pathSeparator)) {
      if (!entry.isEmpty() && !entry.contains("bouncycastle") && !entry.matches(".*/bc[a-z]+-jdk\\w+-[^/]*\\.jar")) {
        urls.add(Path.of(entry).toUri().toURL());
      }
    }
    ClassLoader loader = new URLClassLoader(urls.toArray(new URL[0]), ClassLoader.getPlatformClassLoader());
    assertThatThrownBy(() -> loader.loadClass("org.bouncycastle.openssl.PEMParser"))
        .isInstanceOf(ClassNotFoundException.class);
    return loader.loadClass(Pem.class.getName());
  }

  private static PrivateKey readWithoutBouncyCastle(String pem) throws Throwable {
    Method read = pemWithoutBouncyCastle().getDeclaredMethod("privateKey", byte[].class, Path.class);
    read.setAccessible(true);
    try {
      return (PrivateKey) read.invoke(null, pem.getBytes(StandardCharsets.US_ASCII), FILE);
    } catch (InvocationTargetException e) {
      throw e.getCause();
    }
  }

  /** The legacy OpenSSL form BouncyCastle writes for a bare key: "RSA/EC PRIVATE KEY". */
  private static String legacyPem(PrivateKey key) throws Exception {
    StringWriter out = new StringWriter();
    try (JcaPEMWriter writer = new JcaPEMWriter(out)) {
      writer.writeObject(key);
    }
    return out.toString();
  }

  private static KeyPair pair(String algorithm, Object parameter) throws Exception {
    KeyPairGenerator g = KeyPairGenerator.getInstance(algorithm);
    if (parameter instanceof Integer bits) {
      g.initialize(bits);
    } else if (parameter instanceof String curve) {
      g.initialize(new ECGenParameterSpec(curve));
    }
    return g.generateKeyPair();
  }

  /** A SecuritySetupException of either class loader. */
  private static void isSetupException(Throwable e) {
    assertThat(e.getClass().getName()).isEqualTo(SecuritySetupException.class.getName());
  }

  @Test
  void readsPkcs8KeysOfEachAlgorithmWithoutBouncyCastle() throws Throwable {
    for (KeyPair pair : List.of(pair("RSA", 2048), pair("EC", "secp256r1"), pair("EC", "secp384r1"),
        pair("Ed25519", null))) {
      PrivateKey read = readWithoutBouncyCastle(Pem.encode(pair.getPrivate()));
      assertThat(read.getAlgorithm()).isIn(pair.getPrivate().getAlgorithm(), "EdDSA");
      assertThat(read.getEncoded()).isEqualTo(pair.getPrivate().getEncoded());
    }
  }

  @Test
  void readsPkcs1RsaAndSec1EcKeysWithoutBouncyCastle() throws Throwable {
    KeyPair rsa = pair("RSA", 2048);
    String pkcs1 = legacyPem(rsa.getPrivate());
    assertThat(pkcs1).startsWith("-----BEGIN RSA PRIVATE KEY-----");
    RSAPrivateCrtKey rsaRead = (RSAPrivateCrtKey) readWithoutBouncyCastle(pkcs1);
    assertThat(rsaRead.getPrivateExponent()).isEqualTo(((RSAPrivateCrtKey) rsa.getPrivate()).getPrivateExponent());
    assertThat(rsaRead.getModulus()).isEqualTo(((RSAPrivateCrtKey) rsa.getPrivate()).getModulus());

    // SEC1 as OpenSSL writes it: the named curve in [0] (BouncyCastle's writer leaves it out for
    // a JDK key, so the test builds it)
    KeyPair ec = pair("EC", "secp384r1");
    byte[] der = new org.bouncycastle.asn1.sec.ECPrivateKey(384, ((ECPrivateKey) ec.getPrivate()).getS(), null,
        new org.bouncycastle.asn1.ASN1ObjectIdentifier("1.3.132.0.34")).getEncoded();
    String sec1 = "-----BEGIN EC PRIVATE KEY-----\n" + java.util.Base64.getMimeEncoder().encodeToString(der)
        + "\n-----END EC PRIVATE KEY-----\n";
    ECPrivateKey ecRead = (ECPrivateKey) readWithoutBouncyCastle(
        "-----BEGIN EC PARAMETERS-----\nBgUrgQQAIg==\n-----END EC PARAMETERS-----\n" + sec1);
    assertThat(ecRead.getS()).isEqualTo(((ECPrivateKey) ec.getPrivate()).getS());
    assertThat(ecRead.getParams().getCurve()).isEqualTo(((ECPrivateKey) ec.getPrivate()).getParams().getCurve());
  }

  @Test
  void refusesEncryptedAndMissingKeysByName() {
    assertThatThrownBy(() -> readWithoutBouncyCastle(
        "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMAA=\n-----END ENCRYPTED PRIVATE KEY-----\n"))
        .satisfies(PemTest::isSetupException).hasMessageContaining("is encrypted");
    assertThatThrownBy(() -> readWithoutBouncyCastle("-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n"
        + "DEK-Info: AES-128-CBC,00000000000000000000000000000000\n\nMAA=\n-----END RSA PRIVATE KEY-----\n"))
        .satisfies(PemTest::isSetupException).hasMessageContaining("is encrypted");
    assertThatThrownBy(() -> readWithoutBouncyCastle("not a key"))
        .satisfies(PemTest::isSetupException).hasMessageContaining("holds no \"BEGIN PRIVATE KEY\" block");
    assertThatThrownBy(() -> readWithoutBouncyCastle("-----BEGIN PRIVATE KEY-----\nMAMCAQA=\n-----END PRIVATE KEY-----\n"))
        .satisfies(PemTest::isSetupException).hasMessageContaining("not a valid PEM private key");
  }

  @Test
  void encodesCertificatesAndKeysAsBouncyCastleDid() throws Exception {
    KeyPair ec = pair("EC", "secp256r1");
    StringWriter bc = new StringWriter();
    try (JcaPEMWriter writer = new JcaPEMWriter(bc)) {
      writer.writeObject(new org.bouncycastle.openssl.jcajce.JcaPKCS8Generator(ec.getPrivate(), null));
    }
    assertThat(Pem.encode(ec.getPrivate())).isEqualTo(bc.toString());
    assertThat(Pem.blocks(Pem.encode(ec.getPrivate()) + Pem.encode(pair("RSA", 2048).getPrivate())))
        .extracting(Pem.Block::type).containsExactly("PRIVATE KEY", "PRIVATE KEY");
  }
}
