package dev.lockstep.dist;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.lockstep.agent.config.AgentConfig;
import dev.lockstep.collector.config.CollectorConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * deploy/kubernetes/ against the Kubernetes 1.33 OpenAPI schemas (and cert-manager's Issuer CRD),
 * offline and strict, and against each other and the real config loaders.
 */
class KubernetesManifestsTest {
  static final Path DIR = Path.of("..", "deploy", "kubernetes").toAbsolutePath().normalize();
  static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
  static OpenApiSchemas schemas;
  static final List<JsonNode> objects = new ArrayList<>();

  @BeforeAll
  static void load() throws Exception {
    schemas = OpenApiSchemas.load("kubernetes-openapi-1.33",
        List.of("api__v1.json", "apis__apps__v1.json", "apis__scheduling.k8s.io__v1.json"),
        List.of("cert-manager.io__v1__Issuer.json"));
    try (var files = Files.list(DIR)) {
      for (Path f : (Iterable<Path>) files.filter(p -> p.toString().endsWith(".yaml")).sorted()::iterator) {
        try (var parser = YAML.getFactory().createParser(f.toFile())) {
          var it = YAML.readValues(parser, JsonNode.class);
          while (it.hasNext()) {
            JsonNode doc = it.next();
            if (doc != null && !doc.isNull() && !doc.isMissingNode()) {
              ((ObjectNode) doc).put("__file", f.getFileName().toString());
              objects.add(doc);
            }
          }
        }
      }
    }
  }

  static JsonNode the(String kind, String name) {
    return objects.stream().filter(o -> o.path("kind").asText().equals(kind)
        && o.path("metadata").path("name").asText().equals(name)).findFirst()
        .orElseThrow(() -> new AssertionError("no " + kind + " " + name + " in deploy/kubernetes"));
  }

  static JsonNode container(JsonNode workload) {
    return workload.path("spec").path("template").path("spec").path("containers").get(0);
  }

  @Test
  void everyObjectIsValidAgainstItsSchema() {
    assertThat(objects).extracting(o -> o.path("kind").asText())
        .contains("Namespace", "PriorityClass", "Issuer", "ConfigMap", "Service", "StatefulSet", "DaemonSet");
    Map<String, List<String>> errors = new TreeMap<>();
    for (JsonNode o : objects) {
      ObjectNode copy = o.deepCopy();
      String file = copy.remove("__file").asText();
      List<String> e = schemas.validate(copy);
      if (!e.isEmpty()) {
        errors.put(file + " " + o.path("kind").asText() + "/" + o.path("metadata").path("name").asText(), e);
      }
    }
    assertThat(errors).isEmpty();
  }

  @Test
  void theValidatorCatchesTyposWrongTypesAndMissingFields() throws Exception {
    JsonNode bad = YAML.readTree("""
        apiVersion: apps/v1
        kind: DaemonSet
        metadata: {name: x}
        spec:
          selector: {matchLabels: {a: b}}
          template:
            spec:
              priorityClass: lockstep-agent
              containers:
                - name: agent
                  ports: [{containerPort: "9465"}]
                  securityContext: {readOnlyRootFileSystem: true}
        """);
    assertThat(schemas.validate(bad)).containsExactlyInAnyOrder(
        "DaemonSet.spec.template.spec.priorityClass: unknown field",
        "DaemonSet.spec.template.spec.containers[0].ports[0].containerPort: must be an integer, got STRING \"9465\"",
        "DaemonSet.spec.template.spec.containers[0].securityContext.readOnlyRootFileSystem: unknown field");
    JsonNode noPort = YAML.readTree("{apiVersion: v1, kind: Service, metadata: {name: s}, spec: {ports: [{name: a}]}}");
    assertThat(schemas.validate(noPort)).containsExactly("Service.spec.ports[0]: required field port is missing");
    assertThat(schemas.validate(YAML.readTree("{apiVersion: v9, kind: Thing}")))
        .containsExactly("no schema for apiVersion v9, kind Thing");
  }

  @Test
  void theConfigMapsHoldConfigsTheRealLoadersAcceptWithPortsAndNamesThatAgree(@TempDir Path tmp) throws Exception {
    Map<String, String> configs = new TreeMap<>();
    objects.stream().filter(o -> o.path("kind").asText().equals("ConfigMap"))
        .forEach(cm -> cm.path("data").fields().forEachRemaining(e -> configs.put(e.getKey(), e.getValue().asText())));
    AgentConfig agent = AgentConfig.load(Files.writeString(tmp.resolve("agent.yaml"), configs.get("agent.yaml")),
        Map.of("LOCKSTEP_AGENT_ID", "lockstep-agent-x7k2p", "LOCKSTEP_NODE_NAME", "node-1"));
    CollectorConfig collector = CollectorConfig.load(
        Files.writeString(tmp.resolve("collector.yaml"), configs.get("collector.yaml")), Map.of());

    JsonNode service = the("Service", "lockstep-collector");
    JsonNode statefulSet = the("StatefulSet", "lockstep-collector");
    JsonNode daemonSet = the("DaemonSet", "lockstep-agent");
    int grpc = port(service, "grpc");
    assertThat(agent.collector().target()).isEqualTo("lockstep-collector.lockstep.svc:" + grpc);
    assertThat(collector.listenPort()).isEqualTo(grpc).isEqualTo(containerPort(statefulSet, "grpc"));
    assertThat(collector.listenHost()).isEqualTo("0.0.0.0");
    assertThat(collector.metricsPort()).isEqualTo(port(service, "metrics"))
        .isEqualTo(containerPort(statefulSet, "metrics"))
        .isEqualTo(statefulSet.path("spec").path("template").path("metadata").path("annotations")
            .path("prometheus.io/port").asInt());
    assertThat(agent.metrics().port()).isEqualTo(containerPort(daemonSet, "metrics"))
        .isEqualTo(daemonSet.path("spec").path("template").path("metadata").path("annotations")
            .path("prometheus.io/port").asInt());
    assertThat(agent.metrics().bind()).isEqualTo("0.0.0.0");
    assertThat(agent.labels()).containsEntry("node", "node-1");

    // Certificates: the collector's names cover what agents dial; the agent's CN is its id.
    String host = agent.collector().target().substring(0, agent.collector().target().lastIndexOf(':'));
    assertThat(csi(statefulSet).path("csi.cert-manager.io/dns-names").asText().split(",")).contains(host,
        "lockstep-collector", "lockstep-collector.lockstep", "lockstep-collector.lockstep.svc.cluster.local");
    assertThat(csi(statefulSet).path("csi.cert-manager.io/organizationalunits").asText()).isEqualTo("collector");
    assertThat(csi(daemonSet).path("csi.cert-manager.io/common-name").asText()).isEqualTo("${POD_NAME}");
    assertThat(csi(daemonSet).path("csi.cert-manager.io/organizationalunits").asText()).isEqualTo("agent");
    assertThat(env(daemonSet, "LOCKSTEP_AGENT_ID").path("valueFrom").path("fieldRef").path("fieldPath").asText())
        .isEqualTo("metadata.name");
    for (JsonNode workload : List.of(statefulSet, daemonSet)) {
      assertThat(csi(workload).path("csi.cert-manager.io/issuer-name").asText())
          .isEqualTo(the("Issuer", "lockstep-ca").path("metadata").path("name").asText());
      String certs = mountPath(workload, "certs");
      assertThat(List.of(collector.tls().cert(), collector.tls().key(), collector.tls().ca()))
          .allSatisfy(p -> assertThat(p.toString()).startsWith(certs + "/"));
      assertThat(List.of(agent.collector().certFile(), agent.collector().keyFile(), agent.collector().caFile()))
          .allSatisfy(p -> assertThat(p.toString()).startsWith(certs + "/"));
    }
  }

  @Test
  void everyPathTheProcessesWriteIsAWritableMountAndTheAgentRunsAsNonRootWithProbesAndPriority(@TempDir Path tmp)
      throws Exception {
    JsonNode statefulSet = the("StatefulSet", "lockstep-collector");
    JsonNode daemonSet = the("DaemonSet", "lockstep-agent");
    for (JsonNode workload : List.of(statefulSet, daemonSet)) {
      JsonNode c = container(workload);
      assertThat(c.path("securityContext").path("readOnlyRootFilesystem").asBoolean()).isTrue();
      Set<String> writable = new TreeSet<>();
      c.path("volumeMounts").forEach(m -> {
        if (!m.path("readOnly").asBoolean(false)) {
          writable.add(m.path("mountPath").asText());
        }
      });
      assertThat(writable).as("java.io.tmpdir (RocksDB's native library, JVM files)").contains("/tmp");
      for (JsonNode probe : List.of(c.path("livenessProbe"), c.path("readinessProbe"), c.path("startupProbe"))) {
        assertThat(probe.isObject()).as("%s probes", workload.path("kind").asText()).isTrue();
      }
      assertThat(c.path("resources").path("requests").path("memory").asText()).isNotEmpty();
      assertThat(c.path("resources").path("limits").path("memory").asText()).isNotEmpty();
      JsonNode pod = workload.path("spec").path("template").path("spec");
      assertThat(pod.path("securityContext").path("runAsNonRoot").asBoolean()).isTrue();
      assertThat(c.path("securityContext").path("capabilities").path("drop").toString()).contains("ALL");
      Set<String> volumes = new TreeSet<>();
      pod.path("volumes").forEach(v -> volumes.add(v.path("name").asText()));
      workload.path("spec").path("volumeClaimTemplates").forEach(v -> volumes.add(v.path("metadata").path("name").asText()));
      c.path("volumeMounts").forEach(m -> assertThat(volumes).contains(m.path("name").asText()));
    }
    // The collector's data_dir (RocksDB, alert log) is its persistent volume.
    Map<String, String> configs = new TreeMap<>();
    objects.stream().filter(o -> o.path("kind").asText().equals("ConfigMap"))
        .forEach(cm -> cm.path("data").fields().forEachRemaining(e -> configs.put(e.getKey(), e.getValue().asText())));
    CollectorConfig collector = CollectorConfig.load(
        Files.writeString(tmp.resolve("collector.yaml"), configs.get("collector.yaml")), Map.of());
    assertThat(collector.dataDir().toString()).isEqualTo(mountPath(statefulSet, "data"));
    // The agent writes its state, the stop file and golden-file retention on the node.
    AgentConfig agent = AgentConfig.load(Files.writeString(tmp.resolve("agent.yaml"), configs.get("agent.yaml")),
        Map.of("LOCKSTEP_AGENT_ID", "a", "LOCKSTEP_NODE_NAME", "n"));
    assertThat(agent.stateDir().toString()).isEqualTo(mountPath(daemonSet, "state"));
    assertThat(agent.stop().file().getParent().toString()).isEqualTo(mountPath(daemonSet, "aos"));
    assertThat(daemonSet.path("spec").path("template").path("spec").path("priorityClassName").asText())
        .isEqualTo(the("PriorityClass", "lockstep-agent").path("metadata").path("name").asText());
    assertThat(the("PriorityClass", "lockstep-agent").path("value").asLong()).isGreaterThanOrEqualTo(1_000_000);
    // The agent's memory request is its limit: it never exceeds its request, so it is evicted last.
    JsonNode resources = container(daemonSet).path("resources");
    assertThat(resources.path("requests").path("memory")).isEqualTo(resources.path("limits").path("memory"));
    assertThat(daemonSet.path("spec").path("template").path("spec").path("securityContext").path("runAsUser").asInt())
        .isPositive();
  }

  private static int port(JsonNode service, String name) {
    for (JsonNode p : service.path("spec").path("ports")) {
      if (p.path("name").asText().equals(name)) {
        return p.path("port").asInt();
      }
    }
    throw new AssertionError("no port " + name);
  }

  private static int containerPort(JsonNode workload, String name) {
    for (JsonNode p : container(workload).path("ports")) {
      if (p.path("name").asText().equals(name)) {
        return p.path("containerPort").asInt();
      }
    }
    throw new AssertionError("no container port " + name);
  }

  private static JsonNode csi(JsonNode workload) {
    for (JsonNode v : workload.path("spec").path("template").path("spec").path("volumes")) {
      if (v.path("csi").path("driver").asText().equals("csi.cert-manager.io")) {
        return v.path("csi").path("volumeAttributes");
      }
    }
    throw new AssertionError("no csi.cert-manager.io volume");
  }

  private static JsonNode env(JsonNode workload, String name) {
    for (JsonNode e : container(workload).path("env")) {
      if (e.path("name").asText().equals(name)) {
        return e;
      }
    }
    throw new AssertionError("no env " + name);
  }

  private static String mountPath(JsonNode workload, String volume) {
    for (JsonNode m : container(workload).path("volumeMounts")) {
      if (m.path("name").asText().equals(volume)) {
        return m.path("mountPath").asText();
      }
    }
    throw new AssertionError("no mount of " + volume);
  }
}
