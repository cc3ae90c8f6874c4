package dev.lockstep.agent.evidence;

import com.google.protobuf.ByteString;
import dev.lockstep.agent.config.AgentConfig;
import dev.lockstep.agent.logs.LogTailer;
import dev.lockstep.agent.probe.ProcFs;
import dev.lockstep.agent.watch.GoldenWatcher;
import dev.lockstep.proto.lite.v1.AgentFrame;
import dev.lockstep.proto.lite.v1.CaptureRequest;
import dev.lockstep.proto.lite.v1.EvidenceChunk;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Set;
import java.util.function.Supplier;

/**
 * Answers a CaptureRequest with evidence: the golden files of the named runs, tails of the watched
 * logs, and a system snapshot (ps_aux.txt, disk_usage.txt, memory.txt from /proc and statvfs).
 * Produces EvidenceChunk frames lazily (≤ 256 KiB of data each), so only one chunk is in memory;
 * the whole answer stays within the request's byte bound and ends with a {@code done} chunk.
 */
public final class EvidenceCapture {
  static final int CHUNK_BYTES = 256 * 1024;

  private final AgentConfig config;
  private final GoldenWatcher watcher;
  private final Supplier<List<Path>> logFiles;
  private final Clock clock;

  public EvidenceCapture(AgentConfig config, GoldenWatcher watcher, Supplier<List<Path>> logFiles, Clock clock) {
    this.config = config;
    this.watcher = watcher;
    this.logFiles = logFiles;
    this.clock = clock;
  }

  private record Artifact(String name, String kind, Path file, Supplier<byte[]> bytes) {}

  /** The frames answering a request, produced as they are pulled. */
  public Iterator<AgentFrame> answer(CaptureRequest req) {
    long budget = req.getMaxBytes() > 0 ? Math.min(req.getMaxBytes(), config.evidence().maxBytes()) : config.evidence().maxBytes();
    List<Artifact> artifacts = new ArrayList<>();
    Set<Path> golden = new LinkedHashSet<>();
    for (String run : req.getRunIdsList()) {
      golden.addAll(watcher.filesOfRun(run));
      for (Path dir : watcher.directories()) {
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
          for (Path f : ds) {
            if (!run.isEmpty() && f.getFileName().toString().contains(run) && watcher.isGoldenFile(f)) {
              golden.add(f.toAbsolutePath());
            }
          }
        } catch (IOException e) {
          // directory vanished
        }
      }
    }
    for (Path f : golden) {
      artifacts.add(new Artifact("golden/" + f.getFileName(), "golden", f, null));
    }
    if (req.getIncludeLogs()) {
      int lines = req.getLogTailLines() > 0 ? req.getLogTailLines() : config.evidence().defaultLogTailLines();
      for (Path log : logFiles.get()) {
        long cap = Math.min(budget, 8L << 20);
        artifacts.add(new Artifact("logs/" + log.getFileName(), "log", null, () -> {
          try {
            return LogTailer.tail(log, lines, cap);
          } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
          }
        }));
      }
    }
    if (req.getIncludeSnapshot()) {
      List<Path> disks = new ArrayList<>(config.disk().paths());
      disks.addAll(watcher.directories());
      artifacts.add(new Artifact("snapshot/ps_aux.txt", "snapshot", null,
          () -> ProcFs.psAux(clock.instant()).getBytes(StandardCharsets.UTF_8)));
      artifacts.add(new Artifact("snapshot/disk_usage.txt", "snapshot", null,
          () -> ProcFs.diskUsage(disks).getBytes(StandardCharsets.UTF_8)));
      artifacts.add(new Artifact("snapshot/memory.txt", "snapshot", null,
          () -> ProcFs.memory().getBytes(StandardCharsets.UTF_8)));
    }
    return new Chunks(req, artifacts, budget);
  }

  private static final class Chunks implements Iterator<AgentFrame> {
    private final CaptureRequest req;
    private final Iterator<Artifact> artifacts;
    private long budget;
    private Artifact current;
    private FileChannel channel;
    private byte[] bytes;
    private long size;
    private long offset;
    private MessageDigest sha;
    private boolean doneSent;

    Chunks(CaptureRequest req, List<Artifact> artifacts, long budget) {
      this.req = req;
      this.artifacts = artifacts.iterator();
      this.budget = budget;
    }

    @Override
    public boolean hasNext() {
      return !doneSent;
    }

    @Override
    public AgentFrame next() {
      if (doneSent) {
        throw new NoSuchElementException();
      }
      EvidenceChunk.Builder c = EvidenceChunk.newBuilder().setRequestId(req.getRequestId()).setIncidentId(req.getIncidentId());
      while (current == null) {
        if (!artifacts.hasNext()) {
          doneSent = true;
          return AgentFrame.newBuilder().setEvidence(c.setDone(true)).build();
        }
        Artifact a = artifacts.next();
        try {
          open(a);
        } catch (IOException | RuntimeException e) {
          closeCurrent();
          return frame(c.setName(a.name()).setKind(a.kind()).setLast(true).setError(
              e.getMessage() == null ? e.toString() : e.getMessage()));
        }
      }
      c.setName(current.name()).setKind(current.kind()).setOffset(offset);
      long limit = Math.min(size, offset + budget);
      int n = (int) Math.min(CHUNK_BYTES, limit - offset);
      byte[] data = new byte[Math.max(0, n)];
      try {
        if (channel != null) {
          ByteBuffer b = ByteBuffer.wrap(data);
          while (b.hasRemaining()) {
            if (channel.read(b, offset + b.position()) < 0) {
              break;
            }
          }
        } else {
          System.arraycopy(bytes, (int) offset, data, 0, n);
        }
      } catch (IOException e) {
        Artifact a = current;
        closeCurrent();
        return frame(c.setLast(true).setError(a.name() + ": " + e.getMessage()));
      }
      sha.update(data);
      offset += n;
      budget -= n;
      c.setData(ByteString.copyFrom(data));
      if (offset >= limit) {
        c.setLast(true).setTotalBytes(offset).setSha256("sha256:" + HexFormat.of().formatHex(sha.digest()))
            .setTruncated(offset < size);
        closeCurrent();
      }
      return frame(c);
    }

    private static AgentFrame frame(EvidenceChunk.Builder c) {
      return AgentFrame.newBuilder().setEvidence(c).build();
    }

    private void open(Artifact a) throws IOException {
      current = a;
      offset = 0;
      try {
        sha = MessageDigest.getInstance("SHA-256");
      } catch (NoSuchAlgorithmException e) {
        throw new IllegalStateException(e);
      }
      if (a.file() != null) {
        channel = dev.lockstep.agent.internal.RegularFiles.open(a.file()); // no symlink, FIFO or device
        size = channel.size();
      } else {
        bytes = a.bytes().get();
        size = bytes.length;
      }
    }

    private void closeCurrent() {
      current = null;
      bytes = null;
      if (channel != null) {
        try {
          channel.close();
        } catch (IOException e) {
          // read-only
        }
        channel = null;
      }
    }
  }
}
