package dev.lockstep.cli.fleet;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** Left-aligned columns separated by two spaces; the last column is not padded. */
final class Table {
  private final List<String> header;
  private final List<List<String>> rows = new ArrayList<>();

  Table(String... header) {
    this.header = List.of(header);
  }

  Table row(Object... cells) {
    if (cells.length != header.size()) {
      throw new IllegalArgumentException("expected " + header.size() + " cells, got " + cells.length);
    }
    List<String> row = new ArrayList<>(cells.length);
    for (Object c : cells) {
      row.add(c == null ? "" : String.valueOf(c).replace('\n', ' '));
    }
    rows.add(row);
    return this;
  }

  boolean isEmpty() {
    return rows.isEmpty();
  }

  void print(PrintWriter out) {
    int[] width = new int[header.size()];
    for (int i = 0; i < width.length; i++) {
      width[i] = header.get(i).length();
    }
    for (List<String> row : rows) {
      for (int i = 0; i < width.length; i++) {
        width[i] = Math.max(width[i], row.get(i).length());
      }
    }
    line(out, header, width);
    for (List<String> row : rows) {
      line(out, row, width);
    }
  }

  private static void line(PrintWriter out, List<String> cells, int[] width) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < cells.size(); i++) {
      String c = cells.get(i);
      sb.append(c);
      if (i < cells.size() - 1) {
        char[] pad = new char[width[i] - c.length() + 2];
        Arrays.fill(pad, ' ');
        sb.append(pad);
      }
    }
    out.println(sb.toString().stripTrailing());
  }
}
