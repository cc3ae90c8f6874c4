package dev.lockstep.cli.fleet;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/** Follows an Operator list call's {@code next_page_token} until it runs out or {@code limit} items. */
final class Pages {
  private Pages() {}

  /** One page of a list call: its items and the token of the next page ("" when none). */
  record Page<T>(List<T> items, String nextToken) {}

  /** @param fetch fetches the page starting at a token ("" for the first page) */
  static <T> List<T> collect(int limit, Function<String, Page<T>> fetch) {
    List<T> all = new ArrayList<>();
    String token = "";
    while (true) {
      Page<T> page = fetch.apply(token);
      all.addAll(page.items());
      if (page.nextToken().isEmpty() || all.size() >= limit) {
        break;
      }
      token = page.nextToken();
    }
    return all.size() > limit ? all.subList(0, limit) : all;
  }
}
