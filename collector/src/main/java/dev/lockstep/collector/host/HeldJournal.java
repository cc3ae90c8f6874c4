package dev.lockstep.collector.host;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.lockstep.collector.core.Change;
import dev.lockstep.proto.store.v1.ResumedOrder;
import dev.lockstep.proto.v1.AuditEntry;
import dev.lockstep.proto.v1.StopOrder;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * The stop orders of transactions the store refused (a full disk, a RocksDB background error),
 * written to a file whose blocks were allocated in advance, so that writing them needs no free
 * space. Held transactions live in memory until the store takes writes again; without this file
 * a restart meanwhile lost an order an operator (or a mismatch) had issued and that agents had
 * already enacted: the store came back without it, and agents that were offline got RUNNING.
 *
 * <p>Records, from offset 0: {@code [int length][int crc32c][byte type][payload]}; a zero length
 * ends them. Types: 1 a {@link StopOrder} put, 2 a {@link ResumedOrder}, 3 a counter ({@code
 * [long value][name]}), 4 the {@link AuditEntry} of an order (who issued, resumed or adopted
 * it: without it an order came back from a restart with no record of its author), kept when it
 * fits. Each append is forced to disk before the commit that held it returns, so
 * before any effect of that commit (the stop frames) is carried out. At start-up the records are
 * read back and committed to the store ({@link #replay}); the file is zeroed once the store holds
 * them. One owner: {@link StoreState}, under its lock on held transactions.
 */
final class HeldJournal implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(HeldJournal.class.getName());
  static final int SIZE = 1 << 20;
  private static final byte ORDER = 1;
  private static final byte RESUMED = 2;
  private static final byte COUNTER = 3;
  private static final byte AUDIT = 4;

  private final Path file;
  private final FileChannel channel;
  private int end;
  private boolean fullReported;

  private HeldJournal(Path file, FileChannel channel, int end) {
    this.file = file;
    this.channel = channel;
    this.end = end;
  }

  /**
   * Opens {@code file}, allocating its {@link #SIZE} bytes (zeros, forced) when it is shorter:
   * done at start-up, while there is room. Null, logged, when it cannot be made.
   */
  static HeldJournal open(Path file) {
    FileChannel ch = null;
    try {
      ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ,
          StandardOpenOption.WRITE);
      if (ch.size() < SIZE) {
        ByteBuffer zeros = ByteBuffer.allocate(64 << 10);
        for (long at = ch.size(); at < SIZE; ) {
          zeros.clear().limit((int) Math.min(zeros.capacity(), SIZE - at));
          at += ch.write(zeros, at);
        }
        ch.force(true);
        fsyncDir(file.toAbsolutePath().getParent());
      }
      HeldJournal j = new HeldJournal(file, ch, 0);
      j.end = j.scan(null);
      return j;
    } catch (IOException e) {
      if (ch != null) {
        try {
          ch.close();
        } catch (IOException ignored) {
          // reporting the first failure
        }
      }
      LOG.log(System.Logger.Level.ERROR, "cannot allocate " + file + " (" + e.getMessage() + "):"
          + " a stop order issued while the store refuses writes will not survive a restart");
      return null;
    }
  }

  private static void fsyncDir(Path dir) {
    if (dir == null) return;
    try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
      d.force(true);
    } catch (IOException e) {
      // some file systems cannot open a directory for sync; the file itself was forced
    }
  }

  /** Audit actions that issue, resume or adopt an order: the ones whose entries are kept. */
  private static final java.util.Set<String> ORDER_ACTIONS =
      java.util.Set.of("EnableStop", "ResumeStop", "AutoStop", "StopAdopted");

  /** Whether this journal must keep {@code c}: an order, a resume, a counter. */
  private static boolean essential(Change c) {
    return c instanceof Change.PutOrder || c instanceof Change.ResumeOrder
        || c instanceof Change.PutCounter;
  }

  /**
   * Whether {@code c} is the audit entry of an order (who issued, resumed or adopted it). Only
   * those: every agent's StopConfirmed during an outage (10,000 at a fleet stop), or the incident
   * and remediation entries of a batch of 500 events, would fill the journal before the next order.
   */
  private static boolean orderAudit(Change c) {
    return c instanceof Change.Audit a && ORDER_ACTIONS.contains(a.entry().getAction());
  }

  /**
   * Appends the orders, resumes and counters of one held transaction, with the audit entries of
   * its orders when they fit too, and forces them to disk. False (logged once until the journal is
   * cleared) when the orders do not fit or the write failed.
   */
  boolean append(List<Change> changes) {
    List<byte[]> records = new ArrayList<>();
    List<byte[]> audits = new ArrayList<>();
    for (Change c : changes) {
      if (essential(c)) {
        records.add(record(c));
      } else if (orderAudit(c)) {
        audits.add(record(c));
      }
    }
    if (records.isEmpty()) return true;
    int size = size(records);
    if (end + size + size(audits) + 4 <= SIZE) {
      records.addAll(audits);
      size += size(audits);
    } else if (!audits.isEmpty()) {
      LOG.log(System.Logger.Level.WARNING, file + ": no room for the audit entries of held orders;"
          + " the orders themselves are kept");
    }
    if (end + size + 4 > SIZE) {
      if (!fullReported) {
        fullReported = true;
        LOG.log(System.Logger.Level.ERROR, file + " is full (" + SIZE + " bytes of held stop orders):"
            + " orders issued from now until the store takes writes again will not survive a restart");
      }
      return false;
    }
    try {
      ByteBuffer all = ByteBuffer.allocate(size);
      for (byte[] r : records) all.put(r);
      all.flip();
      int at = end;
      while (all.hasRemaining()) at += channel.write(all, at);
      channel.force(false);
      end = at;
      return true;
    } catch (IOException e) {
      LOG.log(System.Logger.Level.ERROR, "cannot write held stop orders to " + file + ": " + e);
      return false;
    }
  }

  private static int size(List<byte[]> records) {
    int n = 0;
    for (byte[] r : records) n += r.length;
    return n;
  }

  private static byte[] record(Change c) {
    byte type;
    byte[] payload;
    if (c instanceof Change.PutOrder o) {
      type = ORDER;
      payload = o.order().toByteArray();
    } else if (c instanceof Change.ResumeOrder r) {
      type = RESUMED;
      payload = r.resumed().toByteArray();
    } else if (c instanceof Change.Audit a) {
      type = AUDIT;
      payload = a.entry().toByteArray();
    } else {
      Change.PutCounter k = (Change.PutCounter) c;
      byte[] name = k.name().getBytes(StandardCharsets.UTF_8);
      payload = ByteBuffer.allocate(8 + name.length).putLong(k.value()).put(name).array();
      type = COUNTER;
    }
    ByteBuffer b = ByteBuffer.allocate(9 + payload.length);
    b.putInt(1 + payload.length).putInt(0).put(type).put(payload);
    CRC32C crc = new CRC32C();
    crc.update(b.array(), 8, 1 + payload.length);
    b.putInt(4, (int) crc.getValue());
    return b.array();
  }

  /** The changes recorded, in order (a torn or corrupt record ends them). */
  List<Change> read() throws IOException {
    List<Change> out = new ArrayList<>();
    scan(out);
    return out;
  }

  /** Reads records into {@code out} (when not null); returns the offset after the last good one. */
  private int scan(List<Change> out) throws IOException {
    ByteBuffer all = ByteBuffer.allocate(SIZE);
    int at = 0;
    while (all.hasRemaining()) {
      int n = channel.read(all, at);
      if (n < 0) break;
      at += n;
    }
    all.flip();
    int pos = 0;
    while (pos + 8 <= all.limit()) {
      int len = all.getInt(pos);
      if (len <= 0 || pos + 8 + len > all.limit()) break;
      CRC32C crc = new CRC32C();
      crc.update(all.array(), pos + 8, len);
      if ((int) crc.getValue() != all.getInt(pos + 4)) {
        LOG.log(System.Logger.Level.WARNING, file + ": a torn record at offset " + pos
            + " ends the held stop orders read back");
        break;
      }
      if (out != null) {
        try {
          out.add(change(all.get(pos + 8), java.util.Arrays.copyOfRange(all.array(), pos + 9, pos + 8 + len)));
        } catch (InvalidProtocolBufferException | RuntimeException e) {
          throw new IOException(file + ": unreadable record at offset " + pos + ": " + e.getMessage(), e);
        }
      }
      pos += 8 + len;
    }
    return pos;
  }

  private static Change change(byte type, byte[] payload) throws InvalidProtocolBufferException {
    return switch (type) {
      case ORDER -> new Change.PutOrder(StopOrder.parseFrom(payload));
      case RESUMED -> new Change.ResumeOrder(ResumedOrder.parseFrom(payload));
      case AUDIT -> new Change.Audit(AuditEntry.parseFrom(payload));
      case COUNTER -> {
        ByteBuffer b = ByteBuffer.wrap(payload);
        long value = b.getLong();
        yield new Change.PutCounter(new String(payload, 8, payload.length - 8, StandardCharsets.UTF_8), value);
      }
      default -> throw new IllegalArgumentException("unknown record type " + type);
    };
  }

  /** Whether records are waiting to be committed to the store. */
  boolean isEmpty() {
    return end == 0;
  }

  /** Zeroes the records (the store holds them now) and forces it. */
  void clear() {
    if (end == 0) return;
    try {
      ByteBuffer zeros = ByteBuffer.allocate(end);
      int at = 0;
      while (zeros.hasRemaining()) at += channel.write(zeros, at);
      channel.force(false);
      end = 0;
      fullReported = false;
    } catch (IOException e) {
      LOG.log(System.Logger.Level.ERROR, "cannot clear " + file + " (" + e + "); its orders are"
          + " committed to the store again at the next start, which changes nothing");
    }
  }

  @Override
  public void close() {
    try {
      channel.close();
    } catch (IOException e) {
      LOG.log(System.Logger.Level.WARNING, "closing " + file + ": " + e);
    }
  }
}
