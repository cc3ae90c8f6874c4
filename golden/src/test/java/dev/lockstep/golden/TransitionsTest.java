package dev.lockstep.golden;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * {@link Transitions} finds a step only for the same state and the same name bytes, and then
 * gives what was remembered for it: many names that share their first eight bytes (and their last
 * byte, and their length), names longer than it remembers, names read from different offsets of
 * different arrays, states that collide in its table.
 */
class TransitionsTest {
  @Test
  void findsOnlyWhatWasRememberedForTheSameStateAndName() {
    Random r = new Random(20261202L);
    Transitions t = new Transitions();
    Map<String, long[]> remembered = new HashMap<>();
    String[] stems = {"", "a", "abcdefgh", "abcdefgh_", "abcdefghXYZ", "n".repeat(Transitions.MAX_NAME),
        "n".repeat(Transitions.MAX_NAME + 1), "\u00e9t\u00e9", "\ud83d\ude00"};
    int hits = 0;
    for (int i = 0; i < 200_000; i++) {
      long state = r.nextInt(4) == 0 ? r.nextLong() : 1L << r.nextInt(6);
      String name = stems[r.nextInt(stems.length)] + (r.nextBoolean() ? "" : Integer.toString(r.nextInt(40)));
      byte[] bytes = name.getBytes(StandardCharsets.UTF_8);
      int offset = r.nextInt(9);
      byte[] in = new byte[offset + bytes.length + r.nextInt(12)];
      r.nextBytes(in);
      System.arraycopy(bytes, 0, in, offset, bytes.length);
      String key = state + "/" + name;
      if (t.find(state, in, offset, bytes.length)) {
        hits++;
        long[] want = remembered.get(key);
        assertThat(want).as("found %s, never remembered", key).isNotNull();
        assertThat(t.to()).isEqualTo(want[0]);
        assertThat(t.accepted()).isEqualTo(want[1]);
      } else {
        long next = r.nextLong();
        long accepted = r.nextLong();
        t.put(state, in, offset, bytes.length, next, accepted);
        if (bytes.length <= Transitions.MAX_NAME) {
          remembered.put(key, new long[] {next, accepted});
        } else {
          remembered.remove(key);
        }
      }
    }
    assertThat(hits).as("the table is used at all").isGreaterThan(10_000);
  }
}
