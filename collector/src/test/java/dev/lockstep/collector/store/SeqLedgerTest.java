package dev.lockstep.collector.store;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lockstep.proto.v1.AgentNotice;
import dev.lockstep.proto.v1.Event;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class SeqLedgerTest {
  static List<Event> seqs(long... seqs) {
    List<Event> out = new ArrayList<>();
    for (long s : seqs) {
      out.add(Event.newBuilder().setSeq(s).setNotice(AgentNotice.newBuilder()
          .setKind(AgentNotice.Kind.RETENTION)).build());
    }
    return out;
  }

  static SeqLedger after(long... seqs) {
    SeqLedger l = new SeqLedger(0, 0, List.of());
    l.apply(l.plan(seqs(seqs)));
    return l;
  }

  @Test
  void newSeqsAreStoredAndStoredOnesAreDuplicates() {
    SeqLedger l = after(1, 2, 3);
    SeqLedger.Plan p = l.plan(seqs(2, 3, 4));
    assertThat(p.refusal()).isNull();
    assertThat(p.stored()).extracting(Event::getSeq).containsExactly(4L);
    assertThat(p.duplicates()).isEqualTo(2);
    assertThat(p.highWaterMark()).isEqualTo(4);
  }

  @Test
  void aSkippedSeqArrivingLateIsRefusedNamingIt() {
    SeqLedger l = after(1, 2, 5);
    SeqLedger.Plan p = l.plan(seqs(3));
    assertThat(p.refusal()).contains("event seq 3").contains("never stored").contains("3..4");
    assertThat(p.stored()).isEmpty();
    assertThat(l.plan(seqs(5)).refusal()).as("5 was stored: a duplicate").isNull();
    assertThat(l.plan(seqs(2)).refusal()).isNull();
  }

  @Test
  void aRefusalRefusesTheWholeBatchEvenItsNewSeqs() {
    SeqLedger l = after(1, 2, 5);
    SeqLedger.Plan p = l.plan(seqs(4, 6, 7));
    assertThat(p.refusal()).contains("event seq 4");
    assertThat(p.stored()).isEmpty();
    assertThat(p.highWaterMark()).isEqualTo(5);
  }

  @Test
  void gapsInsideOneBatchAndBeforeTheFirstSeqCount() {
    SeqLedger l = after(10, 12);
    assertThat(l.plan(seqs(1)).refusal()).contains("event seq 1").contains("1..9");
    assertThat(l.plan(seqs(11)).refusal()).contains("event seq 11");
    assertThat(l.plan(seqs(10, 12)).duplicates()).isEqualTo(2);
  }

  @Test
  void gapsSurviveEncoding() {
    SeqLedger l = after(1, 4, 9);
    SeqLedger back = SeqLedger.decode(9, l.encodeGaps());
    assertThat(back.plan(seqs(2)).refusal()).contains("event seq 2");
    assertThat(back.plan(seqs(7)).refusal()).contains("event seq 7");
    assertThat(back.plan(seqs(4)).refusal()).isNull();
    assertThat(SeqLedger.decode(9, null).plan(seqs(2)).refusal())
        .as("a store from before gaps were kept knows none").isNull();
  }

  @Test
  void gapsAfterAPlanAreOnlyEncodedWhenItSkipsSomething() {
    SeqLedger l = after(1);
    assertThat(l.gapsAfter(l.plan(seqs(2, 3)))).isNull();
    byte[] g = l.gapsAfter(l.plan(seqs(5)));
    assertThat(SeqLedger.decode(5, g).plan(seqs(3)).refusal()).contains("event seq 3");
    assertThat(l.plan(seqs(3)).refusal()).as("planning changed nothing").isNull();
  }

  @Test
  void beyondTheBoundTheOldestGapsAreForgottenAndRefusedBelowTheFloor() {
    SeqLedger l = new SeqLedger(0, 0, List.of());
    long seq = 0;
    for (int i = 0; i < SeqLedger.MAX_GAPS + 5; i++) {
      seq += 2;
      l.apply(l.plan(seqs(seq)));
    }
    // the first five gaps (1, 3, 5, 7, 9) were forgotten: everything up to 9 is refused
    assertThat(l.plan(seqs(2)).refusal()).contains("at or below 9");
    assertThat(l.plan(seqs(11)).refusal()).contains("event seq 11").contains("never stored");
    assertThat(l.plan(seqs(12)).refusal()).isNull();
    assertThat(SeqLedger.decode(seq, l.encodeGaps()).plan(seqs(4)).refusal()).contains("at or below 9");
  }
}
