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

  // ---- v2: classification by content ---------------------------------------------------------

  /** Steps 0..4; step 0 has an engine hash, step 3 is an external call. */
  static String fiveSteps(String role, String step0Hash, String step3Response, String extraSteps) {
    return """
        {"run_id": "r9", "workflow": "w", "role": "%s", "seed": 7,
         "steps": [
           {"index": 0, "name": "load", "kind": "compute", "output": {"n": 1}, "hash": "%s"},
           {"index": 1, "name": "plan", "kind": "compute", "output": {"n": 2}},
           {"index": 2, "name": "draw", "kind": "compute", "rng": [0.5], "output": {"n": 3}},
           {"index": 3, "name": "call", "kind": "external", "response": %s, "output": {"n": 4}},
           {"index": 4, "name": "sum", "kind": "compute", "output": {"n": 5}}%s
         ]}""".formatted(role, step0Hash, step3Response, extraSteps);
  }

  @Test
  void aVolatileLeakAtStep0DoesNotHideAnExternalCallAtStep3() throws Exception {
    // the case: step 0 differs only by its engine hash (a timestamp inside the engine's
    // hash), step 3 has a real external-call divergence
    Classification c = Classifier.classify(
        summary(fiveSteps("primary", "sha256:t1", "{\"eur\": 1.08}", "")),
        summary(fiveSteps("shadow", "sha256:t2", "{\"eur\": 1.09}", "")));
    assertThat(c.category()).isEqualTo(Category.EXTERNAL_CALL);
    assertThat(c.firstDivergentStep()).isEqualTo(new StepRef(3, "call"));
    assertThat(c.findings()).hasSize(1);
    Finding f = c.findings().get(0);
    assertThat(f.category()).isEqualTo(Category.VOLATILE_LEAK);
    assertThat(f.steps()).containsExactly(new StepRef(0, "load"));
    assertThat(c.explanation()).contains("step 3 'call'").contains("also VOLATILE_LEAK").contains("step 0 'load'");
  }

  @Test
  void anEngineHashDifferenceIsNeverTheFirstDivergence() throws Exception {
    Classification c = Classifier.classify(
        summary(fiveSteps("primary", "sha256:t1", "{}", "")),
        summary(fiveSteps("shadow", "sha256:t2", "{}", "").replace("\"n\": 5", "\"n\": 6")));
    assertThat(c.category()).isEqualTo(Category.DETERMINISM_VIOLATION);
    assertThat(c.firstDivergentStep()).isEqualTo(new StepRef(4, "sum"));
    assertThat(c.findings()).extracting(Finding::category).containsExactly(Category.VOLATILE_LEAK);
  }

  @Test
  void aVolatileLeakIsTheCategoryOnlyWhenNothingElseDiffers() throws Exception {
    Classification c = Classifier.classify(
        summary(fiveSteps("primary", "sha256:t1", "{}", "")),
        summary(fiveSteps("shadow", "sha256:t2", "{}", "")));
    assertThat(c.category()).isEqualTo(Category.VOLATILE_LEAK);
    assertThat(c.firstDivergentStep()).isEqualTo(new StepRef(0, "load"));
    assertThat(c.findings()).isEmpty();
  }

  @Test
  void stepsArePairedByIndexSoAnInsertedStepDoesNotShiftTheRest() throws Exception {
    String a = fiveSteps("primary", "h", "{}", "");
    // B has an extra step with index 7 written first in the array: every other step still pairs
    String b = a.replace("\"steps\": [", "\"steps\": [\n {\"index\": 7, \"name\": \"late\", \"output\": 1},");
    Classification c = Classifier.classify(summary(a), summary(b));
    assertThat(c.category()).isEqualTo(Category.DETERMINISM_VIOLATION);
    assertThat(c.firstDivergentStep()).isEqualTo(new StepRef(7, "late"));
    assertThat(c.explanation()).contains("step 7 'late' is missing in primary");
  }

  @Test
  void aRemovedStepDivergesAtItsIndexEvenWhenLaterStepsFollow() throws Exception {
    String a = fiveSteps("primary", "h", "{}", "");
    String b = a.replace("{\"index\": 1, \"name\": \"plan\", \"kind\": \"compute\", \"output\": {\"n\": 2}},", "");
    Classification c = Classifier.classify(summary(a), summary(b.replace("primary", "shadow")));
    assertThat(c.firstDivergentStep()).isEqualTo(new StepRef(1, "plan"));
    assertThat(c.explanation()).contains("missing in shadow");
  }

  @Test
  void stepsInAnotherOrderDifferOutsideTheStepContents() throws Exception {
    String a = fiveSteps("primary", "h", "{}", "");
    String step4 = "{\"index\": 4, \"name\": \"sum\", \"kind\": \"compute\", \"output\": {\"n\": 5}}";
    String b = a.replace(",\n   " + step4, "").replace("\"steps\": [", "\"steps\": [\n " + step4 + ",");
    assertThat(b).isNotEqualTo(a);
    Classification c = Classifier.classify(summary(a), summary(b));
    assertThat(c.category()).isEqualTo(Category.DETERMINISM_VIOLATION);
    assertThat(c.firstDivergentStep()).isNull();
    assertThat(c.explanation()).contains("order of the steps");
  }

  @Test
  void u64SeedsAreComparedExactly() throws Exception {
    String a = replica("primary", 1, T1, OUT, RNG, RESP).replace("\"seed\": 1,", "\"seed\": 18446744073709551615,");
    String b = replica("shadow", 1, T1, OUT, RNG, RESP).replace("\"seed\": 1,", "\"seed\": 18446744073709551614,");
    RunSummary sa = summary(a);
    assertThat(sa.seedText()).isEqualTo("18446744073709551615");
    Classification c = Classifier.classify(sa, summary(b));
    assertThat(c.category()).isEqualTo(Category.SEED_MISMATCH);
    assertThat(c.explanation()).contains("18446744073709551615").contains("18446744073709551614");
  }
}
