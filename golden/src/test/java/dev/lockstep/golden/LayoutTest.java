package dev.lockstep.golden;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The layout of a canonical document finds every large container's end, and no other. */
class LayoutTest {
  @Test
  void theCanonicalLayoutHasTheEndOfEveryContainerOfAtLeastItsSize() throws Exception {
    Random r = new Random(20261202L);
    for (int t = 0; t < 500; t++) {
      Map<String, Object> doc = new LinkedHashMap<>();
      doc.put("run_id", "r");
      doc.put("data", Gen.value(r, 0));
      doc.put("golden", Gen.golden(r, r.nextInt(4)));
      byte[] s = Golden.canonicalBytes(Gen.bytes(doc, Gen.Style.random(r)), "p", GoldenConfig.DEFAULT, false);
      int big = 1 + r.nextInt(r.nextBoolean() ? 16 : 400);
      Layout layout = Layout.ofCanonical(s, s.length, big);
      int containers = 0;
      for (int p = 0; p < s.length; p++) {
        if (s[p] == '"') {
          int e = JsonBytes.stringEnd(s, p, s.length);
          p = (e < 0 ? ~e : e) - 1;
          continue;
        }
        if (s[p] == '{' || s[p] == '[') {
          int end = JsonBytes.containerEnd(s, p, s.length);
          assertThat(layout.end(p)).as("container at %d of %s", p, new String(s, java.nio.charset.StandardCharsets.UTF_8))
              .isEqualTo(end - p >= big ? end : -1);
          containers += end - p >= big ? 1 : 0;
        }
      }
      assertThat(layout.size()).isEqualTo(containers);
    }
  }
}
