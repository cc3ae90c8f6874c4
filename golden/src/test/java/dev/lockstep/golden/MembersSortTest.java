package dev.lockstep.golden;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * {@link Members#sort} puts names in RFC 8785 order and reports the same duplicate as sorting
 * completely and then comparing neighbours (what it did before it found duplicates while
 * inserting): small objects (insertion) and large ones (merge), names with escapes, names that
 * differ past their eighth byte, supplementary characters against U+E000..U+FFFF, several
 * duplicates in one object.
 */
class MembersSortTest {
  private static final String[] NAMES = {"a", "b", "ab", "abcdefgh", "abcdefghi", "abcdefghj", "abcdefgh\\u0069",
      "\\u0061", "\\ud83d\\ude00", "\ud83d\ude00", "\ue000", "\\ue000", "\uffff", "\u00e9", "\\u00e9", "", "z",
      "k\\\"q", "tab\\t", "\\/", "/", "id", "index", "\u20ac", "\\u20ac"};

  @Test
  void sortsAndFindsTheSameDuplicateAsAFullSortThenAScan() {
    Random r = new Random(20261202L);
    for (int t = 0; t < 20_000; t++) {
      int n = r.nextInt(4) == 0 ? 17 + r.nextInt(20) : r.nextInt(17);
      List<String> picked = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        picked.add(NAMES[r.nextInt(NAMES.length)]);
      }
      StringBuilder text = new StringBuilder("xx");
      int[] start = new int[n];
      int[] end = new int[n];
      for (int i = 0; i < n; i++) {
        text.append('"');
        start[i] = text.toString().getBytes(StandardCharsets.UTF_8).length;
        text.append(picked.get(i));
        end[i] = text.toString().getBytes(StandardCharsets.UTF_8).length;
        text.append("\":0,");
      }
      byte[] src = text.toString().getBytes(StandardCharsets.UTF_8);
      Members m = new Members();
      int base = r.nextInt(3);
      for (int i = 0; i < base; i++) {
        m.push(src, 0, 0, false, 0); // members of an enclosing object
      }
      for (int i = 0; i < n; i++) {
        m.push(src, start[i], end[i], picked.get(i).indexOf('\\') >= 0, 0);
      }
      int dupe = m.sort(src, base, n);

      List<Integer> expected = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        expected.add(base + i);
      }
      Comparator<Integer> byName = (x, y) -> Integer.signum(CanonicalString.compareKeys(src, m.keyStart[x], m.keyEnd[x],
          m.escaped[x], src, m.keyStart[y], m.keyEnd[y], m.escaped[y]));
      expected.sort(byName); // stable, as both sorts are
      int expectedDupe = -1;
      for (int i = 1; i < n; i++) {
        if (byName.compare(expected.get(i - 1), expected.get(i)) == 0) {
          expectedDupe = Math.max(expected.get(i - 1), expected.get(i));
          break;
        }
      }
      List<Integer> actual = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        actual.add(m.order[base + i]);
      }
      assertThat(dupe).as("duplicate among %s", picked).isEqualTo(expectedDupe);
      assertThat(actual).as("order of %s", picked).isEqualTo(expected);
    }
  }
}
