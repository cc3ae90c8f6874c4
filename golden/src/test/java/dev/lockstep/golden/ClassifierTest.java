package dev.lockstep.golden;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ClassifierTest {
  static final String T1 = "2025-12-02T10:00:00Z";
  static final String T2 = "2025-12-02T10:00:07Z";

  static RunSummary summary(String json) throws GoldenParseException {
    return Samples.parse(json).summary();
  }

  static String replica(String role, long seed, String ts, String out, String rng, String resp) {
    return Samples.golden(role, seed, ts, out, rng, resp);
  }

  static final String OUT = "{\"pick\": 7}";
  static final String RNG = "[0.12, 0.98]";
  static final String RESP = "{\"eur\": 1.08}";

  @Test
  void replicasDifferingOnlyInVolatileFieldsMatch() throws Exception {
    Classification c = Classifier.classify(
        summary(replica("primary", 1, T1, OUT, RNG, RESP)),
        summary(replica("shadow", 1, T2, OUT, RNG, RESP)));
    assertThat(c.match()).isTrue();
    assertThat(c.category()).isNull();
    assertThat(c.firstDivergentStep()).isNull();
  }

  @Test
  void differentSeedsAreSeedMismatchFirst() throws Exception {
    Classification c = Classifier.classify(
        summary(replica("primary", 1234, T1, OUT, RNG, RESP)),
        summary(replica("shadow", 999, T1, "{\"pick\": 8}", "[0.5]", RESP)));
    assertThat(c.category()).isEqualTo(Category.SEED_MISMATCH);
    assertThat(c.explanation()).contains("1234").contains("999").contains("primary").contains("shadow");
  }

  @Test
  void engineHashOverAVolatileFieldIsAVolatileLeak() throws Exception {
    String a = replica("primary", 1, T1, OUT, RNG, RESP).replace("\"output\": {\"total\": 42}",
        "\"output\": {\"total\": 42}, \"hash\": \"sha256:aaa\"");
    String b = replica("shadow", 1, T2, OUT, RNG, RESP).replace("\"output\": {\"total\": 42}",
        "\"output\": {\"total\": 42}, \"hash\": \"sha256:bbb\"");
    Classification c = Classifier.classify(summary(a), summary(b));
    assertThat(c.match()).isFalse();
    assertThat(c.category()).isEqualTo(Category.VOLATILE_LEAK);
    assertThat(c.explanation()).contains("run hash");
  }

  @Test
  void stepEngineHashDifferenceAloneIsAVolatileLeakAtThatStep() throws Exception {
    String a = replica("primary", 1, T1, OUT, RNG, RESP).replace("\"output\": {\"n\": 3}}",
        "\"output\": {\"n\": 3}, \"hash\": \"h1\"}");
    String b = replica("shadow", 1, T1, OUT, RNG, RESP).replace("\"output\": {\"n\": 3}}",
        "\"output\": {\"n\": 3}, \"hash\": \"h2\"}");
    Classification c = Classifier.classify(summary(a), summary(b));
    assertThat(c.category()).isEqualTo(Category.VOLATILE_LEAK);
    assertThat(c.firstDivergentStep()).isEqualTo(new StepRef(0, "load_accounts"));
  }

  @Test
  void differingResponseOfAnExternalStepIsAnExternalCall() throws Exception {
    Classification c = Classifier.classify(
        summary(replica("primary", 1, T1, OUT, RNG, RESP)),
        summary(replica("shadow", 1, T1, "{\"pick\": 9}", "[0.5, 0.1]", "{\"eur\": 1.09}")));
    assertThat(c.category()).isEqualTo(Category.EXTERNAL_CALL);
    assertThat(c.firstDivergentStep()).isEqualTo(new StepRef(1, "fetch_rates"));
    assertThat(c.explanation()).contains("step 1 'fetch_rates'");
  }

  @Test
  void differingRngValuesAreUnseededRng() throws Exception {
    Classification c = Classifier.classify(
        summary(replica("primary", 1, T1, OUT, RNG, RESP)),
        summary(replica("shadow", 1, T1, "{\"pick\": 9}", "[0.55, 0.98]", RESP)));
    assertThat(c.category()).isEqualTo(Category.UNSEEDED_RNG);
    assertThat(c.firstDivergentStep()).isEqualTo(new StepRef(2, "sample"));
  }

  @Test
  void anyOtherDivergenceIsADeterminismViolation() throws Exception {
    Classification c = Classifier.classify(
        summary(replica("primary", 1, T1, OUT, RNG, RESP)),
        summary(replica("shadow", 1, T1, "{\"pick\": 9}", RNG, RESP)));
    assertThat(c.category()).isEqualTo(Category.DETERMINISM_VIOLATION);
    assertThat(c.firstDivergentStep()).isEqualTo(new StepRef(2, "sample"));
  }

  @Test
  void externalStepWithEqualResponseButDifferentOutputIsNotAnExternalCall() throws Exception {
    String a = replica("primary", 1, T1, OUT, RNG, RESP);
    String b = a.replace("\"request\": {\"url\": \"https://rates\"}", "\"request\": {\"url\": \"https://other\"}");
    Classification c = Classifier.classify(summary(a), summary(b));
    assertThat(c.category()).isEqualTo(Category.DETERMINISM_VIOLATION);
    assertThat(c.firstDivergentStep()).isEqualTo(new StepRef(1, "fetch_rates"));
  }

  @Test
  void missingStepDivergesAtItsIndex() throws Exception {
    String a = replica("primary", 1, T1, OUT, RNG, RESP);
    String b = a.replace(",\n    {\"index\": 2, \"name\": \"sample\", \"kind\": \"compute\", \"rng\": [0.12, 0.98], \"output\": {\"pick\": 7}}", "");
    assertThat(b).isNotEqualTo(a);
    Classification c = Classifier.classify(summary(a), summary(b));
    assertThat(c.category()).isEqualTo(Category.DETERMINISM_VIOLATION);
    assertThat(c.firstDivergentStep()).isEqualTo(new StepRef(2, "sample"));
    assertThat(c.explanation()).contains("missing");
  }

  @Test
  void differenceOutsideStepsHasNoFirstDivergentStep() throws Exception {
    String a = replica("primary", 1, T1, OUT, RNG, RESP);
    String b = a.replace("\"total\": 42", "\"total\": 43");
    Classification c = Classifier.classify(summary(a), summary(b));
    assertThat(c.category()).isEqualTo(Category.DETERMINISM_VIOLATION);
    assertThat(c.firstDivergentStep()).isNull();
    assertThat(c.explanation()).contains("output");
  }

  @Test
  void seedCheckComesBeforeEverythingElse() throws Exception {
    String a = replica("primary", 1, T1, OUT, RNG, RESP);
    String b = replica("shadow", 2, T1, OUT, RNG, RESP);
    assertThat(Classifier.classify(summary(a), summary(b)).category()).isEqualTo(Category.SEED_MISMATCH);
  }
}
